"""Data-parallel training: N processes share each mini-batch and reach the one-process weights.

fast.py computes a mini-batch's gradient in two stages, and each can be
shared out because its pieces are independent:

    stage 1, per example:  forward and backward up to dz1 (examples_backprop)
    stage 2, per pixel:    column j of dW1 = sum over the examples n whose
                           pixel j is lit of x_nj dz1_n (pixel_columns)

Here N processes, this one (the main process) and N - 1 workers, take
consecutive runs of the examples in stage 1 and consecutive groups of the
lit pixels in stage 2.  For B = 128 and N = 2:

    stage 1   examples 0..63 -> main          examples 64..127 -> worker 1
    stage 2   the first lit pixels -> main    the rest -> worker 1
              (cut where each side gets about the same number of terms)

Between the stages every process needs every example's dz1, so the
worker sends its H, dZ2 and dZ1 to the main process, which sends all of
dZ1 back.  After stage 2 the worker sends its columns; the main process
adds up dW2, db1 and db2 and sends the worker everything it lacks.  Every
process then applies the same momentum step to its own copy (replica) of
the weights theta and velocities v:

    v <- mu v + g,   theta <- theta - eta v.

No number is computed differently from one process: each example's dz1
does not depend on who computes it, and each column of dW1 is the same sum
over the same examples in the same order.  So the replicas never drift
apart, and the weights are bit-identical to a one-process run for any N.
(Splitting the *sums* instead -- each process adding its own examples'
share of dW1 -- would also work, but floating-point addition is not
associative, so the result would depend on N in the last bits; and each
process would visit every pixel lit in its share, which costs more.)

What crosses a pipe per step: gradients and per-example vectors as
float64 bytes (array('d'), never pickled lists), never weights.

    main -> worker    the batch (example indices), eta, mu
    worker -> main    its examples' L, h, dz2, dz1 (64 x 1,035 numbers)
    main -> worker    every example's dz1 (128 x 512 numbers)
    worker -> main    its group's columns of dW1 (a batch of 128 MNIST
                      images lights 500 to 570 pixels: half of them x 512)
    main -> worker    the other columns, db1, dW2, db2

The weights cross once, when a worker starts at the first step: fork
(Linux) copies them with the process, spawn (elsewhere) pickles them.

Stopping.  Ctrl-C sends SIGINT to every process of the terminal's
process group; workers ignore it, so that the main process alone
decides: it stops them (``close``) and the run ends.  An exception in a
worker comes back as one line and the main process raises PurenetError
after stopping the others.  A worker whose main process has vanished
sees its pipe close and exits, so none is left behind.
"""

import math
import multiprocessing
import signal
import struct
import sys
from array import array
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Dict, List, NoReturn, Sequence, Tuple

from .errors import PurenetError
from .fast import (Backprop, BatchGrads, FastNet, LitPixels, batch_gradients_from,
                   examples_backprop, joined, lit_pixels, momentum_step_, pixel_columns)
from .matrix import Vector, total
from .train import SerialEngine, TrainState

# A count of pixels and their column length (int64), before the pixel indices (int32).
COLUMNS_HEADER = struct.Struct("=2q")
# count, correct, n_hidden, n_out (int64) and loss_sum (float64)
HEADER = struct.Struct("=4qd")

# seconds a worker gets to finish after "stop" before it is terminated
STOP_TIMEOUT = 5.0


# --- sharing out the work ---------------------------------------------------------

