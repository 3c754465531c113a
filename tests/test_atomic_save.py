"""Saving a checkpoint survives kill -9 and a full disk: the file is the old one or the new one.

``model_io.write_json_atomic`` writes the whole text to a temporary file
beside the target, fsyncs it, then renames it over the target.  So at
every moment the target is a complete file: the old one until the
rename, the new one after.  These tests try to catch it out.

kill -9 (SIGKILL cannot be caught, so no clean-up code runs):

  * a writer process saves two real checkpoints, OLD and NEW, over the
    same path again and again, and is killed with SIGKILL at a random
    moment, KILLS times; each time the file on disk must be byte for
    byte OLD or NEW.  Building the JSON text takes longer than writing
    it on this machine's disk, so most random moments would fall before
    the temporary file even exists.  The writer therefore writes through
    a "slow disk" (4 KiB at a time with a 1 ms pause, in the writer
    process only), so that about half of the moments fall inside the
    write; the test requires that some did (a temporary file was left).
  * the real ``purenet train`` is killed at random moments of a run; its
    checkpoint must load, and ``--resume`` must then end with exactly the
    weights of a run that was never killed.

Disk full, simulated two ways:

  * in-process: the temporary file is created as usual but its writes go
    to /dev/full, where the kernel answers every write with ENOSPC ("No
    space left on device"), the real error a full disk gives;
  * the real command line on a tmpfs with 16 KiB free: see the "disk
    full" row of tests/test_catalogue.py.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from purenet import atomic, json_text
from purenet.commands.train import CHECKPOINT, MODEL
from purenet.model_io import ModelError
from purenet.model_io import load_model, save_model

REPO = Path(__file__).resolve().parents[1]
KILLS = 24                       # random-moment kills of the writer
CLI_KILLS = 2                    # random-moment kills of purenet train
TIMEOUT = 120
TINY = "--hidden 8 --limit 256 --val-size 100 --no-verify"

# Saves OLD once, says "ready", then saves NEW, OLD, NEW, ... until killed.
WRITER = r"""
import os, sys, time
from purenet import atomic, model_io
from purenet.model_io import load_model, save_model

path, old_path, new_path = sys.argv[1:]
old, new = load_model(old_path), load_model(new_path)


class SlowDisk:
    '''A file whose writes go out 4 KiB at a time with a pause, like a slow USB stick.'''
    def __init__(self, f):
        self.f = f
    def write(self, data):
        for i in range(0, len(data), 4096):
            self.f.write(data[i:i + 4096])
            self.f.flush()
            time.sleep(0.001)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.f.__exit__(*exc)
    def __getattr__(self, name):
        return getattr(self.f, name)


real_fdopen = os.fdopen
atomic.os.fdopen = lambda fd, mode: SlowDisk(real_fdopen(fd, mode))
save_model(path, old)
print("ready", flush=True)
while True:
    save_model(path, new)
    save_model(path, old)
