"""``purenet evaluate`` run as a user runs it, in a subprocess, on a tiny
784-4-10 model and the first 50 test images."""

import json
import os
import subprocess
import sys

import pytest

from purenet.matrix import argmax
from purenet.metrics import classification_report, format_report
from purenet.mnist import load_mnist
from purenet.network import to_vector
from purenet.model_io import Model, save_model
from purenet.network import he_init, predict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 50


def purenet(*args):
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("models") / "tiny.json")
    params = he_init((784, 4, 10), seed=3)
    save_model(path, Model(params=params))
    return path, params


@pytest.fixture(scope="module")
def expected_report(tiny_model):
    """What evaluate should find, computed here straight from network.predict."""
    _, params = tiny_model
    data = load_mnist("test")
    predictions = [argmax(predict(params, to_vector(image))) for image in data.images[:LIMIT]]
    return classification_report(data.labels[:LIMIT], predictions, 10)


def test_json_output_holds_the_report_of_the_first_n_images(tiny_model, expected_report):
    path, _ = tiny_model
    result = purenet("evaluate", path, "--limit", str(LIMIT), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output == {"model": path, "sizes": [784, 4, 10], "set": "test",
                      **expected_report.to_dict()}
    assert output["n"] == LIMIT
    assert sum(map(sum, output["confusion_matrix"])) == LIMIT


def test_text_output_is_a_heading_then_the_table(tiny_model, expected_report):
    path, _ = tiny_model
    result = purenet("evaluate", path, "--limit", str(LIMIT), "--no-verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"model {path} (784-4-10), test set: {LIMIT} of 10000 images\n\n"
                             + format_report(expected_report) + "\n")
    assert result.stderr == ""


def test_train_set_counts_from_the_train_images(tiny_model):
    path, params = tiny_model
    result = purenet("evaluate", path, "--set", "train", "--limit", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = load_mnist("train")
    output = json.loads(result.stdout)
    assert output["set"] == "train"
    assert [c["support"] for c in output["per_class"]] == [
        data.labels[:3].count(k) for k in range(10)]


def one_line_error(result) -> str:
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("purenet: error: ")
    return lines[0]


def test_a_model_of_the_wrong_input_size_is_refused(tmp_path):
    path = str(tmp_path / "small.json")
    save_model(path, Model(params=he_init((20, 4, 10), seed=0)))
    message = one_line_error(purenet("evaluate", path, "--limit", "5"))
    assert message.endswith("small.json: model has input size 20, expected 784")


def test_a_model_of_the_wrong_output_size_is_refused(tmp_path):
    path = str(tmp_path / "three.json")
    save_model(path, Model(params=he_init((784, 4, 3), seed=0)))
    message = one_line_error(purenet("evaluate", path, "--limit", "5"))
    assert message.endswith("three.json: model has output size 3, expected 10")


def test_a_missing_model_file(tmp_path):
    message = one_line_error(purenet("evaluate", str(tmp_path / "none.json")))
    assert message.endswith("none.json: no such model file")


def test_a_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text('{"todo": ["train", "evaluate"]}')
    message = one_line_error(purenet("evaluate", str(path)))
    assert 'notes.json: not a purenet model (JSON without "format"' in message


def test_limit_must_be_positive(tiny_model):
    result = purenet("evaluate", tiny_model[0], "--limit", "0")
    assert result.returncode == 2
    assert "--limit: must be at least 1, got 0" in result.stderr
