"""Data-parallel training: N processes share each mini-batch and reach the one-process weights.

stages.py cuts a mini-batch's gradient into two stages whose pieces are
independent:

    stage 1, per example:  forward and backward up to dz1   (kernel.examples_backprop)
    stage 2, per pixel:    column j of dW1 = sum over the examples n whose
                           pixel j is lit of x_nj dz1_n      (kernel.pixel_columns)

Here N processes, this one (the main process) and N - 1 workers, take
consecutive runs of the examples in stage 1 and consecutive groups of the
lit pixels in stage 2.  For B = 128 and N = 2:

    stage 1    examples 0..63 -> main          examples 64..127 -> worker 1
    exchange   the worker sends its h, dz2, dz1; the main process sends
               every example's dz1 back
    stage 2    the first lit pixels -> main    the rest -> worker 1
               (cut where each side gets about the same number of terms)
    update     the worker sends its columns; the main process adds up dW2,
               db1, db2 and sends the worker everything it lacks; every
               process applies the same step to its own copy (replica)
               of the weights theta and velocities v:
               v <- mu v + g,   theta <- theta - eta v.

No number is computed differently from one process: each example's dz1
does not depend on who computes it, and each column of dW1 is the same sum
over the same examples in the same order.  So the replicas never drift
apart, and the weights are bit-identical to a one-process run for any N.
(Splitting the *sums* instead -- each process adding its own examples'
share of dW1 -- would also work, but floating-point addition is not
associative, so the result would depend on N in the last bits; and each
process would visit every pixel lit in its share, which costs more.)

What crosses the pipes is in wire.py: gradients and per-example vectors
as float64 bytes, never weights.  The weights cross once an epoch, when
the workers start (``start``): fork (Linux) copies them with the process,
spawn (elsewhere) pickles them.  At the epoch's end (``finish_``) the
main process hands its replica back to the run and the workers stop.

Stopping.  Ctrl-C sends SIGINT to every process of the terminal's
process group (closing the terminal sends SIGHUP); workers ignore these
and SIGTERM, so that the main process alone decides: it stops them
(``close``) and the run ends.  The signals are blocked while a worker
starts, so that none reaches it before it has begun to ignore them, and
until the main process has recorded it, so that ``close`` stops it too.
An exception in a worker comes back as one line and the main process raises WorkerFailed
after stopping the others.  A worker whose main process has vanished
sees its pipe close and exits, so none is left behind.
"""

import contextlib
import importlib
import math
import multiprocessing
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import wait
from types import ModuleType
from typing import Any, Dict, Iterator, List, NoReturn, Optional, Sequence, Tuple

from ..matrix import Vector, total
from ..network import Params
from ..train import TrainState
from .serial import predict_labels
from .stages import Backprop, BatchGrads, FastNet, example_runs, joined, lit_pixels, pixel_groups
from .wire import (Channel, Message, pack_backprop, pack_columns, pack_grads, pack_rows,
                   unpack_backprop, unpack_columns, unpack_grads, unpack_rows)

# seconds a worker gets to finish after "stop" before it is terminated
STOP_TIMEOUT = 5.0

# Ctrl-C, kill and a closed terminal: the main process decides what they do.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class WorkerFailed(RuntimeError):
    """A worker process failed or vanished; all of them have been stopped."""


# --- the two stages, as one process does its share --------------------------------

def stage_one(kernel: ModuleType, net: FastNet, batch: Sequence[int], run: range,
              images: Sequence[bytes], labels: Sequence[int]) -> Backprop:
    """examples_backprop of this process's run of the batch."""
    picked = [batch[i] for i in run]
    return kernel.examples_backprop(net, [images[n] for n in picked], [labels[n] for n in picked])


def stage_two(kernel: ModuleType, dZ1: Sequence[Vector], batch: Sequence[int],
              images: Sequence[bytes], n_processes: int, p: int
              ) -> Tuple[Dict[int, Vector], List[List[int]]]:
    """Process p's group of dW1 columns, and every process's group of pixels."""
    lit = lit_pixels([images[n] for n in batch])
    groups = pixel_groups(lit, n_processes)
    return kernel.pixel_columns(dZ1, lit, groups[p]), groups