"""


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=TIMEOUT)


def weights_text(path: Path) -> str:
    """W1, b1, W2, b2 as JSON text: floats are written as repr, so equal text means equal bits."""
    params = load_model(str(path)).params
    return json_text.to_json_text([params.W1, params.b1, params.W2, params.b2])


def temporaries(directory: Path) -> List[Path]:
    """Temporary files write_json_atomic left behind (named .NAME.RANDOM.tmp)."""
    return [p for p in directory.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def reference(tiny_data, tmp_path_factory) -> Path:
    """A tiny run of 4 epochs that nobody interrupted."""
    out = tmp_path_factory.mktemp("reference") / "out"
    done = purenet("train", *TINY.split(), "--epochs", "4", "--data-dir", str(tiny_data), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def old_and_new(tiny_data, reference, tmp_path_factory) -> Dict[str, bytes]:
    """Two real checkpoints (after epoch 1 of a run, and the reference's after epoch 4),
    as the writer will write them: load_model, then save_model."""
    root = tmp_path_factory.mktemp("checkpoints")
    done = purenet("train", *TINY.split(), "--epochs", "1", "--data-dir", str(tiny_data), "--out", str(root / "one"))
    assert done.returncode == 0, done.stderr
    saved = {}
    for name, run in (("old", root / "one"), ("new", reference)):
        save_model(str(root / f"{name}.json"), load_model(str(run / CHECKPOINT)))
        saved[name] = (root / f"{name}.json").read_bytes()
    assert saved["old"] != saved["new"]
    return saved


def kill_writer_at_random(directory: Path, old_path: Path, new_path: Path, delay: float) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(directory / CHECKPOINT), str(old_path),
                               str(new_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "ready\n", writer.stderr.read()
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.communicate(timeout=TIMEOUT)
    assert writer.returncode == -signal.SIGKILL


def test_kill_9_at_random_moments_of_a_save_leaves_the_old_or_the_new_file(old_and_new, tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    for name, data in old_and_new.items():
        (sources / f"{name}.json").write_bytes(data)
    rng = random.Random(7)
    found: Dict[str, int] = {"old": 0, "new": 0, "corrupt": 0}
    mid_write = partial = 0
    for k in range(KILLS):
        directory = tmp_path / f"kill{k:02d}"
        directory.mkdir()
        kill_writer_at_random(directory, sources / "old.json", sources / "new.json", rng.uniform(0.0, 0.3))
        on_disk = (directory / CHECKPOINT).read_bytes()
        kind = next((name for name, data in old_and_new.items() if on_disk == data), "corrupt")
        found[kind] += 1
        left = temporaries(directory)
        mid_write += bool(left)
        partial += any(p.stat().st_size < len(old_and_new["new"]) for p in left)
        if kind != "corrupt":
            load_model(str(directory / CHECKPOINT))
    print(f"\nkill -9 of a checkpoint writer: {KILLS} kills, old file {found['old']}, new file "
          f"{found['new']}, corrupt {found['corrupt']}; {mid_write} kills landed while a temporary "
          f"file existed, {partial} of them with it partly written")
    assert found["corrupt"] == 0
    assert found["old"] + found["new"] == KILLS
    assert mid_write >= 1, "no kill landed inside a write: the test did not test anything"


def test_kill_9_of_purenet_train_leaves_a_checkpoint_that_resumes_to_the_same_weights(
        tiny_data, reference, tmp_path):
    rng = random.Random(11)
    for k in range(CLI_KILLS):
        out = tmp_path / f"run{k}"
        argv = [sys.executable, "-m", "purenet", "train", *TINY.split(), "--epochs", "4",
                "--data-dir", str(tiny_data), "--out", str(out)]
        run = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + TIMEOUT
        while not (out / CHECKPOINT).exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.3))
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=TIMEOUT)
        checkpoint = load_model(str(out / CHECKPOINT))      # complete, or this raises
        assert checkpoint.training_state["epoch"] == len(checkpoint.history) >= 1
        done = purenet("train", "--resume", str(out), "--data-dir", str(tiny_data), "--no-verify")
        assert done.returncode == 0, done.stderr
        assert weights_text(out / MODEL) == weights_text(reference / MODEL)


# --- disk full --------------------------------------------------------------------------------------

def create_on_a_full_disk(path: str) -> int:
    """Create the temporary file as usual, but hand back a descriptor whose writes get ENOSPC."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return os.open("/dev/full", os.O_WRONLY)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) for a real ENOSPC")
def test_disk_full_during_a_save_keeps_the_old_checkpoint_and_no_temporary(old_and_new, tmp_path, monkeypatch):
    path = tmp_path / CHECKPOINT
    path.write_bytes(old_and_new["old"])
    new = tmp_path / "new.json"
    new.write_bytes(old_and_new["new"])
    model = load_model(str(new))
    new.unlink()
    monkeypatch.setattr(atomic, "_create_new_file", create_on_a_full_disk)
    with pytest.raises(ModelError) as caught:
        save_model(str(path), model)
    monkeypatch.undo()
    assert str(caught.value) == f"{path}: cannot write: No space left on device"
    assert path.read_bytes() == old_and_new["old"]
    assert os.listdir(tmp_path) == [CHECKPOINT]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) for a real ENOSPC")
def test_disk_full_when_there_is_no_old_file_leaves_nothing(old_and_new, tmp_path, monkeypatch):
    source = tmp_path / "source.json"
    source.write_bytes(old_and_new["new"])
    model = load_model(str(source))
    target = tmp_path / "run"
    target.mkdir()
    monkeypatch.setattr(atomic, "_create_new_file", create_on_a_full_disk)
    with pytest.raises(ModelError, match="No space left on device"):
        save_model(str(target / CHECKPOINT), model)
    assert os.listdir(target) == []


# --- leftovers of killed saves ----------------------------------------------------------------------

DEAD_PID = 4194305          # above Linux's largest pid (2**22): never a running process


