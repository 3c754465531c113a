"""--workers N (purenet/speed/parallel.py): the one-process weights, bit for bit, and a clean end.

The promise is exact equality, not closeness: weights and velocities are
compared through repr, which tells every float apart (0.0 from -0.0
included).  Then how the run ends: a failing worker, a vanished worker, a
vanished main process and Ctrl-C all end with every worker process gone.
"""

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from purenet import speed
from purenet.commands._run_dir import load_checkpoint, save_checkpoint
from purenet.mnist import load_mnist
from purenet.speed import ParallelEngine, SerialEngine, WorkerFailed
from purenet.speed.stages import Backprop, BatchGrads, example_runs, lit_pixels, pixel_groups
from purenet.speed.wire import pack_backprop, pack_grads, unpack_backprop, unpack_grads
from purenet.train import TrainConfig, new_state, train_epoch_

REPO = Path(__file__).resolve().parents[1]
SIZES = (784, 8, 10)
KERNEL = speed.kernel_named("auto")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals and /proc")


@pytest.fixture(scope="module")
def digits():
    data = load_mnist("test")
    return data.images[:300], data.labels[:300]


def bits(state) -> str:
    """The weights and velocities as text that differs whenever a single bit does."""
    return repr((state.params, state.velocity))


def run_steps(engine, batches: List[List[int]], sizes=SIZES):
    """An engine's steps over the batches from a new state: the state's bits and each step's result."""
    state = new_state(TrainConfig(sizes=sizes))
    results = []
    try:
        engine.start(state)
        for batch in batches:
            results.append(engine.step(batch, 0.2, 0.9))
        engine.finish_(state)
    finally:
        engine.close()
    return bits(state), results


def alive(pid: int) -> bool:
    """True if process pid exists and is not a zombie (exited, waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def group_members(pgid: int) -> List[int]:
    """Live processes of process group pgid."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


def ignores_sigint(pid: int) -> bool:
    """True if SIGINT is in the set of signals process pid ignores (/proc's SigIgn mask)."""
    with open(f"/proc/{pid}/status") as f:
        mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigIgn:"))
    return bool(mask >> (signal.SIGINT - 1) & 1)