# --- the worker process ---------------------------------------------------------

def one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def worker_main(conn, inherited: List[Any], number: int, n_processes: int, kernel_name: str,
                net: FastNet, velocity: FastNet, images: Sequence[bytes],
                labels: Sequence[int]) -> None:
    """A worker's whole life: serve steps (wire.py's messages) until "stop" or a closed pipe."""
    for signum in STOP_SIGNALS:                    # the main process handles them
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):         # blocked by start(), now harmless
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    for c in inherited:   # fork copied the main process's ends of the pipes: close them,
        c.close()         # or this worker would never see its own pipe close
    kernel = importlib.import_module(kernel_name)
    channel = Channel(conn)
    n_hidden, n_out = len(net.b1), len(net.b2)
    try:
        while True:
            message = channel.receive()
            if message.kind == "stop":
                return
            batch, lr, mu = message.args
            run = example_runs(len(batch), n_processes)[number]                 # stage 1
            bp = stage_one(kernel, net, batch, run, images, labels)
            channel.send(Message("ok", blob=pack_backprop(bp, n_hidden, n_out)))
            message = channel.receive()                                         # exchange
            if message.kind != "dz1":
                if message.kind == "skip":
                    continue                               # no update this step
                return                                     # "stop"
            dZ1 = unpack_rows(message.blob, n_hidden)
            mine, _ = stage_two(kernel, dZ1, batch, images, n_processes, number)  # stage 2
            channel.send(Message("ok", blob=pack_columns(mine, n_hidden)))
            message = channel.receive()                                         # update
            if message.kind != "update":
                return                                     # "stop"
            grads = unpack_grads(message.blob)
            grads.dW1T.update(mine)
            kernel.momentum_step_(net, velocity, grads, lr, mu)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return                                     # the main process has gone
    except Exception as e:  # noqa: BLE001 - any failure is reported, in one line
        try:
            channel.send(Message("error", (one_line(e),)))
        except OSError:
            pass
        sys.exit(1)


@dataclass
class Worker:
    number: int           # 1 .. N - 1 (the main process is 0)
    process: Any          # multiprocessing.Process
    channel: Channel      # the main process's end of the pipe


