"""An image with no lit pixel (all 0: impossible in MNIST, possible in a user's own data).

For a blank image x = 0, so z1 = W1 0 + b1 = b1: the hidden layer sees only
its biases, and the network still has an answer, p = softmax(W2 relu(b1)
+ b2).  evaluate, show and report must give exactly that answer; here it
is computed with network.predict, the plain path.  (Training on blank
images is tested with the training code.)

evaluate and report classify through purenet.speed, whose sparse first
layer sums over the lit pixels only; with none, it once returned z1 = []
instead of b1 (issue 13, bug 4), and evaluate counted the image as the
wrong digit (z2 = b2) or, on Python 3.12+, stopped with a ValueError.
"""

import gzip
import json
import math
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from purenet.matrix import argmax
from purenet.mnist import FILES, load_mnist
from purenet.model_io import Model, save_model
from purenet.network import he_init, predict, to_vector

REPO = Path(__file__).resolve().parents[1]
TEST_IMAGES, TEST_LABELS = FILES["test"]
BLANK = (0, 3)                       # the test images made blank


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def blank_data(tiny_data, tmp_path_factory) -> Path:
    """The tiny data set with test images 0 and 3 all zeros."""
    directory = tmp_path_factory.mktemp("blank") / "data"
    shutil.copytree(tiny_data, directory)
    path = directory / TEST_IMAGES
    raw = bytearray(gzip.decompress(path.read_bytes()))
    _, _, rows, cols = struct.unpack_from(">IIII", raw)
    for n in BLANK:
        start = 16 + n * rows * cols
        raw[start:start + rows * cols] = bytes(rows * cols)
    path.write_bytes(gzip.compress(bytes(raw), mtime=0))
    return directory


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A 784-6-10 model whose biases are not 0, so that z1 = b1 shows in the answer."""
    params = he_init((784, 6, 10), seed=5)
    params.b1 = [0.5, -0.25, 1.0, 0.75, -1.0, 2.0]   # z2 = W2 relu(b1): its largest is not z2_0
    params.b2 = [0.0] * 10
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(str(path), Model(params=params))
    return path, params


def expected(params, data_dir: Path, n: int):
    """(predicted digit, its p) for test image n, by network.predict."""
    image = load_mnist("test", str(data_dir), verify=False).images[n]
    p = predict(params, to_vector(image))
    return argmax(p), p


def test_the_blank_images_are_blank_and_the_answer_is_softmax_of_W2_relu_b1_plus_b2(blank_data, model):
    _, params = model
    data = load_mnist("test", str(blank_data), verify=False)
    assert [sum(data.images[n]) for n in BLANK] == [0, 0]
    assert sum(data.images[1]) > 0
    z2 = [sum(w * max(b, 0.0) for w, b in zip(row, params.b1)) + b2
          for row, b2 in zip(params.W2, params.b2)]
    k, p = expected(params, blank_data, 0)
    e = [math.exp(v) for v in z2]
    assert p == pytest.approx([v / sum(e) for v in e], rel=1e-12)
    assert k == argmax(z2) != 0          # not what z2 = b2 = 0 (the fast path's answer) gives


def test_show_draws_a_blank_image_and_the_networks_answer(blank_data, model):
    path, params = model
    done = purenet("show", "0", "--model", str(path), "--data-dir", str(blank_data), "--no-verify")
    assert done.returncode == 0, done.stderr
    art = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert art == ["|" + " " * 56 + "|"] * 28
    k, p = expected(params, blank_data, 0)
    assert f"prediction: {k} (p = {p[k]:.4f})" in done.stdout


def test_evaluate_counts_a_blank_image_as_the_network_answers_it(blank_data, model):
    path, params = model
    done = purenet("evaluate", str(path), "--data-dir", str(blank_data), "--no-verify",
                   "--limit", "5", "--json")
    assert done.returncode == 0, done.stderr
    data = load_mnist("test", str(blank_data), verify=False)
    confusion = [[0] * 10 for _ in range(10)]
    for n in range(5):
        confusion[data.labels[n]][expected(params, blank_data, n)[0]] += 1
    assert json.loads(done.stdout)["confusion_matrix"] == confusion


def test_report_ranks_a_blank_image_by_the_networks_answer(blank_data, model, tmp_path):
    from purenet.commands.report import predictions_for
    _, params = model
    data = load_mnist("test", str(blank_data), verify=False)
    predicted, p_predicted, _ = predictions_for(Model(params=params), data, 5, "model.json")
    for n in range(5):
        k, p = expected(params, blank_data, n)
        assert (predicted[n], p_predicted[n]) == (k, pytest.approx(p[k], rel=1e-12))


def test_the_report_command_writes_a_workbook_for_a_blank_image(blank_data, model, tmp_path):
    path, _ = model
    out = tmp_path / "report.xlsx"
    done = purenet("report", str(path), "--data-dir", str(blank_data), "--no-verify",
                   "--limit", "5", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert os.path.getsize(out) > 0
