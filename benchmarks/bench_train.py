"""Training speed: ms per sample and minutes per epoch, plain path, fast path, workers, NumPy.

    python3 benchmarks/bench_train.py              # the table
    python3 benchmarks/bench_train.py --json       # the same figures as JSON
    python3 benchmarks/bench_train.py --workers 1,2,3 --chunks 7

What one "sample" costs is one example's share of a training step:
forward, backward and the momentum update, for the default 784-512-10
network and mini-batch (128).  A minute per epoch is 60,000 samples, so
min/epoch = ms/sample * 60,000 / 60,000 -- numerically the same figure.

Rows:
    plain path        network.forward + backward + sgd_step on dense lists
                      (a mini-batch of a few examples: it is slow)
    dense sumprod     a reference, not purenet's code: the obvious dense
                      version with math.sumprod (every pixel, zero or not,
                      W1 row by row): the rung the issue measured at about
                      9 ms/sample on its machine, so the ratio between the
                      two machines can be read off (on 3.9-3.11, the
                      sum(map(mul)) fallback)
    fast, no shortcut fast.py with every pixel column a sumprod, as before
                      the one-example shortcut (fast.pixel_column)
    fast, 1 process   fast.py as training runs it (SerialEngine)
    N processes       parallel.ParallelEngine, N = 2, ...
    NumPy             the same network, batch and float64 arithmetic with
                      one BLAS thread, when NumPy happens to be installed
                      (it is never a dependency of purenet)

Each row is timed in chunks of a few mini-batches (wall clock, so that
worker processes count) after one warm-up chunk, and the median chunk is
reported with the fastest and slowest.  Each row runs in a fresh Python
process: where the weights' floats lie in memory changes the fast path's
speed (scattered floats make its gathers miss the cache; up to 2x), and a
process that has built and freed one network lays the next one out
differently, so rows measured one after another in one process were
biased by their order.  The CPU time of each process
over the timed chunks is shown too (workers' from /proc, on Linux).  The
machine's load average is printed before and after: on a shared machine
the wall clock includes waiting for a core, and the parallel rows suffer
most; on an idle machine with a core per process, the wall clock of N
processes would be about the largest of their CPU times.
"""

import os

# One BLAS thread, set before anything can import NumPy (which reads these once).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from itertools import repeat  # noqa: E402
from typing import Callable, Dict, List, Optional, Tuple  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from purenet import fast  # noqa: E402
from purenet.mnist import load_mnist, to_vector  # noqa: E402
from purenet.network import backward, forward, he_init, one_hot, sgd_step, softmax  # noqa: E402
from purenet.parallel import ParallelEngine  # noqa: E402
from purenet.train import SerialEngine, TrainConfig, new_state  # noqa: E402

LR, MOMENTUM = 0.05, 0.9


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except (AttributeError, OSError):
        return "n/a"


