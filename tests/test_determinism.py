"""Same seed, same weights, bit for bit: across runs, across a resume, across --workers.

Training draws its randomness from two seeded generators (he_init's for
the first weights, train.shuffle_rng's for the order of the examples)
and adds up gradients in a fixed order, so a run is a pure function of
its data, its flags and its seed.  Each test runs the real command line
on a tiny data set (the first 400 training and 100 test images of the
bundled MNIST; 784-8-10, 256 training images, 3 epochs of 2 batches) and
compares the saved weights as JSON text: floats are written as Python's
repr, the shortest text that reads back as the same float, so equal text
means equal bits (0.0 and -0.0 included).
"""

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from purenet.commands.train import CHECKPOINT, MODEL
from purenet.json_text import to_json_text
from purenet.model_io import load_model

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120
EPOCHS = 3


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=TIMEOUT)


def train_argv(data: Path, out: Path, *flags: str) -> List[str]:
    return ["train", "--hidden", "8", "--limit", "256", "--val-size", "100", "--epochs", str(EPOCHS),
            "--data-dir", str(data), "--no-verify", "--out", str(out), *flags]


def weights_text(path: Path) -> str:
    """W1, b1, W2, b2 of a saved model as JSON text (equal text: equal bits)."""
    params = load_model(str(path)).params
    return to_json_text([params.W1, params.b1, params.W2, params.b2])


def train(data: Path, out: Path, *flags: str) -> str:
    done = purenet(*train_argv(data, out, *flags))
    assert done.returncode == 0, done.stderr
    return weights_text(out / MODEL)


@pytest.fixture(scope="module")
def reference(tiny_data, tmp_path_factory) -> str:
    """The weights of a run with seed 0 that nobody interrupted."""
    return train(tiny_data, tmp_path_factory.mktemp("reference") / "out", "--seed", "0")


def test_the_same_seed_gives_bit_identical_weights(tiny_data, reference, tmp_path):
    assert train(tiny_data, tmp_path / "again", "--seed", "0") == reference


def test_another_seed_gives_other_weights(tiny_data, reference, tmp_path):
    # so that the test above compares something that can differ
    assert train(tiny_data, tmp_path / "seed1", "--seed", "1") != reference


def interrupt_after_first_checkpoint(data: Path, out: Path) -> int:
    """Start a run, press Ctrl-C once its first checkpoint is saved; the checkpoint's epoch."""
    run = subprocess.Popen([sys.executable, "-m", "purenet", *train_argv(data, out, "--seed", "0")], cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT
    while not (out / CHECKPOINT).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=TIMEOUT)
    assert run.returncode == 130, stderr
    return load_model(str(out / CHECKPOINT)).training_state["epoch"]


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tiny_data, reference, tmp_path):
    for attempt in range(3):
        out = tmp_path / f"attempt{attempt}"
        # an interruption after the last epoch would leave nothing to resume
        if interrupt_after_first_checkpoint(tiny_data, out) < EPOCHS:
            break
    else:
        pytest.fail(f"three runs all finished their {EPOCHS} epochs before Ctrl-C reached them")
    done = purenet("train", "--resume", str(out), "--data-dir", str(tiny_data), "--no-verify")
    assert done.returncode == 0, done.stderr
    assert "purenet: resuming after epoch" in done.stdout
    assert weights_text(out / MODEL) == reference


@pytest.mark.parametrize("workers", ["1", "2", "3"])
def test_any_number_of_workers_gives_the_serial_weights(tiny_data, reference, tmp_path, workers):
    assert train(tiny_data, tmp_path / "out", "--seed", "0", "--workers", workers) == reference