@contextlib.contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Hold stop signals back in this thread for the block; a process started in it inherits that.

    A signal that arrives meanwhile waits, and is delivered when the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):   # Windows: no such signals to block
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start_method() -> str:
    """fork on Linux (no pickling, starts in milliseconds); spawn elsewhere (macOS, Windows)."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


# --- the engine -----------------------------------------------------------------

class ParallelEngine:
    """train.Engine with each mini-batch shared by `n_processes` processes, `kernel` computing."""

    def __init__(self, kernel: ModuleType, n_processes: int, images: Sequence[bytes],
                 labels: Sequence[int], method: str = ""):
        if n_processes < 2:
            raise ValueError("ParallelEngine needs at least 2 processes; use SerialEngine for 1")
        self.kernel = kernel
        self.n_processes = n_processes
        self.images, self.labels = images, labels
        self.method = method or start_method()
        self.workers: List[Worker] = []
        self.busy = False           # a step was sent to the workers and not fully answered
        self.net: Optional[FastNet] = None
        self.velocity: Optional[FastNet] = None

    # -- an epoch --

    def start(self, state: TrainState) -> None:
        """The state's weights in this process's replica, and N - 1 workers with copies of them."""
        self.net = FastNet.from_params(state.params)
        self.velocity = FastNet.from_params(state.velocity)
        context = multiprocessing.get_context(self.method)
        # A forked worker flushes the streams it inherited when it exits, so text
        # still buffered here would be printed twice.
        sys.stdout.flush()
        sys.stderr.flush()
        for number in range(1, self.n_processes):
            ours, theirs = context.Pipe()
            inherited = [w.channel.conn for w in self.workers] + [ours] \
                if self.method == "fork" else []
            process = context.Process(
                target=worker_main, name=f"purenet-worker-{number}", daemon=True,
                args=(theirs, inherited, number, self.n_processes, self.kernel.__name__,
                      self.net, self.velocity, self.images, self.labels))
            # Recorded before the signals are let through: a Ctrl-C waiting to be
            # delivered must find the new worker in self.workers, or close() would
            # not stop it and exit would wait for it forever (it ignores SIGTERM).
            with stop_signals_blocked():
                process.start()
                theirs.close()          # only the worker holds its end now
                self.workers.append(Worker(number, process, Channel(ours)))

    def step(self, batch: Sequence[int], lr: float, mu: float) -> Tuple[float, int]:
        """One mini-batch: stage 1, exchange, stage 2, update."""
        kernel, net, n = self.kernel, self.net, self.n_processes
        self.busy = True
        for w in self.workers:
            self.tell(w, Message("step", (list(batch), lr, mu)))
        runs = example_runs(len(batch), n)                                      # stage 1
        parts = [stage_one(kernel, net, batch, runs[0], self.images, self.labels)]
        parts += [unpack_backprop(self.receive(w)) for w in self.workers]
        bp = joined(parts)
        loss_sum = total(bp.L)
        if not math.isfinite(loss_sum):
            self.busy = False
            for w in self.workers:
                self.tell(w, Message("skip"))
            return loss_sum, bp.correct
        dZ1 = pack_rows(bp.dZ1)                                                 # exchange
        for w in self.workers:
            self.tell(w, Message("dz1", blob=dZ1))
        dW1T, groups = stage_two(kernel, bp.dZ1, batch, self.images, n, 0)      # stage 2
        for w in self.workers:
            dW1T.update(unpack_columns(self.receive(w))[0])
        self.busy = False
        grads = kernel.batch_gradients_from(bp, dW1T)                           # update
        for w, group in zip(self.workers, groups[1:]):
            lacking = set(group)
            others = {j: col for j, col in dW1T.items() if j not in lacking}
            self.tell(w, Message("update", blob=pack_grads(BatchGrads(
                others, grads.db1, grads.dW2, grads.db2, grads.loss_sum, grads.correct,
                grads.count))))
        kernel.momentum_step_(net, self.velocity, grads, lr, mu)
        return grads.loss_sum, grads.correct

    def finish_(self, state: TrainState) -> None:
        """Hand this process's replica back to the run, and stop the workers."""
        state.params = self.net.to_params()
        state.velocity = self.velocity.to_params()
        self.close()

    def predict_labels(self, params: Params, images: Sequence[bytes]) -> List[int]:
        return predict_labels(self.kernel, params, images)

    def close(self) -> None:
        """Stop every worker and wait for it; safe to call twice, and after a failure."""
        workers, self.workers = self.workers, []
        for w in workers:
            # SIGKILL, since a worker ignores SIGTERM (it leaves stopping to this process)
            if self.busy:   # it may be blocked sending gradients nobody will read
                w.process.kill()
            else:
                try:
                    w.channel.send(Message("stop"))
                except OSError:
                    pass
        for w in workers:
            w.process.join(STOP_TIMEOUT)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.channel.close()
        self.busy = False

    # -- talking to one worker --

    def tell(self, w: Worker, message: Message) -> None:
        """Send worker w a message, or fail() if it is gone."""
        try:
            w.channel.send(message)
        except OSError:
            self.fail(w, self.gone(w))

    def receive(self, w: Worker) -> bytes:
        """The bytes of worker w's "ok", or fail() if it failed or is gone."""
        try:
            # Wait for a message or for the process to end, whichever comes first: a
            # worker that dies while starting may leave its pipe open (spawn keeps a
            # copy of the worker's end until the worker has collected it).
            wait([w.channel.conn, w.process.sentinel])
            if not w.channel.conn.poll():
                raise EOFError
            reply = w.channel.receive()
            if reply.kind == "ok":
                return reply.blob
            problem = f"failed: {reply.args[0]}"
        except (EOFError, OSError):
            problem = self.gone(w)
        self.fail(w, problem)

    def gone(self, w: Worker) -> str:
        w.process.join(STOP_TIMEOUT)
        return f"stopped unexpectedly (exit code {w.process.exitcode})"

    def fail(self, w: Worker, problem: str) -> NoReturn:
        """Stop every worker, then raise WorkerFailed naming w and what went wrong."""
        self.close()
        raise WorkerFailed(f"worker process {w.number} of {self.n_processes - 1} {problem}; "
                           f"all workers were stopped")