def wait_until(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- the pieces ---------------------------------------------------------------

def test_gradients_survive_packing_bit_for_bit():
    g = BatchGrads(dW1T={5: [0.1, -0.0], 700: [5e-324, -1.5]}, db1=[1.0 / 3.0, 0.0],
                   dW2=[[2.0, -3.0], [1e300, -1e-300]], db2=[0.25, math.pi],
                   loss_sum=12.345678901234567, correct=7, count=32)
    back = unpack_grads(pack_grads(g))
    assert repr(back) == repr(g)
    assert list(back.dW1T) == [5, 700]


def test_per_example_vectors_survive_packing_bit_for_bit():
    bp = Backprop(H=[[0.0, 2.5, 1e-310], [1.0, 0.0, 3.0]], dZ2=[[0.1, -0.1], [-0.0, 0.0]],
                  dZ1=[[0.0, -1e-20, 7.0], [1.0 / 7.0, 0.0, -2.0]], L=[0.6931471805599453, 5e-324],
                  correct=1)
    assert repr(unpack_backprop(pack_backprop(bp, 3, 2))) == repr(bp)


def test_packed_gradients_are_float64_bytes_not_pickled_lists():
    n_hidden, n_out, pixels = 512, 10, 450
    g = BatchGrads(dW1T={j: [0.5] * n_hidden for j in range(pixels)}, db1=[0.5] * n_hidden,
                   dW2=[[0.5] * n_hidden] * n_out, db2=[0.5] * n_out, loss_sum=1.0,
                   correct=0, count=32)
    floats = pixels * n_hidden + n_hidden + n_out * n_hidden + n_out
    # headers of 40 and 16 bytes, 4 bytes per pixel index, 8 bytes per number
    assert len(pack_grads(g)) == 40 + 16 + 4 * pixels + 8 * floats


def test_examples_are_shared_in_consecutive_runs():
    assert example_runs(128, 2) == [range(0, 64), range(64, 128)]
    assert example_runs(128, 3) == [range(0, 42), range(42, 85), range(85, 128)]
    assert example_runs(3, 5) == [range(0, 0), range(0, 1), range(1, 1), range(1, 2),
                                  range(2, 3)]


def test_pixels_are_shared_in_consecutive_groups_of_about_equal_work(digits):
    images, _ = digits
    lit = lit_pixels(images[:128])
    groups = pixel_groups(lit, 3)
    assert [j for g in groups for j in g] == sorted(lit)        # every pixel once, in order
    work = [sum(1 + len(lit[j][0]) for j in g) for g in groups]
    heaviest = max(1 + len(examples) for examples, _ in lit.values())
    assert max(work) - min(work) <= heaviest                    # within one pixel's work


def test_a_pixel_weighs_one_plus_the_examples_it_is_lit_in():
    # pixel 0 is lit in 6 examples (weight 7), pixels 1-4 in one each (weight 2):
    # 15 in all, and the middle of pixel 1 (at 8) is past the half (7.5)
    lit = {0: (list(range(6)), [1.0] * 6), **{j: ([0], [1.0]) for j in range(1, 5)}}
    assert pixel_groups(lit, 2) == [[0], [1, 2, 3, 4]]


def test_tiny_batches_leave_some_processes_without_pixels():
    lit = {4: ([0], [1.0])}
    assert pixel_groups(lit, 3) == [[], [4], []]


def test_one_process_is_the_serial_engine_and_fewer_is_refused(digits):
    images, labels = digits
    assert isinstance(speed.engine(1)(images, labels), SerialEngine)
    assert isinstance(speed.engine(2)(images, labels), ParallelEngine)
    with pytest.raises(ValueError):
        ParallelEngine(KERNEL, 1, images, labels)


# --- same weights as one process ---------------------------------------------

BATCHES = [list(range(0, 128)), list(range(290, 161, -1)), list(range(40, 110))]


@pytest.mark.parametrize("name", sorted(speed.KERNELS))
@pytest.mark.parametrize("n", [2, 3, 5])
def test_n_processes_give_the_serial_weights_bit_for_bit(digits, n, name):
    # Three steps (full, shuffled and short batches): loss and count equal too.
    images, labels = digits
    kernel = speed.KERNELS[name]
    serial = run_steps(SerialEngine(kernel, images, labels), BATCHES)
    assert run_steps(ParallelEngine(kernel, n, images, labels), BATCHES) == serial


def test_spawned_workers_give_the_same_bits(digits):
    # spawn is what macOS and Windows use; it pickles the replica once at the start
    images, labels = digits
    serial = run_steps(SerialEngine(KERNEL, images, labels), BATCHES[:2])
    assert run_steps(ParallelEngine(KERNEL, 2, images, labels, method="spawn"),
                     BATCHES[:2]) == serial


def test_the_steps_really_change_the_weights(digits):
    # (so the equality above is not that of two untouched networks)
    images, labels = digits
    before = bits(new_state(TrainConfig(sizes=SIZES)))
    assert run_steps(SerialEngine(KERNEL, images, labels), BATCHES)[0] != before


def test_checkpoint_and_resume_with_workers_give_the_serial_run(digits, tmp_path):
    images, labels = digits
    config = TrainConfig(sizes=SIZES, epochs=2, batch_size=64)
    reference = new_state(config)
    serial = SerialEngine(KERNEL, images, labels)
    for _ in range(2):
        train_epoch_(reference, config, serial, len(images))

    state = new_state(config)
    engine = ParallelEngine(KERNEL, 2, images, labels)
    state.history.append(train_epoch_(state, config, engine, len(images)))
    # what is saved is the main process's replica; a new engine resumes from it
    save_checkpoint(str(tmp_path), config.to_dict(), state)
    _, resumed, _ = load_checkpoint(str(tmp_path))
    train_epoch_(resumed, config, ParallelEngine(KERNEL, 2, images, labels), len(images))
    assert bits(resumed) == bits(reference)


def test_the_workers_of_an_epoch_stop_when_it_ends(digits):
    # Each epoch starts its workers from the state it is given, so no replica
    # outlives the epoch whose weights it holds.
    images, labels = digits
    engine = ParallelEngine(KERNEL, 3, images, labels)
    state = new_state(TrainConfig(sizes=SIZES))
    engine.start(state)
    processes = [w.process for w in engine.workers]
    assert len(processes) == 2 and all(p.is_alive() for p in processes)
    engine.step(list(range(64)), 0.2, 0.9)
    engine.finish_(state)
    assert engine.workers == [] and not any(p.is_alive() for p in processes)


# --- ending cleanly -----------------------------------------------------------

def test_an_error_in_a_worker_is_one_line_and_stops_every_worker(digits):
    images, labels = digits
    labels = list(labels)
    labels[120] = 99                 # in the last run of examples, which worker 2 computes
    engine = ParallelEngine(KERNEL, 3, images, labels)
    engine.start(new_state(TrainConfig(sizes=SIZES)))
    with pytest.raises(WorkerFailed) as caught:
        engine.step(list(range(128)), 0.2, 0.9)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("worker process 2 of 2 failed: ValueError: one_hot: class 99")
    assert engine.workers == []
    engine.close()                   # a second close is harmless


def test_a_worker_that_dies_is_reported_and_the_others_are_stopped(digits):
    images, labels = digits
    engine = ParallelEngine(KERNEL, 3, images, labels)
    engine.start(new_state(TrainConfig(sizes=SIZES)))
    engine.step(list(range(128)), 0.2, 0.9)
    processes = [w.process for w in engine.workers]
    os.kill(processes[0].pid, signal.SIGKILL)
    with pytest.raises(WorkerFailed, match="worker process 1 of 2 stopped unexpectedly"):
        engine.step(list(range(128)), 0.2, 0.9)
    assert not any(p.is_alive() for p in processes)


HOLD_ENGINE = """
import sys, time
from purenet import speed
from purenet.mnist import load_mnist
from purenet.train import TrainConfig, new_state
data = load_mnist("test")
engine = speed.ParallelEngine(speed.kernel_named(), 3, data.images, data.labels)
engine.start(new_state(TrainConfig(sizes=(784, 8, 10))))
engine.step(list(range(128)), 0.2, 0.9)
print(*[w.process.pid for w in engine.workers], flush=True)
time.sleep(120)
"""


def test_workers_exit_when_the_main_process_is_killed():
    # No close() runs: each worker must notice its pipe closing by itself.
    main = subprocess.Popen([sys.executable, "-c", HOLD_ENGINE], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in main.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        main.kill()
        main.wait(timeout=30)
        assert wait_until(lambda: not any(alive(p) for p in pids))
    finally:
        if main.poll() is None:
            main.kill()


def test_ctrl_c_ends_a_run_with_workers_cleanly(tmp_path):
    out = tmp_path / "run"
    # A new session, so that the SIGINT reaches the whole process group as
    # a terminal's Ctrl-C does; SIGINT reset to default as in test_train_cli.
    child = subprocess.Popen(
        [sys.executable, "-m", "purenet", "train", "--workers", "3", "--hidden", "16",
         "--limit", "600", "--val-size", "300", "--epochs", "50", "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # training with workers: the main process and its two workers are running
        assert wait_until(lambda: (out / "checkpoint.json").exists()
                          and len(group_members(child.pid)) == 3, seconds=120)
        # the workers ignore SIGINT and leave the decision to the main process
        workers = [pid for pid in group_members(child.pid) if pid != child.pid]
        assert all(ignores_sigint(pid) for pid in workers)
        os.killpg(child.pid, signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert child.returncode == 130
    # stderr also carries the progress lines; the run's own message is one line, the last
    assert "Traceback" not in stderr
    messages = [line for line in stderr.splitlines() if line.startswith("purenet:")]
    assert len(messages) == 1 and messages[0] == stderr.splitlines()[-1]
    assert messages[0].startswith("purenet: interrupted during epoch")
    assert wait_until(lambda: group_members(child.pid) == [], seconds=10)