def example_runs(n_examples: int, n_processes: int) -> List[range]:
    """Stage 1: consecutive runs of the examples, one per process, as equal as can be."""
    return [range(p * n_examples // n_processes, (p + 1) * n_examples // n_processes)
            for p in range(n_processes)]


def pixel_groups(lit: LitPixels, n_processes: int) -> List[List[int]]:
    """Stage 2: the lit pixels in order, cut into consecutive groups of about equal work.

    A column costs a call per hidden unit plus a term per lit example, so a
    pixel weighs 1 + (number of examples it is lit in).
    """
    pixels = sorted(lit)
    weights = [1 + len(lit[j][0]) for j in pixels]
    whole = sum(weights)
    groups: List[List[int]] = [[] for _ in range(n_processes)]
    done = 0
    for j, w in zip(pixels, weights):
        # the group whose share of the work the middle of this pixel falls in
        groups[min(n_processes - 1, (2 * done + w) * n_processes // (2 * whole))].append(j)
        done += w
    return groups


# --- numbers as bytes -------------------------------------------------------------

def pack_rows(rows: Sequence[Sequence[float]]) -> bytes:
    """Rows of floats, one after another, as float64 bytes."""
    values = array("d")
    for row in rows:
        values.fromlist(list(row))
    return values.tobytes()


def unpack_rows(data, width: int) -> List[Vector]:
    """The inverse of pack_rows for rows of `width` numbers; the same floats, bit for bit."""
    numbers = array("d")
    numbers.frombytes(data)
    v = numbers.tolist()
    return [v[k:k + width] for k in range(0, len(v), width)] if width else []


def pack_columns(columns: Dict[int, Vector], n_hidden: int) -> bytes:
    """dW1 columns: COLUMNS_HEADER, the pixels j (int32), then each column (float64)."""
    pixels = list(columns)
    return b"".join((COLUMNS_HEADER.pack(len(pixels), n_hidden), array("i", pixels).tobytes(),
                     pack_rows([columns[j] for j in pixels])))


def unpack_columns(data) -> Tuple[Dict[int, Vector], int]:
    """The inverse of pack_columns, and how many bytes it read."""
    view = memoryview(data)
    n_pixels, n_hidden = COLUMNS_HEADER.unpack_from(view)
    pixels = array("i")
    at = COLUMNS_HEADER.size + n_pixels * pixels.itemsize
    pixels.frombytes(view[COLUMNS_HEADER.size:at])
    end = at + n_pixels * n_hidden * 8
    return dict(zip(pixels.tolist(), unpack_rows(view[at:end], n_hidden))), end


def pack_backprop(bp: Backprop, n_hidden: int, n_out: int) -> bytes:
    """HEADER (loss_sum unused: 0), then the losses L and the rows of H, dZ2 and dZ1 (float64)."""
    header = HEADER.pack(len(bp.H), bp.correct, n_hidden, n_out, 0.0)
    return b"".join((header, pack_rows([bp.L]), pack_rows(bp.H), pack_rows(bp.dZ2),
                     pack_rows(bp.dZ1)))


def unpack_backprop(blob: bytes) -> Backprop:
    """The inverse of pack_backprop."""
    count, correct, n_hidden, n_out, _ = HEADER.unpack_from(blob)
    view = memoryview(blob)[HEADER.size:]
    a = count * 8
    b = a + count * n_hidden * 8
    c = b + count * n_out * 8
    L = unpack_rows(view[:a], count)
    return Backprop(H=unpack_rows(view[a:b], n_hidden), dZ2=unpack_rows(view[b:c], n_out),
                    dZ1=unpack_rows(view[c:], n_hidden), L=L[0] if L else [], correct=correct)


def pack_grads(g: BatchGrads) -> bytes:
    """HEADER, the dW1 columns (pack_columns), then db1, dW2 rows, db2 (float64)."""
    header = HEADER.pack(g.count, g.correct, len(g.db1), len(g.db2), g.loss_sum)
    return b"".join((header, pack_columns(g.dW1T, len(g.db1)), pack_rows([g.db1]),
                     pack_rows(g.dW2), pack_rows([g.db2])))


def unpack_grads(blob: bytes) -> BatchGrads:
    """The inverse of pack_grads; float64 bytes read back are the same floats, bit for bit."""
    count, correct, n_hidden, n_out, loss_sum = HEADER.unpack_from(blob)
    view = memoryview(blob)[HEADER.size:]
    dW1T, at = unpack_columns(view)
    rest = unpack_rows(view[at:at + (n_hidden + n_out * n_hidden) * 8], n_hidden)
    db2 = unpack_rows(view[at + (n_hidden + n_out * n_hidden) * 8:], n_out)
    return BatchGrads(dW1T=dW1T, db1=rest[0], dW2=rest[1:], db2=db2[0] if db2 else [],
                      loss_sum=loss_sum, correct=correct, count=count)


def stage_one(net: FastNet, batch: Sequence[int], run: range, images: Sequence[bytes],
              labels: Sequence[int]) -> Backprop:
    """examples_backprop of this process's run of the batch."""
    picked = [batch[i] for i in run]
    return examples_backprop(net, [images[n] for n in picked], [labels[n] for n in picked],
                             list(zip(*net.W2)))


def stage_two(dZ1: Sequence[Vector], batch: Sequence[int], images: Sequence[bytes],
              n_processes: int, p: int) -> Tuple[Dict[int, Vector], List[List[int]]]:
    """Process p's group of dW1 columns, and every process's group of pixels."""
    lit = lit_pixels([images[n] for n in batch])
    groups = pixel_groups(lit, n_processes)
    return pixel_columns(dZ1, lit, groups[p]), groups


# --- the worker process ---------------------------------------------------------

def one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def worker_main(conn, inherited: List[Any], number: int, n_processes: int, net: FastNet,
                velocity: FastNet, images: Sequence[bytes], labels: Sequence[int]) -> None:
    """A worker's whole life: answer ("step", ...) messages until ("stop",) or a closed pipe.

    Messages in:  ("step", batch, lr, mu); then ("dz1",) + every example's dz1
                  as bytes, or ("skip",) when the batch's loss was not finite
                  (as SerialEngine does); then ("update",) + the rest of the
                  gradient as bytes.  ("stop",) at any of these points.
    Messages out: ("ok",) + bytes (its examples' Backprop, then its columns),
                  or ("error", one line).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the main process handles Ctrl-C
    for c in inherited:   # fork copied the main process's ends of the pipes: close them,
        c.close()         # or this worker would never see its own pipe close
    n_hidden, n_out = len(net.b1), len(net.b2)
    try:
        while True:
            message = conn.recv()
            if message[0] == "stop":
                return
            _, batch, lr, momentum = message
            run = example_runs(len(batch), n_processes)[number]
            bp = stage_one(net, batch, run, images, labels)
            conn.send(("ok",))
            conn.send_bytes(pack_backprop(bp, n_hidden, n_out))
            decision = conn.recv()[0]
            if decision == "stop":
                return
            if decision == "skip":
                continue                           # no update this step
            dZ1 = unpack_rows(conn.recv_bytes(), n_hidden)
            mine, _ = stage_two(dZ1, batch, images, n_processes, number)
            conn.send(("ok",))
            conn.send_bytes(pack_columns(mine, n_hidden))
            if conn.recv()[0] != "update":
                return                             # "stop"
            grads = unpack_grads(conn.recv_bytes())
            grads.dW1T.update(mine)
            momentum_step_(net, velocity, grads, lr, momentum)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return                                     # the main process has gone
    except Exception as e:  # noqa: BLE001 - any failure is reported, in one line
        try:
            conn.send(("error", one_line(e)))
        except OSError:
            pass
        sys.exit(1)


@dataclass
class Worker:
    number: int           # 1 .. N - 1 (the main process is 0)
    process: Any          # multiprocessing.Process
    conn: Any             # the main process's end of the pipe


def start_method() -> str:
    """fork on Linux (no pickling, starts in milliseconds); spawn elsewhere (macOS, Windows)."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


# --- the engine -----------------------------------------------------------------

class ParallelEngine:
    """SerialEngine's interface (step, close), with each mini-batch shared by `n_processes`.

    Workers start at the first step, from that step's state, and serve
    that state (and those images) until close().
    """

    def __init__(self, n_processes: int, method: str = ""):
        if n_processes < 2:
            raise ValueError("ParallelEngine needs at least 2 processes; use SerialEngine for 1")
        self.n_processes = n_processes
        self.method = method or start_method()
        self.workers: List[Worker] = []
        self.busy = False           # a step was sent to the workers and not fully answered
        self.served: Tuple[Any, ...] = ()
        self.next_step = 0

    # -- life cycle --

    def start(self, state: TrainState, images: Sequence[bytes], labels: Sequence[int]) -> None:
        context = multiprocessing.get_context(self.method)
        # A forked worker flushes the streams it inherited when it exits, so text
        # still buffered here would be printed twice.
        sys.stdout.flush()
        sys.stderr.flush()
        for number in range(1, self.n_processes):
            ours, theirs = context.Pipe()
            inherited = [w.conn for w in self.workers] + [ours] if self.method == "fork" else []
            process = context.Process(
                target=worker_main, name=f"purenet-worker-{number}", daemon=True,
                args=(theirs, inherited, number, self.n_processes, state.net, state.velocity,
                      images, labels))
            process.start()
            theirs.close()          # only the worker holds its end now
            self.workers.append(Worker(number, process, ours))
        self.served = (state, images, labels)
        self.next_step = state.step

    def close(self) -> None:
        """Stop every worker and wait for it; safe to call twice, and after a failure."""
        workers, self.workers = self.workers, []
        for w in workers:
            if self.busy:   # it may be blocked sending gradients nobody will read
                w.process.terminate()
            else:
                try:
                    w.conn.send(("stop",))
                except OSError:
                    pass
        for w in workers:
            w.process.join(STOP_TIMEOUT)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join()
            w.conn.close()
        self.busy = False
        self.served = ()

    def __enter__(self) -> "ParallelEngine":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- one step --

    def step(self, state: TrainState, batch: Sequence[int], lr: float, momentum: float,
             images: Sequence[bytes], labels: Sequence[int]):
        """One mini-batch: examples shared out, then pixels, then the update everywhere."""
        if not self.served:
            self.start(state, images, labels)
        self.check_same_run(state, images, labels)
        net = state.net
        n_hidden = len(net.b1)
        self.busy = True
        for w in self.workers:
            self.tell(w, ("step", list(batch), lr, momentum))
        runs = example_runs(len(batch), self.n_processes)
        parts = [stage_one(net, batch, runs[0], images, labels)]
        parts += [unpack_backprop(self.receive(w)) for w in self.workers]
        bp = joined(parts)
        loss_sum = total(bp.L)
        if not math.isfinite(loss_sum):
            self.busy = False
            for w in self.workers:
                self.tell(w, ("skip",))
            self.next_step = state.step + 1
            return loss_sum, bp.correct

        dZ1 = pack_rows(bp.dZ1)
        for w in self.workers:
            self.tell(w, ("dz1",), dZ1)
        dW1T, groups = stage_two(bp.dZ1, batch, images, self.n_processes, 0)
        theirs = [unpack_columns(self.receive(w))[0] for w in self.workers]
        self.busy = False
        for columns in theirs:
            dW1T.update(columns)
        grads = batch_gradients_from(bp, dW1T)
        for w, group in zip(self.workers, groups[1:]):
            lacking = set(group)
            others = {j: col for j, col in dW1T.items() if j not in lacking}
            self.tell(w, ("update",), pack_grads(BatchGrads(
                others, grads.db1, grads.dW2, grads.db2, grads.loss_sum, grads.correct,
                grads.count)))
        momentum_step_(net, state.velocity, grads, lr, momentum)
        self.next_step = state.step + 1
        return grads.loss_sum, grads.correct

    def tell(self, w: Worker, message: tuple, blob: bytes = b"") -> None:
        """Send worker w a message (and bytes), or fail() if it is gone."""
        try:
            w.conn.send(message)
            if blob:
                w.conn.send_bytes(blob)
        except OSError:
            self.fail(w, self.gone(w))

    def receive(self, w: Worker) -> bytes:
        """The bytes worker w sends after ("ok",), or fail() if it failed or is gone."""
        try:
            # Wait for a message or for the process to end, whichever comes first: a
            # worker that dies while starting may leave its pipe open (spawn keeps a
            # copy of the worker's end until the worker has collected it).
            wait([w.conn, w.process.sentinel])
            if not w.conn.poll():
                raise EOFError
            reply = w.conn.recv()
            if reply[0] == "ok":
                return w.conn.recv_bytes()
            problem = f"failed: {reply[1]}"
        except (EOFError, OSError):
            problem = self.gone(w)
        self.fail(w, problem)

    def gone(self, w: Worker) -> str:
        w.process.join(STOP_TIMEOUT)
        return f"stopped unexpectedly (exit code {w.process.exitcode})"

    def fail(self, w: Worker, problem: str) -> NoReturn:
        """Stop every worker, then raise PurenetError naming w and what went wrong."""
        self.close()
        raise PurenetError(f"worker process {w.number} of {self.n_processes - 1} {problem}; "
                           f"all workers were stopped")

    def check_same_run(self, state: TrainState, images, labels) -> None:
        """The workers' replicas are only valid for the run they started with."""
        served_state, served_images, served_labels = self.served
        if state is not served_state or images is not served_images or labels is not served_labels:
            raise ValueError("a ParallelEngine serves the one TrainState, images and labels "
                             "of its first step; make a new engine for another run")
        if state.step != self.next_step:
            raise ValueError(f"state.step is {state.step} but the workers' replicas are at "
                             f"step {self.next_step}; the state was changed outside the engine")


def make_engine(n_processes: int):
    """SerialEngine for 1 process, ParallelEngine for more."""
    return SerialEngine() if n_processes == 1 else ParallelEngine(n_processes)
