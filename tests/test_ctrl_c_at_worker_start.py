"""A Ctrl-C that arrives while a worker process starts still ends with that worker stopped.

speed/parallel.py blocks the stop signals while it starts a worker; a
Ctrl-C pressed meanwhile waits and is delivered when they are let through.
The new worker must be on the engine's list by then, or ``close`` would
not stop it and the run's exit would wait for it forever (a worker
ignores SIGTERM, which is how multiprocessing ends its children at exit).
On PyPy that moment is where a Ctrl-C right after an epoch's checkpoint
landed, and the run hung.
"""

import multiprocessing
import multiprocessing.process
import signal
import sys
import threading

import pytest

from purenet import speed
from purenet.mnist import load_mnist
from purenet.speed import ParallelEngine
from purenet.train import TrainConfig, new_state

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")


def test_a_ctrl_c_pending_while_a_worker_starts_still_stops_that_worker(monkeypatch):
    data = load_mnist("test")
    engine = ParallelEngine(speed.kernel_named(), 2, data.images[:64], data.labels[:64])
    real_start = multiprocessing.process.BaseProcess.start

    def start_then_ctrl_c(process):
        real_start(process)
        # Ctrl-C now: the stop signals are blocked here, so it waits
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start_then_ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.start(new_state(TrainConfig(sizes=(784, 4, 10))))
        started = multiprocessing.active_children()
        assert len(started) == 1
        assert [w.process for w in engine.workers] == started
        engine.close()
        assert not started[0].is_alive()
    finally:
        for child in multiprocessing.active_children():   # only if the test failed
            child.kill()
            child.join()
