"""``purenet train``: the files it writes, resuming, Ctrl-C, divergence, --out, and --help.

Runs are tiny (8 hidden units, 512 training images) so that each takes a
second or two; the 10,000 test images evaluated at the end of a finished
run cost the most.  A run is interrupted deterministically by raising
KeyboardInterrupt from the progress callback (what Ctrl-C does, at a
chosen moment), and once for real with SIGINT in a subprocess.
"""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from purenet import cli, metrics
from purenet.commands import train as train_command
from purenet.mnist import load_mnist
from purenet.model_io import FORMAT, FORMAT_VERSION, load_model
from purenet import speed
from purenet import train as train_module
from purenet.commands._run_dir import load_checkpoint, save_checkpoint
from purenet.commands._signals import stop_signals_wait
from purenet.train import TrainConfig, new_state, train_epoch_

REPO = Path(__file__).resolve().parents[1]

# 512 images in batches of 64: 8 steps per epoch
SMALL = ["--hidden", "8", "--limit", "512", "--val-size", "500", "--batch-size", "64",
         "--epochs", "2", "--seed", "3"]
SMALL_HYPERPARAMETERS = {"sizes": [784, 8, 10], "lr": 0.2, "momentum": 0.9, "batch_size": 64,
                         "epochs": 2, "schedule": "cosine", "seed": 3,
                         "train_examples": 512, "val_size": 500}


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def read(path: Path) -> Dict:
    return json.loads(path.read_text())


def messages(stderr: str) -> List[str]:
    """purenet's own lines on stderr (the rest are progress lines)."""
    return [line for line in stderr.splitlines() if line.startswith("purenet")]


def assert_one_error_line(stderr: str, start: str) -> str:
    assert "Traceback" not in stderr
    found = messages(stderr)
    assert len(found) == 1, stderr
    assert found[0] == stderr.splitlines()[-1]
    assert found[0].startswith(start), found[0]
    return found[0]