def cpu_seconds(pid: int) -> Optional[float]:
    """CPU time (user + system) used so far by process pid, from /proc; None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def timed_chunks(chunk: Callable[[int], int], chunks: int,
                 worker_pids: Callable[[], List[int]] = list) -> Dict:
    """ms per sample of each chunk after a warm-up chunk: median, fastest, slowest.

    Also the CPU time per sample of this process and of each worker over
    all timed chunks: on a busy machine the wall clock counts time spent
    waiting for a core, CPU time does not.
    """
    chunk(0)
    pids = worker_pids()
    workers_before = [cpu_seconds(pid) for pid in pids]
    cpu_before = time.process_time()
    per_sample, total = [], 0
    for k in range(1, chunks + 1):
        start = time.perf_counter()
        samples = chunk(k)
        total += samples
        per_sample.append((time.perf_counter() - start) * 1e3 / samples)
    row = {"ms_per_sample": statistics.median(per_sample),
           "fastest": min(per_sample), "slowest": max(per_sample),
           "cpu_ms_per_sample": (time.process_time() - cpu_before) * 1e3 / total}
    after = [cpu_seconds(pid) for pid in pids]
    if pids and None not in workers_before + after:
        row["worker_cpu_ms_per_sample"] = [(b - a) * 1e3 / total
                                           for a, b in zip(workers_before, after)]
    return row


# --- the rows ---------------------------------------------------------------------

def plain_row(images, labels, sizes, examples: int, chunks: int) -> Dict[str, float]:
    params = he_init(sizes, seed=0)
    n_out = sizes[2]

    def chunk(k: int) -> int:
        nonlocal params
        picked = range(k * examples, (k + 1) * examples)
        X = [to_vector(images[n]) for n in picked]
        Y = [one_hot(labels[n], n_out) for n in picked]
        params = sgd_step(params, backward(params, forward(params, X, Y)), LR)
        return examples

    return timed_chunks(chunk, chunks)


def general_pixel_column(dZ1, examples, values):
    """fast.pixel_column without its one-example shortcut: a sumprod for every entry."""
    return list(map(fast.sumprod, zip(*[dZ1[n] for n in examples]), repeat(values)))


def dense_sumprod_row(images, labels, order, sizes, batch_size, batches, chunks):
    """The same step dense: z1_i = sumprod(W1[i], x) over all n_in pixels, dW1 row by row.

    dW1[i][j] = sum_n dz1_n,i x_n,j is one sumprod of length B per entry, and
    the momentum update runs as in fast.momentum_step_.  W2 and the biases
    are left fixed: their share of the work is under 2%.
    """
    n_in, n_hidden, n_out = sizes
    p = he_init(sizes, seed=0)
    W1, b1, W2, b2 = p.W1, p.b1, p.W2, p.b2
    W2T = list(zip(*W2))
    V1 = [[0.0] * n_in for _ in range(n_hidden)]

    def step(batch: List[int]) -> None:
        nonlocal W1, V1
        X = [to_vector(images[n]) for n in batch]
        dZ1 = []
        for x, label in zip(X, [labels[n] for n in batch]):
            z1 = [fast.sumprod(w, x) + b for w, b in zip(W1, b1)]
            h = [v if v > 0.0 else 0.0 for v in z1]
            z2 = [fast.sumprod(w, h) + b for w, b in zip(W2, b2)]
            dz2 = [a - b for a, b in zip(softmax(z2), one_hot(label, n_out))]
            dh = [fast.sumprod(col, dz2) for col in W2T]
            dZ1.append([d if z > 0.0 else 0.0 for d, z in zip(dh, z1)])
        XT = list(zip(*X))                       # XT[j][n] = x_n,j
        c = 1.0 / len(batch)
        new_W1, new_V1 = [], []
        for w, v, dz1_i in zip(W1, V1, zip(*dZ1)):
            g = map(fast.sumprod, repeat(dz1_i), XT)      # row i of dW1, summed over n
            v = [MOMENTUM * a + c * b for a, b in zip(v, g)]
            new_V1.append(v)
            new_W1.append([t - LR * a for t, a in zip(w, v)])
        W1, V1 = new_W1, new_V1

    def chunk(k: int) -> int:
        for b in range(k * batches, (k + 1) * batches):
            step(order[b * batch_size:(b + 1) * batch_size])
        return batches * batch_size

    return timed_chunks(chunk, chunks)


def engine_row(engine, images, labels, order, sizes, batch_size, batches, chunks):
    state = new_state(TrainConfig(sizes=sizes))

    def chunk(k: int) -> int:
        for b in range(k * batches, (k + 1) * batches):
            engine.step(state, order[b * batch_size:(b + 1) * batch_size], LR, MOMENTUM,
                        images, labels)
            state.step += 1
        return batches * batch_size

    def worker_pids() -> List[int]:
        return [w.process.pid for w in getattr(engine, "workers", [])]

    try:
        return timed_chunks(chunk, chunks, worker_pids)
    finally:
        engine.close()


def fast_row_without_shortcut(images, labels, order, sizes, batch_size, batches, chunks):
    kept = fast.pixel_column
    fast.pixel_column = general_pixel_column
    try:
        return engine_row(SerialEngine(), images, labels, order, sizes, batch_size, batches,
                          chunks)
    finally:
        fast.pixel_column = kept


def numpy_row(images, labels, order, sizes, batch_size, batches, chunks):
    """The same step in NumPy, float64, dense, one BLAS thread; None without NumPy."""
    try:
        import numpy as np
    except ImportError:
        return None
    n_in, n_hidden, n_out = sizes
    p = he_init(sizes, seed=0)
    W1, b1, W2, b2 = (np.array(a, dtype=np.float64) for a in (p.W1, p.b1, p.W2, p.b2))
    V = [np.zeros_like(a) for a in (W1, b1, W2, b2)]
    y_all = np.array(labels)

    def step(batch):
        nonlocal W1, b1, W2, b2
        B = len(batch)
        X = np.frombuffer(b"".join([images[n] for n in batch]), dtype=np.uint8).reshape(B, n_in)
        X = X / 255.0
        y = y_all[batch]
        z1 = X @ W1.T + b1
        h = np.maximum(z1, 0.0)
        z2 = h @ W2.T + b2
        z2 = z2 - z2.max(axis=1, keepdims=True)
        e = np.exp(z2)
        p_ = e / e.sum(axis=1, keepdims=True)
        dz2 = p_
        dz2[np.arange(B), y] -= 1.0
        dz2 /= B
        dW2, db2 = dz2.T @ h, dz2.sum(axis=0)
        dz1 = (dz2 @ W2) * (z1 > 0.0)
        dW1, db1 = dz1.T @ X, dz1.sum(axis=0)
        for v, g in zip(V, (dW1, db1, dW2, db2)):
            v *= MOMENTUM
            v += g
        W1 -= LR * V[0]
        b1 -= LR * V[1]
        W2 -= LR * V[2]
        b2 -= LR * V[3]

    def chunk(k: int) -> int:
        for b in range(k * batches, (k + 1) * batches):
            step(np.array(order[b * batch_size:(b + 1) * batch_size]))
        return batches * batch_size

    row = timed_chunks(chunk, chunks)
    row["numpy_version"] = np.__version__
    return row


def update_cost(images, labels, order, sizes, repeats: int = 5) -> Dict[str, float]:
    """ms per step of fast.momentum_step_ alone (a fixed cost per step, whatever B).

    It touches every weight, lit or not, so per sample it costs twice as
    much at B = 64 as at B = 128.
    """
    state = new_state(TrainConfig(sizes=sizes))
    net = state.net
    batch = order[:128]
    grads = fast.batch_gradients(net, [images[n] for n in batch], [labels[n] for n in batch])
    step_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fast.momentum_step_(net, state.velocity, grads, LR, MOMENTUM)
        step_times.append(time.perf_counter() - start)
    return {"momentum_step_ms": statistics.median(step_times) * 1e3}


# --- the run ----------------------------------------------------------------------

def row_keys(args) -> List[Tuple[str, str]]:
    """(key, name) of each row the arguments ask for, in table order."""
    keys = []
    if args.plain_examples:
        keys.append(("plain", f"plain path (network.py, batch {args.plain_examples})"))
    if args.dense:
        keys.append(("dense", "dense sumprod, 1 process (reference, not purenet)"))
    keys.append(("fast-general", "fast path, 1 process, no one-example shortcut"))
    for n in args.workers:
        keys.append((f"processes-{n}", f"fast path, {n} process{'es' if n > 1 else ''}"
                     + (" (SerialEngine)" if n == 1 else " (ParallelEngine)")))
    if not args.no_numpy:
        keys.append(("numpy", "NumPy, float64, 1 BLAS thread"))
    keys.append(("per-step", "per step"))
    return keys


def measure_row(key: str, args) -> Optional[Dict]:
    """One row's figures, measured in this process."""
    data = load_mnist("train")
    images, labels = data.images, data.labels
    order = list(range(len(images)))
    random.Random(0).shuffle(order)           # batches as training draws them
    sizes = (784, args.hidden, 10)
    common = (images, labels, order, sizes, args.batch_size, args.batches)
    if key == "plain":
        return plain_row(images, labels, sizes, args.plain_examples, max(2, args.chunks // 2))
    if key == "dense":
        return dense_sumprod_row(*common, max(2, args.chunks // 2))
    if key == "fast-general":
        return fast_row_without_shortcut(*common, args.chunks)
    if key.startswith("processes-"):
        n = int(key.split("-")[1])
        return engine_row(SerialEngine() if n == 1 else ParallelEngine(n), *common, args.chunks)
    if key == "numpy":
        return numpy_row(*common, args.chunks)
    if key == "per-step":
        return update_cost(images, labels, order, sizes)
    raise ValueError(f"unknown row {key!r}")


def measure_in_fresh_process(key: str, args) -> Optional[Dict]:
    """measure_row in a new Python process, so that no row inherits another's heap."""
    command = [sys.executable, os.path.abspath(__file__), "--row", key,
               "--hidden", str(args.hidden), "--batch-size", str(args.batch_size),
               "--batches", str(args.batches), "--chunks", str(args.chunks),
               "--plain-examples", str(args.plain_examples)]
    if not args.dense:
        command.append("--no-dense")
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(done.stdout)


def measure(args) -> Dict:
    sizes = (784, args.hidden, 10)
    report = {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
              "cpu": cpu_name(), "cpus": os.cpu_count(), "sizes": list(sizes),
              "batch_size": args.batch_size, "load_before": load(), "rows": []}
    if not args.json:
        print(header(report), flush=True)
    for key, name in row_keys(args):
        row = measure_in_fresh_process(key, args)
        if key == "per-step":
            report["per_step"] = row
        elif row is not None:
            report["rows"].append({"name": name, **row})
            if not args.json:
                print(format_row(report["rows"][-1]), flush=True)
    report["load_after"] = load()
    numpy = next((r for r in report["rows"] if r["name"].startswith("NumPy")), None)
    one = next((r for r in report["rows"] if r["name"].startswith("fast path, 1 process (")),
               None)
    if numpy and one:
        report["pure_python_over_numpy"] = one["ms_per_sample"] / numpy["ms_per_sample"]
        report["pure_python_over_numpy_cpu"] = (one["cpu_ms_per_sample"]
                                                / numpy["cpu_ms_per_sample"])
    return report


def header(report: Dict) -> str:
    n_in, n_hidden, n_out = report["sizes"]
    return (f"Python {report['python']} ({report['implementation']}), {report['cpu']}, "
            f"{report['cpus']} CPUs, load average {report['load_before']}\n"
            f"network {n_in}-{n_hidden}-{n_out}, batch {report['batch_size']}; "
            f"median chunk (fastest-slowest), wall clock\n\n"
            f"{'variant':<52} {'ms/sample':>10} {'min/epoch':>10}   {'range ms/sample':<16}"
            f" CPU ms/sample (main + workers)")


def format_row(row: Dict) -> str:
    # 60,000 samples x m ms = 60 m seconds = m minutes
    cpu = f"{row['cpu_ms_per_sample']:.3f}"
    if "worker_cpu_ms_per_sample" in row:
        cpu += "".join(f" + {w:.3f}" for w in row["worker_cpu_ms_per_sample"])
    return (f"{row['name']:<52} {row['ms_per_sample']:>10.3f} {row['ms_per_sample']:>10.2f}"
            f"   {row['fastest']:.3f}-{row['slowest']:<10.3f} {cpu}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    parser.add_argument("--batches", type=int, default=2, help="mini-batches per timed chunk")
    parser.add_argument("--chunks", type=int, default=5, help="timed chunks per row (median)")
    parser.add_argument("--workers", default="1,2", help="process counts to time, e.g. 1,2,3")
    parser.add_argument("--plain-examples", type=int, default=2,
                        help="examples per timed chunk of the plain path (0: skip it)")
    parser.add_argument("--no-dense", dest="dense", action="store_false",
                        help="skip the dense sumprod reference row")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy row")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--row", help=argparse.SUPPRESS)   # internal: one row, as JSON
    args = parser.parse_args(argv)
    if args.row:
        print(json.dumps(measure_row(args.row, args)))
        return 0
    args.workers = [int(n) for n in args.workers.split(",")]
    report = measure(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        step = report["per_step"]
        print(f"\nper step, whatever the batch size: momentum_step_ "
              f"{step['momentum_step_ms']:.1f} ms (= {step['momentum_step_ms'] / 64:.3f} ms/sample "
              f"at B = 64, {step['momentum_step_ms'] / 128:.3f} at B = 128)")
        print(f"load average after: {report['load_after']}")
        if "pure_python_over_numpy" in report:
            print(f"pure Python (1 process) / NumPy (1 BLAS thread): "
                  f"{report['pure_python_over_numpy']:.1f}x wall clock, "
                  f"{report['pure_python_over_numpy_cpu']:.1f}x CPU time")
        else:
            print("NumPy is not importable here (or --no-numpy): no ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
