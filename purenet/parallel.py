"""Data-parallel training: N processes share each mini-batch and reach the one-process weights.

fast.py cuts a mini-batch of B examples into fixed shards of SHARD_SIZE
and adds the shards' gradient sums g_s in shard order.  Here the shards
are dealt out, as consecutive runs, to N processes: this one (the main
process) and N - 1 worker processes.  For B = 128 and N = 2:

    shards    s0  s1  |  s2  s3
    process   main    |  worker 1

Each process computes its own shards' sums with fast.shard_gradients.
The worker sends its g_s to the main process, which adds everything in
shard order, exactly as fast.batch_gradients does in one process,

    g = (((g_s0 + g_s1) + g_s2) + g_s3) / B,

and sends g back.  Every process then applies the same momentum step to
its own copy (replica) of the weights theta and velocities v:

    v <- mu v + g,   theta <- theta - eta v.

Equal inputs and the same floating-point operations in the same order
give equal bits, so the replicas never drift apart, and the weights are
bit-identical to a one-process run for any N.  Floating-point addition
is not associative ((a + b) + c can differ from a + (b + c) in the last
bit), which is why the order is fixed and why a worker sends each of its
shard sums rather than adding them first (except the main process, whose
shards come first anyway).

What crosses a pipe per step: gradients, never weights.

    main -> worker    the worker's shards as lists of example indices, eta, mu
    worker -> main    per shard: the columns of dW1 for the pixels lit in
                      that shard, db1, dW2, db2, as float64 bytes
                      (array('d')), about 1.9 MB for 32 MNIST images at
                      n_hidden 512 (dense, dW1 alone would be 3.2 MB)
    main -> worker    g, in the same format (the batch's lit pixels)

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
from typing import Any, List, NoReturn, Sequence, Tuple

from .errors import PurenetError
from .fast import FastNet, ShardGrads, add_shards, momentum_step_, shard_gradients, shards
from .train import SerialEngine, TrainState

# count, correct, number of lit pixels, n_hidden, n_out (int64) and loss_sum (float64)
HEADER = struct.Struct("=5qd")

# seconds a worker gets to finish after "stop" before it is terminated
STOP_TIMEOUT = 5.0


# --- gradients as bytes ---------------------------------------------------------

def pack_grads(g: ShardGrads) -> bytes:
    """g as bytes: HEADER, the lit pixels j (int32), then dW1T[j]..., db1, dW2 rows, db2 (float64)."""
    pixels = list(g.dW1T)
    values = array("d")
    for j in pixels:
        values.fromlist(g.dW1T[j])
    values.fromlist(g.db1)
    for row in g.dW2:
        values.fromlist(row)
    values.fromlist(g.db2)
    header = HEADER.pack(g.count, g.correct, len(pixels), len(g.db1), len(g.db2), g.loss_sum)
    return b"".join((header, array("i", pixels).tobytes(), values.tobytes()))


def unpack_grads(blob: bytes) -> ShardGrads:
    """The inverse of pack_grads; float64 bytes read back are the same floats, bit for bit."""
    count, correct, n_pixels, n_hidden, n_out, loss_sum = HEADER.unpack_from(blob)
    view = memoryview(blob)[HEADER.size:]
    pixels = array("i")
    pixels.frombytes(view[:n_pixels * pixels.itemsize])
    numbers = array("d")
    numbers.frombytes(view[n_pixels * pixels.itemsize:])
    v = numbers.tolist()

    def take(n: int) -> List[float]:
        nonlocal v_at
        piece = v[v_at:v_at + n]
        v_at += n
        return piece

    v_at = 0
    dW1T = {j: take(n_hidden) for j in pixels.tolist()}
    db1 = take(n_hidden)
    dW2 = [take(n_hidden) for _ in range(n_out)]
    db2 = take(n_out)
    return ShardGrads(dW1T=dW1T, db1=db1, dW2=dW2, db2=db2, loss_sum=loss_sum,
                      correct=correct, count=count)


def deal_shards(batch: Sequence[int], n_processes: int) -> List[List[List[int]]]:
    """fast.shards of the batch as example indices, dealt in consecutive runs to n processes."""
    parts = [[batch[i] for i in r] for r in shards(len(batch))]
    n = len(parts)
    return [parts[p * n // n_processes:(p + 1) * n // n_processes] for p in range(n_processes)]


def shard_sums(net: FastNet, examples: List[List[int]], images: Sequence[bytes],
               labels: Sequence[int]) -> List[ShardGrads]:
    """fast.shard_gradients of each shard, given as lists of example indices."""
    W2T = list(zip(*net.W2))
    return [shard_gradients(net, [images[n] for n in shard], [labels[n] for n in shard], W2T)
            for shard in examples]


# --- the worker process ---------------------------------------------------------

def one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def worker_main(conn, inherited: List[Any], net: FastNet, velocity: FastNet,
                images: Sequence[bytes], labels: Sequence[int]) -> None:
    """A worker's whole life: answer ("step", ...) messages until ("stop",) or a closed pipe.

    Messages in:  ("step", shards, lr, mu), then ("update",) + g as bytes, or ("skip",)
                  when the batch's loss was not finite (as SerialEngine does);
                  ("stop",) at either point.
    Messages out: ("ok", k) + k shard sums as bytes, or ("error", one line).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the main process handles Ctrl-C
    for c in inherited:   # fork copied the main process's ends of the pipes: close them,
        c.close()         # or this worker would never see its own pipe close
    try:
        while True:
            message = conn.recv()
            if message[0] == "stop":
                return
            _, examples, lr, momentum = message
            parts = shard_sums(net, examples, images, labels)
            conn.send(("ok", len(parts)))
            for part in parts:
                conn.send_bytes(pack_grads(part))
            decision = conn.recv()[0]
            if decision == "update":
                momentum_step_(net, velocity, unpack_grads(conn.recv_bytes()), lr, momentum)
            elif decision == "stop":
                return
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
                args=(theirs, inherited, state.net, state.velocity, images, labels))
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
        """Gradients of `batch` shared out, added in shard order, applied everywhere."""
        if not self.served:
            self.start(state, images, labels)
        self.check_same_run(state, images, labels)
        mine, *theirs = deal_shards(batch, self.n_processes)
        self.busy = True
        for w, examples in zip(self.workers, theirs):
            self.tell(w, ("step", examples, lr, momentum))
        # The main process's shards come first in the order, so it may add them now.
        parts = [add_shards(shard_sums(state.net, mine, images, labels))] if mine else []
        for w in self.workers:
            parts += self.receive(w)
        self.busy = False
        grads = add_shards(parts)
        if math.isfinite(grads.loss_sum):
            blob = pack_grads(grads)
            for w in self.workers:
                self.tell(w, ("update",), blob)
            momentum_step_(state.net, state.velocity, grads, lr, momentum)
        else:
            for w in self.workers:
                self.tell(w, ("skip",))
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

    def receive(self, w: Worker) -> List[ShardGrads]:
        """The shard sums worker w sends, or fail() if it failed or is gone."""
        try:
            # Wait for a message or for the process to end, whichever comes first: a
            # worker that dies while starting may leave its pipe open (spawn keeps a
            # copy of the worker's end until the worker has collected it).
            wait([w.conn, w.process.sentinel])
            if not w.conn.poll():
                raise EOFError
            reply = w.conn.recv()
            if reply[0] == "ok":
                return [unpack_grads(w.conn.recv_bytes()) for _ in range(reply[1])]
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