def leftover(directory: Path, name: str, pid: int = DEAD_PID, age: float = 120.0,
             random_hex: str = "0123456789abcdef") -> Path:
    """A temporary file as a save killed `age` seconds ago would have left it."""
    path = directory / f".{name}.{pid}-{random_hex}.tmp"
    path.write_bytes(b'{"format": "purenet-model", "params": {"W1": [[0.1, ')   # cut off
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_a_save_removes_the_leftovers_of_killed_saves_of_the_same_file(old_and_new, tmp_path):
    dead = leftover(tmp_path, CHECKPOINT)
    dead_too = leftover(tmp_path, CHECKPOINT, random_hex="fedcba9876543210", age=3 * 3600)
    (tmp_path / "new.json").write_bytes(old_and_new["new"])
    save_model(str(tmp_path / CHECKPOINT), load_model(str(tmp_path / "new.json")))
    assert not dead.exists() and not dead_too.exists()
    assert sorted(os.listdir(tmp_path)) == [CHECKPOINT, "new.json"]


def test_a_save_keeps_every_temporary_file_whose_writer_may_still_be_writing(old_and_new, tmp_path):
    (tmp_path / "new.json").write_bytes(old_and_new["new"])
    keep = [
        leftover(tmp_path, CHECKPOINT, age=5.0),                        # dead writer, but just now
        leftover(tmp_path, CHECKPOINT, pid=os.getpid(), age=3600.0),    # a running writer
        leftover(tmp_path, MODEL),                                      # another file's save
        tmp_path / f".{CHECKPOINT}.0123456789abcdef.tmp",               # old-style name, young
        tmp_path / f".{CHECKPOINT}.notes.tmp",                          # not a name purenet makes
        tmp_path / f"{CHECKPOINT}.{DEAD_PID}-0123456789abcdef.tmp",     # no leading dot
    ]
    for path in keep[3:]:
        path.write_bytes(b"x")
    old = time.time() - 600
    os.utime(keep[4], (old, old))
    save_model(str(tmp_path / CHECKPOINT), load_model(str(tmp_path / "new.json")))
    assert all(path.exists() for path in keep)


def test_an_old_style_leftover_goes_once_it_is_an_hour_old(tmp_path):
    young, old = (tmp_path / f".model.json.{h * 16}.tmp" for h in ("a", "b"))
    for path, age in ((young, 1800), (old, 3601)):
        path.write_bytes(b"x")
        os.utime(path, (time.time() - age,) * 2)
    assert atomic.remove_leftovers(str(tmp_path / "model.json")) == [old.name]
    assert young.exists()


def test_leftovers_of_real_kill_9s_are_removed_by_the_next_save(old_and_new, tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    for name, data in old_and_new.items():
        (sources / f"{name}.json").write_bytes(data)
    rng = random.Random(3)
    for k in range(60):                       # kill until one lands in the middle of a write
        directory = tmp_path / f"kill{k:02d}"
        directory.mkdir()
        kill_writer_at_random(directory, sources / "old.json", sources / "new.json",
                              rng.uniform(0.0, 0.3))
        if temporaries(directory):
            break
    else:
        pytest.fail("no kill landed inside a write")
    for path in temporaries(directory):       # as if the next save came a few minutes later
        os.utime(path, (time.time() - 300,) * 2)
    save_model(str(directory / CHECKPOINT), load_model(str(sources / "new.json")))
    assert temporaries(directory) == []
    assert (directory / CHECKPOINT).read_bytes() == old_and_new["new"]


def test_the_temporary_file_is_named_after_the_target_and_this_process():
    name = atomic.temporary_name("model.json")
    assert name.startswith(f".model.json.{os.getpid()}-") and name.endswith(".tmp")
    assert len(name) == len(f".model.json.{os.getpid()}-") + 16 + len(".tmp")


@pytest.mark.parametrize("make, kind", [(os.mkfifo, "a named pipe (FIFO)")])
def test_a_save_never_replaces_what_is_not_a_regular_file(old_and_new, tmp_path, make, kind):
    target = tmp_path / CHECKPOINT
    make(str(target))
    (tmp_path / "new.json").write_bytes(old_and_new["new"])
    with pytest.raises(ModelError) as caught:
        save_model(str(target), load_model(str(tmp_path / "new.json")))
    assert str(caught.value) == f"{target}: cannot write: it is {kind}, not a file, and is never replaced"
    assert sorted(os.listdir(tmp_path)) == [CHECKPOINT, "new.json"]
    assert not target.is_file()                # still the pipe


def test_only_a_process_that_is_certainly_gone_counts_as_gone():
    assert atomic.process_is_running(os.getpid())
    assert atomic.process_is_running(1)                # init: running (ours to ask as root or not)
    assert not atomic.process_is_running(DEAD_PID)
    assert atomic.process_is_running(0)                # 0 and below mean process groups to kill()