def without_seconds(history: List[Dict]) -> List[Dict]:
    return [{k: v for k, v in entry.items() if k != "seconds"} for entry in history]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    """Two epochs without a break: the reference for the other tests (do not modify it)."""
    out = tmp_path_factory.mktemp("straight") / "run"
    done = purenet("train", *SMALL, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done


# --- what a run writes ---------------------------------------------------------------

def test_a_run_saves_a_model_with_format_sizes_hyperparameters_history_and_weights(straight_run):
    out, done = straight_run
    model = read(out / "model.json")
    assert model["format"] == FORMAT == "purenet-model"
    assert model["format_version"] == FORMAT_VERSION == 1
    assert model["sizes"] == [784, 8, 10]
    hyper = model["hyperparameters"]
    assert {k: hyper[k] for k in SMALL_HYPERPARAMETERS} == SMALL_HYPERPARAMETERS
    assert f"test accuracy {hyper['test']['accuracy']:.4f}" in done.stdout
    assert [entry["epoch"] for entry in model["history"]] == [1, 2]
    for entry in model["history"]:
        assert set(entry) >= {"epoch", "lr", "train_loss", "train_accuracy", "val_accuracy",
                              "seconds", "train_examples"}
        # the line printed after each epoch is the history entry's
        assert train_command.epoch_line(entry, 2) in done.stdout.splitlines()
    assert model["training_state"] is None
    loaded = load_model(str(out / "model.json"))
    assert loaded.params.sizes == (784, 8, 10)
    assert loaded.params.W1 == model["params"]["W1"]


def test_the_test_figures_saved_are_those_of_the_saved_weights_on_the_test_set(straight_run):
    # accuracy and macro F1 (the mean of the 10 digits' F1, not the mean weighted by
    # each digit's support: the two differ here) of the model's own answers
    out, _ = straight_run
    model = load_model(str(out / "model.json"))
    test = load_mnist("test")
    predicted = speed.predict_labels(model.params, test.images)
    report = metrics.classification_report(test.labels, predicted, 10)
    assert model.hyperparameters["test"]["accuracy"] == report.accuracy
    assert model.hyperparameters["test"]["macro_f1"] == report.macro.f1 != report.weighted.f1
    assert model.test_predictions.predicted == predicted


def test_the_last_checkpoint_holds_the_final_weights_and_how_to_go_on(straight_run):
    out, _ = straight_run
    checkpoint, model = read(out / "checkpoint.json"), read(out / "model.json")
    assert checkpoint["format"] == "purenet-model" and checkpoint["format_version"] == 1
    assert checkpoint["hyperparameters"] == SMALL_HYPERPARAMETERS
    assert checkpoint["params"] == model["params"]
    assert checkpoint["history"] == model["history"]
    state = checkpoint["training_state"]
    assert (state["epoch"], state["step"]) == (2, 16)
    assert set(state["velocity"]) == {"W1", "b1", "W2", "b2"}
    assert len(state["rng_state"][1]) == 625  # the Mersenne Twister's state words


def test_a_checkpoint_round_trip_is_exact_and_continues_as_if_never_stopped(tmp_path):
    mnist = load_mnist("train")
    images, labels = mnist.images[:96], mnist.labels[:96]
    config = TrainConfig(sizes=(784, 4, 10), batch_size=32, epochs=3, seed=1)
    engine = speed.engine(1)(images, labels)
    state = new_state(config)
    state.history.append(train_epoch_(state, config, engine, len(images)))
    assert any(v != 0.0 for v in state.velocity.b1)  # not the trivial all-zero velocity
    hyperparameters = {**config.to_dict(), "train_examples": 96, "val_size": 1}
    save_checkpoint(str(tmp_path), hyperparameters, state)

    config2, state2, saved = load_checkpoint(str(tmp_path))
    assert config2 == config
    assert saved == hyperparameters
    assert state2.params == state.params      # every float equal, bit for bit
    assert state2.velocity == state.velocity
    assert state2.rng_state == state.rng_state
    assert (state2.epoch, state2.step, state2.history) == (1, 3, state.history)

    train_epoch_(state, config, engine, len(images))
    train_epoch_(state2, config, engine, len(images))
    assert state2.params == state.params
    assert state2.velocity == state.velocity


# --- what a run trains on, and with what --------------------------------------------

def tiny_train(data: Path, out: Path, *flags: str) -> int:
    """purenet train in this process, on tiny_data's 400 training images (100 test images)."""
    return cli.main(["train", "--hidden", "4", "--batch-size", "10", "--epochs", "1",
                     "--data-dir", str(data), "--no-verify", "--out", str(out), *flags])


def test_the_run_trains_on_the_first_images_and_validates_on_the_last_val_size(
        tiny_data, tmp_path, monkeypatch):
    # Validation images are never trained on, with --limit or without, and a
    # resumed run keeps the split it started with.
    data = load_mnist("train", str(tiny_data), verify=False)
    splits = []
    real_fit = train_command.fit

    def recording_fit(config, state, images, labels, val_images, val_labels, **kwargs):
        splits.append((images, labels, val_images, val_labels))
        return real_fit(config, state, images, labels, val_images, val_labels, **kwargs)

    monkeypatch.setattr(train_command, "fit", recording_fit)
    last_50 = (data.images[350:], data.labels[350:])
    assert tiny_train(tiny_data, tmp_path / "limited", "--limit", "100", "--val-size", "50") == 0
    assert splits[-1] == (data.images[:100], data.labels[:100], *last_50)
    assert tiny_train(tiny_data, tmp_path / "all", "--val-size", "50") == 0
    assert splits[-1] == (data.images[:350], data.labels[:350], *last_50)
    assert cli.main(["train", "--resume", str(tmp_path / "limited"), "--epochs", "2",
                     "--data-dir", str(tiny_data), "--no-verify"]) == 0
    assert splits[-1] == (data.images[:100], data.labels[:100], *last_50)


def params_close(a, b, rel: float = 1e-10) -> bool:
    """Every entry of W1, b1, W2, b2 within rel of b's largest entry of that array."""
    for name in ("W1", "b1", "W2", "b2"):
        u, v = getattr(a, name), getattr(b, name)
        if name in ("W1", "W2"):
            u, v = [x for row in u for x in row], [x for row in v for x in row]
        scale = max(abs(x) for x in v)
        if len(u) != len(v) or any(abs(x - y) > rel * scale for x, y in zip(u, v)):
            return False
    return True


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_momentum_given_is_the_momentum_the_run_trains_with(tiny_data, tmp_path, workers):
    # Four steps of 10 images with mu = 0.5 give train.PlainEngine's weights (the
    # textbook update, tests/test_train.py), and 0.9 (the default) others.
    data = load_mnist("train", str(tiny_data), verify=False)
    config = TrainConfig(sizes=(784, 4, 10), momentum=0.5, batch_size=10, epochs=1)
    textbook = train_module.fit(config, new_state(config), data.images[:40], data.labels[:40],
                                data.images[350:], data.labels[350:])
    runs = {}
    for mu in ("0.5", "0.9"):
        out = tmp_path / mu
        assert tiny_train(tiny_data, out, "--limit", "40", "--val-size", "50",
                          "--momentum", mu, "--workers", workers) == 0
        runs[mu] = out
    model = load_model(str(runs["0.5"] / "model.json"))
    assert model.hyperparameters["momentum"] == 0.5
    assert params_close(model.params, textbook.params)
    saved_config, saved_state, _ = load_checkpoint(str(runs["0.5"]))
    assert saved_config.momentum == 0.5
    assert params_close(saved_state.velocity, textbook.velocity)
    assert not params_close(load_model(str(runs["0.9"] / "model.json")).params, textbook.params)


# --- resume --------------------------------------------------------------------------

class InterruptIn:
    """A ProgressLine that presses Ctrl-C halfway through the given epoch."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def __call__(self, epochs):
        stop_epoch = self.epoch

        class Line:
            def update(self, p):
                if p.epoch == stop_epoch and 2 * p.done >= p.total:
                    raise KeyboardInterrupt

            def clear(self):
                pass

        return Line()


def test_resume_after_ctrl_c_gives_exactly_the_weights_of_an_uninterrupted_run(
        straight_run, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    # Halfway through epoch 2 the weights in memory have moved on, but the
    # checkpoint is still that of epoch 1.
    monkeypatch.setattr(train_command, "ProgressLine", InterruptIn(epoch=2))
    assert cli.main(["train", *SMALL, "--out", str(out)]) == 130
    assert capsys.readouterr().err == (
        f"purenet: interrupted during epoch 2; the checkpoint of epoch 1 is kept in "
        f"{out}/checkpoint.json; continue with: purenet train --resume {out}\n")
    assert read(out / "checkpoint.json")["training_state"]["epoch"] == 1
    assert not (out / "model.json").exists()

    done = purenet("train", "--resume", str(out))
    assert done.returncode == 0, done.stderr
    assert "resuming after epoch 1" in done.stdout
    resumed, straight = read(out / "model.json"), read(straight_run[0] / "model.json")
    assert resumed["params"] == straight["params"]  # exactly: floats are written as repr
    assert without_seconds(resumed["history"]) == without_seconds(straight["history"])
    assert resumed["hyperparameters"]["test"]["accuracy"] == \
        straight["hyperparameters"]["test"]["accuracy"]
    resumed_state = read(out / "checkpoint.json")["training_state"]
    assert resumed_state == read(straight_run[0] / "checkpoint.json")["training_state"]


@pytest.mark.parametrize("flag, value, theirs", [
    ("--lr", "0.1", "0.2"),
    ("--batch-size", "128", "64"),      # the default, but not this run's value
    ("--seed", "0", "3"),               # the default again
    ("--hidden", "512", "8"),
    ("--limit", "1000", "512"),
])
def test_resume_refuses_a_setting_other_than_the_checkpoints_naming_its_value(
        straight_run, flag, value, theirs):
    # Decided by whether the flag was given, not by comparing it with its default.
    out, _ = straight_run
    before = (out / "checkpoint.json").read_bytes()
    done = purenet("train", "--resume", str(out), flag, value)
    assert done.returncode == 2
    line = assert_one_error_line(done.stderr, "purenet: error: ")
    assert line.startswith(f"purenet: error: {flag} {value}: the run in {out} was started "
                           f"with {theirs}")
    assert (out / "checkpoint.json").read_bytes() == before


def test_resume_accepts_settings_equal_to_the_checkpoints(straight_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(straight_run[0], out)
    done = purenet("train", "--resume", str(out), "--lr", "0.2", "--seed", "3", "--hidden", "8")
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout


def test_resume_with_more_epochs_extends_the_run(straight_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(straight_run[0], out)
    done = purenet("train", "--resume", str(out), "--epochs", "3")
    assert done.returncode == 0, done.stderr
    assert [line[:11] for line in done.stdout.splitlines() if line.startswith("epoch")] == \
        ["epoch  3/3 "]
    model = read(out / "model.json")
    assert [e["epoch"] for e in model["history"]] == [1, 2, 3]
    assert model["hyperparameters"]["epochs"] == 3


def test_resume_refuses_as_many_epochs_as_are_done_and_an_out(straight_run):
    out, _ = straight_run
    done = purenet("train", "--resume", str(out), "--epochs", "2")
    assert done.returncode == 2
    assert_one_error_line(done.stderr, f"purenet: error: --epochs 2: the run in {out} has "
                                       "already finished 2 epochs")
    done = purenet("train", "--resume", str(out), "--out", str(out))
    assert done.returncode == 2
    assert_one_error_line(done.stderr, "purenet: error: --out cannot be used with --resume")


def test_resume_from_a_directory_without_a_checkpoint_is_one_line(tmp_path):
    done = purenet("train", "--resume", str(tmp_path))
    assert done.returncode == 1
    assert_one_error_line(done.stderr, f"purenet: error: {tmp_path}/checkpoint.json: no such")


def test_resume_from_a_damaged_rng_state_is_one_line_before_any_training(straight_run, tmp_path):
    checkpoint = read(straight_run[0] / "checkpoint.json")
    checkpoint["training_state"]["rng_state"][1] = checkpoint["training_state"]["rng_state"][1][:9]
    (tmp_path / "checkpoint.json").write_text(json.dumps(checkpoint))
    done = purenet("train", "--resume", str(tmp_path))
    assert done.returncode == 1
    assert_one_error_line(done.stderr, f"purenet: error: {tmp_path}/checkpoint.json: "
                                       f"training_state is damaged")
    assert done.stdout == ""


# --- Ctrl-C for real -------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT, a POSIX signal")
def test_ctrl_c_exits_130_naming_the_kept_checkpoint(tmp_path):
    out = tmp_path / "run"
    checkpoint = out / "checkpoint.json"
    # An epoch of 600 images at 32 hidden units takes a few tenths of a second
    # or more, while the test polls every 0.02 s, so the signal sent just after
    # checkpoint 1 appears lands in epoch 2.  SIGINT is
    # reset to its default in the child: a shell that starts pytest in the
    # background may have it ignored, and Python then raises no KeyboardInterrupt.
    child = subprocess.Popen(
        [sys.executable, "-m", "purenet", "train", "--hidden", "32", "--limit", "600",
         "--val-size", "300", "--epochs", "50", "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.02)
        kept = checkpoint.read_bytes()  # written atomically: complete once it exists
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130
    assert_one_error_line(
        stderr, f"purenet: interrupted during epoch 2; the checkpoint of epoch 1 is kept in "
                f"{out}/checkpoint.json; continue with: purenet train --resume {out}")
    assert checkpoint.read_bytes() == kept
    model = load_model(str(checkpoint))
    assert model.training_state["epoch"] == 1 and len(model.history) == 1
    epoch_lines = [line for line in stdout.splitlines() if line.startswith("epoch")]
    assert len(epoch_lines) == 1 and epoch_lines[0].startswith("epoch  1/50 ")
    assert not (out / "model.json").exists()


def test_a_ctrl_c_while_a_checkpoint_is_saved_takes_effect_when_it_is_saved():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with stop_signals_wait():
            signal.raise_signal(signal.SIGINT)
            finished.append("the save")
    assert finished == ["the save"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- divergence ------------------------------------------------------------------------

def test_a_diverging_run_stops_with_exit_1_naming_step_and_lr_and_saves_nothing(tmp_path):
    out = tmp_path / "run"
    done = purenet("train", *SMALL, "--lr", "1e6", "--out", str(out))
    assert done.returncode == 1
    line = assert_one_error_line(done.stderr, "purenet: error: the loss became ")
    assert "at step 2 (epoch 1, batch 2) with learning rate 1e+06" in line
    assert line.endswith("; nothing was saved")
    assert list(out.iterdir()) == []


def test_divergence_in_a_later_epoch_keeps_the_last_checkpoint_untouched(
        tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    saved = {}
    real_train_epoch = train_module.train_epoch_

    def blow_up_in_epoch_2(state, config, *args, **kwargs):
        if state.epoch == 1:
            saved["checkpoint"] = (out / "checkpoint.json").read_bytes()
            config = dataclasses.replace(config, lr=1e6)
        return real_train_epoch(state, config, *args, **kwargs)

    monkeypatch.setattr(train_module, "train_epoch_", blow_up_in_epoch_2)
    assert cli.main(["train", *SMALL, "--out", str(out)]) == 1
    line = assert_one_error_line(capsys.readouterr().err, "purenet: error: the loss became ")
    # eta_0 = 1e6 on a cosine schedule over 2 epochs: epoch 2 runs at eta_0 / 2
    assert "at step 10 (epoch 2, batch 2) with learning rate 500000" in line
    assert line.endswith(f"; the checkpoint of epoch 1 in {out}/checkpoint.json is kept")
    assert (out / "checkpoint.json").read_bytes() == saved["checkpoint"]
    assert not (out / "model.json").exists()


def test_a_diverging_overwrite_run_leaves_the_previous_good_model_alone(straight_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(straight_run[0], out)
    before = {name: (out / name).read_bytes() for name in ("model.json", "checkpoint.json")}
    done = purenet("train", *SMALL, "--lr", "1e6", "--out", str(out), "--overwrite")
    assert done.returncode == 1
    assert_one_error_line(done.stderr, "purenet: error: the loss became ")
    assert {name: (out / name).read_bytes() for name in before} == before


# --- --out ---------------------------------------------------------------------------

def test_an_out_that_is_a_file_is_a_usage_error(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    done = purenet("train", *SMALL, "--out", str(target))
    assert done.returncode == 2
    assert_one_error_line(done.stderr, f"purenet: error: --out {target}: is a file")
    assert target.read_text() == "mine\n"


def test_an_out_holding_a_run_is_refused_without_overwrite(straight_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(straight_run[0], out)
    before = {name: (out / name).read_bytes() for name in ("model.json", "checkpoint.json")}
    done = purenet("train", *SMALL, "--out", str(out))
    assert done.returncode == 2
    line = assert_one_error_line(done.stderr, f"purenet: error: --out {out}: already holds "
                                              f"checkpoint.json and model.json")
    assert f"--resume {out}" in line and "--overwrite" in line
    assert {name: (out / name).read_bytes() for name in before} == before


# --- --help ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", [name for name, _, _ in cli._available_commands()])
def test_help_of_every_subcommand_exits_0(name):
    done = purenet(name, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: purenet {name}")


def test_train_help_lists_every_hyperparameter_flag():
    done = purenet("train", "--help")
    assert done.returncode == 0
    for flag in ("--epochs", "--lr", "--momentum", "--batch-size", "--schedule", "--hidden",
                 "--seed", "--limit", "--val-size", "--out", "--resume", "--overwrite",
                 "--data-dir", "--no-verify"):
        assert flag in done.stdout



# --- one run per directory, and what killed runs leave behind ---------------------------

def test_the_lock_of_a_killed_run_is_taken_over_and_removed_at_the_end(straight_run, tmp_path):
    # A kill -9 leaves .lock naming a process that is gone: the next run may write there.
    out = tmp_path / "run"
    shutil.copytree(straight_run[0], out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.split()[0]
    (out / ".lock").write_text(f"{dead} {__import__('socket').gethostname()}\n")
    done = purenet("train", "--resume", str(out), "--epochs", "3")
    assert done.returncode == 0, done.stderr
    assert not (out / ".lock").exists()


def test_a_resumed_run_removes_what_a_killed_save_left(straight_run, tmp_path):
    # atomic.py names a save's temporary file .NAME.PID-RANDOM.tmp; a writer long gone
    # (its process no longer runs, the file a minute old) left it for good.
    out = tmp_path / "run"
    shutil.copytree(straight_run[0], out)
    leftover = out / ".checkpoint.json.999999999-0123456789abcdef.tmp"
    leftover.write_text("half a checkpoint")
    os.utime(leftover, (time.time() - 120, time.time() - 120))
    done = purenet("train", "--resume", str(out))
    assert done.returncode == 0, done.stderr
    assert not leftover.exists()
