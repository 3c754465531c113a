"""The test predictions a model file stores, and ``purenet report`` reusing them (issue 8).

``purenet train`` ends with one pass over the test set that gives both the
metrics it prints and, for each test image, the predicted digit k and its
probability p_k; model.json keeps them as ``test_predictions``, stamped with
the digests of the weights and of the test set (model_io.py).  ``purenet
report`` reuses them when both digests match what it loaded, and classifies
the images again otherwise.  The specification: the stored answers are
exactly a fresh pass's, the workbook is the same bytes either way, stale
answers are never used, and ``train --report`` classifies the test set once.

Everything runs on the tiny data of conftest.py (100 test images) and a
784-8-10 network trained for one epoch on 256 images.
"""

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from purenet import cli, metrics, speed
from purenet.commands import report as report_command
from purenet.speed import predict_with_confidence
from purenet.mnist import FILES, load_mnist
from purenet.model_io import load_model, write_json_atomic
from purenet.predictions import data_sha256, params_sha256, reuse_problem

REPO = Path(__file__).resolve().parents[1]
N_TEST = 100
TINY = ["--hidden", "8", "--limit", "256", "--val-size", "100", "--epochs", "1"]


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def data_args(directory: Path):
    return ["--data-dir", str(directory), "--no-verify"]


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory) -> Path:
    """model.json of a finished tiny run."""
    out = tmp_path_factory.mktemp("run")
    done = purenet("train", *TINY, *data_args(tiny_data), "--out", out, "--overwrite")
    assert done.returncode == 0, done.stderr
    return out / "model.json"


@pytest.fixture(scope="module")
def test_set(tiny_data):
    return load_mnist("test", str(tiny_data), verify=False)


def copy_with(model_file: Path, directory: Path, change) -> Path:
    """A copy of the model file named model.json in `directory`, its JSON changed by `change`."""
    directory.mkdir()
    document = json.loads(model_file.read_text())
    change(document)
    path = directory / "model.json"
    write_json_atomic(str(path), document)
    return path


def without_predictions(document) -> None:
    del document["test_predictions"]


# --- what train stores -----------------------------------------------------------------

def test_train_stores_exactly_what_a_fresh_pass_predicts(trained, test_set):
    model = load_model(str(trained))
    stored = model.test_predictions
    predicted, p_predicted = predict_with_confidence(model.params, test_set.images)
    assert len(stored.predicted) == N_TEST
    assert stored.predicted == predicted
    assert stored.p_predicted == p_predicted                  # bit for bit, after the file
    assert stored.params_sha256 == params_sha256(model.params)
    assert stored.data_sha256 == data_sha256(test_set.images, test_set.labels)
    assert reuse_problem(model, test_set.images, test_set.labels) is None
    # the accuracy train printed and recorded comes from the same answers
    report = metrics.classification_report(test_set.labels, stored.predicted, 10)
    assert model.hyperparameters["test"]["accuracy"] == report.accuracy
    assert 0 < report.accuracy < 1                             # some mistakes to draw


def test_a_checkpoint_holds_no_test_predictions(trained):
    assert load_model(str(trained.parent / "checkpoint.json")).test_predictions is None


# --- the report, both ways ------------------------------------------------------------------

def report(model_file: Path, out: Path, *extra: str) -> str:
    done = purenet("report", model_file, "--out", out, *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_report_is_the_same_bytes_from_stored_or_fresh_predictions(trained, tiny_data, tmp_path):
    pytest.importorskip("openpyxl")
    old = copy_with(trained, tmp_path / "old", without_predictions)
    stored_out, fresh_out = tmp_path / "stored.xlsx", tmp_path / "fresh.xlsx"
    said = report(trained, stored_out, *data_args(tiny_data))
    assert f"used the {N_TEST} test predictions stored in model.json at the end of training" in said
    assert "classified" not in said
    said = report(old, fresh_out, *data_args(tiny_data))
    assert f"classified {N_TEST} test images in " in said
    assert "(model.json holds no stored test predictions)" in said
    assert stored_out.read_bytes() == fresh_out.read_bytes()


def test_with_limit_the_first_stored_predictions_give_the_same_bytes(trained, tiny_data, tmp_path):
    pytest.importorskip("openpyxl")
    old = copy_with(trained, tmp_path / "old", without_predictions)
    stored_out, fresh_out = tmp_path / "stored.xlsx", tmp_path / "fresh.xlsx"
    assert "used the 40 test predictions stored" in \
        report(trained, stored_out, *data_args(tiny_data), "--limit", "40")
    assert "classified 40 test images" in report(old, fresh_out, *data_args(tiny_data), "--limit", "40")
    assert stored_out.read_bytes() == fresh_out.read_bytes()
    assert stored_out.read_bytes() != report_bytes(trained, tiny_data, tmp_path / "all.xlsx")


def report_bytes(model_file: Path, tiny_data: Path, out: Path) -> bytes:
    report(model_file, out, *data_args(tiny_data))
    return out.read_bytes()


def favour_digit_0(document) -> None:
    """Edited weights: b2_0 raised by 100, so the network answers 0 for nearly everything."""
    document["params"]["b2"][0] += 100.0


def test_predictions_of_edited_weights_are_ignored_and_recomputed(trained, tiny_data, tmp_path):
    pytest.importorskip("openpyxl")
    stale = copy_with(trained, tmp_path / "stale", favour_digit_0)
    bare = copy_with(trained, tmp_path / "bare",
                     lambda d: (favour_digit_0(d), without_predictions(d)))
    said = report(stale, tmp_path / "stale.xlsx", *data_args(tiny_data))
    assert "holds test predictions of other weights (params_sha256 differs" in said
    assert f"classified {N_TEST} test images" in said
    edited = (tmp_path / "stale.xlsx").read_bytes()
    assert edited == report_bytes(bare, tiny_data, tmp_path / "bare.xlsx")
    assert edited != report_bytes(trained, tiny_data, tmp_path / "trained.xlsx")


def test_predictions_of_other_test_images_are_ignored(trained, tiny_data, tmp_path):
    pytest.importorskip("openpyxl")
    other = tmp_path / "other"
    shutil.copytree(tiny_data, other)
    images = other / FILES["test"][0]
    raw = bytearray(gzip.decompress(images.read_bytes()))
    raw[16 + 14 * 28 + 14] ^= 1                        # one pixel in the middle of image 0
    images.write_bytes(gzip.compress(bytes(raw), mtime=0))
    said = report(trained, tmp_path / "r.xlsx", *data_args(other))
    assert "holds test predictions of other test images (data_sha256 differs)" in said
    assert f"classified {N_TEST} test images" in said


# --- train --report -------------------------------------------------------------------------

def test_train_with_report_classifies_the_test_set_once(tiny_data, tmp_path, monkeypatch, capsys):
    pytest.importorskip("openpyxl")
    passes = []

    def counted(params, images, kernel="auto"):
        passes.append(len(images))
        return predict_with_confidence(params, images, kernel)

    monkeypatch.setattr(speed, "predict_with_confidence", counted)
    monkeypatch.setattr(report_command, "predict_with_confidence", counted)
    out = tmp_path / "run"
    code = cli.main(["train", *TINY, *data_args(tiny_data), "--out", str(out), "--report"])
    assert code == 0
    assert passes == [N_TEST]
    said = capsys.readouterr().out
    assert f"used the {N_TEST} test predictions stored in model.json at the end of training" in said
    assert (out / "report.xlsx").exists()
