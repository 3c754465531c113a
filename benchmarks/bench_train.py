"""Training speed: ms per sample and minutes per epoch, for each kernel, process count and NumPy.

    python3 benchmarks/bench_train.py              # the table
    pypy3 benchmarks/bench_train.py                # the same on PyPy
    python3 benchmarks/bench_train.py --json       # the same figures as JSON
    python3 benchmarks/bench_train.py --kernels sumprod --workers 1,2,3 --chunks 7

What one "sample" costs is one example's share of a training step:
forward, backward and the momentum update, for the default 784-512-10
network and mini-batch (128).  A minute per epoch is 60,000 samples, so
min/epoch = ms/sample * 60,000 / 60,000 -- numerically the same figure.

Rows:
    plain path        network.forward + backward + sgd_step on dense lists
                      (a mini-batch of a few examples: it is slow)
    dense sumprod     a reference, not purenet's code: the obvious dense
                      version with math.sumprod (every pixel, zero or not,
                      W1 row by row): the rung issue 6 measured at about
                      9 ms/sample on its machine, so the ratio between the
                      two machines can be read off (on 3.9-3.11 and PyPy,
                      the sum(map(mul)) fallback)
    KERNEL, N proc.   purenet/speed's KERNEL (loops, sumprod) as training
                      runs it: SerialEngine for 1 process, ParallelEngine
                      for N = 2, ...  (--kernels, --workers)
    no shortcut       with --shortcut-row: the sumprod kernel with every
                      pixel column a sumprod (no one-example shortcut)
    NumPy             the same network, batch and float64 arithmetic with
                      one BLAS thread (it is never a dependency of purenet).
                      Measured by this Python if it can import NumPy, else
                      by --numpy-python (default: the first of python3,
                      python3.12, python3.11 on PATH that can), in the same
                      run; the table says which Python measured it.

Each row's "x NumPy" column is its ms/sample over NumPy's.  Each row is
timed in chunks of a few mini-batches (wall clock, so that worker
processes count) after warm-up chunks, and the median chunk is reported
with the fastest and slowest.  On PyPy the warm-up matters: its JIT
compiles the loops during the first batches, which run several times
slower (--warmup, default 1 chunk on CPython and 3 on PyPy).  Each row
runs in a fresh Python process: where the weights' floats lie in memory
changes the sumprod kernel's speed (scattered floats make its gathers miss
the cache; up to 2x), and a process that has built and freed one network
lays the next one out differently, so rows measured one after another in
one process were biased by their order.  The CPU time of each process
over the timed chunks is shown too (workers' from /proc, on Linux).  The
machine's load average is printed before and after: on a shared machine
the wall clock includes waiting for a core, and the parallel rows suffer
most; on an idle machine with a core per process, the wall clock of N
processes would be about the largest of their CPU times.

The targets of issue 17 are printed at the end (never asserted by a
test): PyPy, loop kernel, one process <= 0.5 ms/sample and <= about 7x
NumPy; CPython 3.12, one process <= 5 ms/sample.
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
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from itertools import repeat  # noqa: E402
from typing import Callable, Dict, List, Optional, Tuple  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from purenet import speed  # noqa: E402
from purenet.mnist import load_mnist  # noqa: E402
from purenet.network import (backward, forward, he_init, one_hot, sgd_step, softmax,  # noqa: E402
                             to_vector)
from purenet.speed import sumprod  # noqa: E402
from purenet.speed.serial import batch_gradients  # noqa: E402
from purenet.speed.stages import FastNet  # noqa: E402
from purenet.train import TrainConfig, new_state  # noqa: E402

PYPY = platform.python_implementation() == "PyPy"

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
                 worker_pids: Callable[[], List[int]] = list, warmup: int = 1) -> Dict:
    """ms per sample of each chunk after `warmup` chunks: median, fastest, slowest.

    Also the CPU time per sample of this process and of each worker over
    all timed chunks: on a busy machine the wall clock counts time spent
    waiting for a core, CPU time does not.
    """
    for k in range(warmup):
        chunk(k)
    pids = worker_pids()
    workers_before = [cpu_seconds(pid) for pid in pids]
    cpu_before = time.process_time()
    per_sample, total = [], 0
    for k in range(warmup, warmup + chunks):
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
    """sumprod.pixel_column without its one-example shortcut: a sumprod for every entry."""
    return list(map(sumprod.sumprod, zip(*[dZ1[n] for n in examples]), repeat(values)))


def dense_sumprod_row(images, labels, order, sizes, batch_size, batches, chunks, warmup):
    """The same step dense: z1_i = sumprod(W1[i], x) over all n_in pixels, dW1 row by row.

    dW1[i][j] = sum_n dz1_n,i x_n,j is one sumprod of length B per entry, and
    the momentum update runs as in sumprod.momentum_step_.  W2 and the biases
    are left fixed: their share of the work is under 2%.
    """
    n_in, n_hidden, n_out = sizes
    p = he_init(sizes, seed=0)
    W1, b1, W2, b2 = p.W1, p.b1, p.W2, p.b2
    W2T = list(zip(*W2))
    V1 = [[0.0] * n_in for _ in range(n_hidden)]
    dot = sumprod.sumprod

    def step(batch: List[int]) -> None:
        nonlocal W1, V1
        X = [to_vector(images[n]) for n in batch]
        dZ1 = []
        for x, label in zip(X, [labels[n] for n in batch]):
            z1 = [dot(w, x) + b for w, b in zip(W1, b1)]
            h = [v if v > 0.0 else 0.0 for v in z1]
            z2 = [dot(w, h) + b for w, b in zip(W2, b2)]
            dz2 = [a - b for a, b in zip(softmax(z2), one_hot(label, n_out))]
            dh = [dot(col, dz2) for col in W2T]
            dZ1.append([d if z > 0.0 else 0.0 for d, z in zip(dh, z1)])
        XT = list(zip(*X))                       # XT[j][n] = x_n,j
        c = 1.0 / len(batch)
        new_W1, new_V1 = [], []
        for w, v, dz1_i in zip(W1, V1, zip(*dZ1)):
            g = map(dot, repeat(dz1_i), XT)      # row i of dW1, summed over n
            v = [MOMENTUM * a + c * b for a, b in zip(v, g)]
            new_V1.append(v)
            new_W1.append([t - LR * a for t, a in zip(w, v)])
        W1, V1 = new_W1, new_V1

    def chunk(k: int) -> int:
        for b in range(k * batches, (k + 1) * batches):
            step(order[b * batch_size:(b + 1) * batch_size])
        return batches * batch_size

    return timed_chunks(chunk, chunks, warmup=warmup)


def engine_row(engine, images, labels, order, sizes, batch_size, batches, chunks, warmup):
    """An engine of purenet/speed stepping through the shuffled batches, as training runs it."""
    state = new_state(TrainConfig(sizes=sizes))

    def chunk(k: int) -> int:
        for b in range(k * batches, (k + 1) * batches):
            engine.step(order[b * batch_size:(b + 1) * batch_size], LR, MOMENTUM)
        return batches * batch_size

    def worker_pids() -> List[int]:
        return [w.process.pid for w in getattr(engine, "workers", [])]

    engine.start(state)
    try:
        return timed_chunks(chunk, chunks, worker_pids, warmup)
    finally:
        engine.close()


def numpy_row(images, labels, order, sizes, batch_size, batches, chunks, warmup):
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

    row = timed_chunks(chunk, chunks, warmup=warmup)
    row["numpy_version"] = np.__version__
    row["measured_by"] = f"{platform.python_implementation()} {sys.version.split()[0]}"
    return row


def update_cost(kernel_name: str, images, labels, order, sizes, repeats: int = 5
                ) -> Dict[str, float]:
    """ms per step of a kernel's momentum_step_ alone (a fixed cost per step, whatever B).

    It touches every weight, lit or not, so per sample it costs twice as
    much at B = 64 as at B = 128.
    """
    kernel = speed.KERNELS[kernel_name]
    state = new_state(TrainConfig(sizes=sizes))
    net, velocity = FastNet.from_params(state.params), FastNet.from_params(state.velocity)
    batch = order[:128]
    grads = batch_gradients(kernel, net, [images[n] for n in batch], [labels[n] for n in batch])
    step_times = []
    for _ in range(repeats + (10 if PYPY else 0)):     # PyPy: the JIT warms up first
        start = time.perf_counter()
        kernel.momentum_step_(net, velocity, grads, LR, MOMENTUM)
        step_times.append(time.perf_counter() - start)
    return {"momentum_step_ms": statistics.median(step_times[-repeats:]) * 1e3}


# --- the run ----------------------------------------------------------------------

def row_keys(args) -> List[Tuple[str, str]]:
    """(key, name) of each row the arguments ask for, in table order (NumPy first: the ratios)."""
    keys = []
    if not args.no_numpy:
        keys.append(("numpy", "NumPy, float64, 1 BLAS thread"))
    if args.plain_examples:
        keys.append(("plain", f"plain path (network.py, batch {args.plain_examples})"))
    if args.dense:
        keys.append(("dense", "dense sumprod, 1 process (reference, not purenet)"))
    for kernel in args.kernels:
        if kernel == "sumprod" and args.shortcut_row:
            keys.append(("sumprod-general", "sumprod, 1 process, no one-example shortcut"))
        for n in args.workers:
            keys.append((f"{kernel}-{n}", f"{kernel} kernel, {n} process{'es' if n > 1 else ''}"
                         + (" (SerialEngine)" if n == 1 else " (ParallelEngine)")))
    for kernel in args.kernels:
        keys.append((f"per-step-{kernel}", f"per step, {kernel}"))
    return keys


def measure_row(key: str, args) -> Optional[Dict]:
    """One row's figures, measured in this process."""
    data = load_mnist("train")
    images, labels = data.images, data.labels
    order = list(range(len(images)))
    random.Random(0).shuffle(order)           # batches as training draws them
    sizes = (784, args.hidden, 10)
    common = (images, labels, order, sizes, args.batch_size, args.batches)
    warmup = args.warmup
    if key == "plain":
        return plain_row(images, labels, sizes, args.plain_examples, max(2, args.chunks // 2))
    if key == "dense":
        return dense_sumprod_row(*common, max(2, args.chunks // 2), warmup)
    if key == "numpy":
        return numpy_row(*common, args.chunks, warmup)
    if key.startswith("per-step-"):
        return update_cost(key[len("per-step-"):], images, labels, order, sizes)
    if key == "sumprod-general":
        sumprod.pixel_column = general_pixel_column       # this process measures nothing else
        key = "sumprod-1"
    kernel, n = key.rsplit("-", 1)
    engine = speed.engine(int(n), kernel)(images, labels)
    return engine_row(engine, *common, args.chunks, warmup)


def numpy_python(args) -> Optional[str]:
    """The Python that measures the NumPy row: this one if it has NumPy, else one that has."""
    candidates = [sys.executable] + ([args.numpy_python] if args.numpy_python else
                                     [shutil.which(name) for name in
                                      ("python3", "python3.12", "python3.11")])
    for python in candidates:
        if python and subprocess.run([python, "-c", "import numpy"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL).returncode == 0:
            return python
    return None


def measure_in_fresh_process(key: str, args, python: str = sys.executable) -> Optional[Dict]:
    """measure_row in a new Python process, so that no row inherits another's heap."""
    command = [python, os.path.abspath(__file__), "--row", key,
               "--hidden", str(args.hidden), "--batch-size", str(args.batch_size),
               "--batches", str(args.batches), "--chunks", str(args.chunks),
               "--warmup", str(args.warmup), "--plain-examples", str(args.plain_examples)]
    if not args.dense:
        command.append("--no-dense")
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(done.stdout)


def measure(args) -> Dict:
    sizes = (784, args.hidden, 10)
    report = {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
              "cpu": cpu_name(), "cpus": os.cpu_count(), "sizes": list(sizes),
              "batch_size": args.batch_size, "warmup_chunks": args.warmup,
              "load_before": load(), "rows": [], "per_step": {}}
    if not args.json:
        print(header(report), flush=True)
    numpy = None
    for key, name in row_keys(args):
        if key == "numpy":
            python = numpy_python(args)
            row = measure_in_fresh_process(key, args, python) if python else None
        else:
            row = measure_in_fresh_process(key, args)
        if key.startswith("per-step-"):
            report["per_step"][key[len("per-step-"):]] = row
        elif row is not None:
            if key == "numpy":
                numpy = row
                name += f" ({row['measured_by']}, NumPy {row['numpy_version']})"
            elif numpy:
                row["over_numpy"] = row["ms_per_sample"] / numpy["ms_per_sample"]
                row["over_numpy_cpu"] = row["cpu_ms_per_sample"] / numpy["cpu_ms_per_sample"]
            report["rows"].append({"name": name, "key": key, **row})
            if not args.json:
                print(format_row(report["rows"][-1]), flush=True)
    report["load_after"] = load()
    report["targets"] = targets(report)
    return report


def targets(report: Dict) -> List[str]:
    """Issue 17's targets for this Python, against this run's rows (printed, never asserted)."""
    rows = {r["key"]: r for r in report["rows"]}
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if report["implementation"] == "PyPy" and "loops-1" in rows:
        r = rows["loops-1"]
        lines.append(f"PyPy, loop kernel, 1 process: {r['ms_per_sample']:.3f} ms/sample, target "
                     f"<= 0.5: {verdict(r['ms_per_sample'] <= 0.5)}")
        if "over_numpy" in r:
            lines.append(f"PyPy, loop kernel, 1 process: {r['over_numpy']:.1f}x NumPy, target "
                         f"<= about 7x: {verdict(r['over_numpy'] <= 7.0)}")
    auto = speed.auto_kernel()
    if report["implementation"] == "CPython" and f"{auto}-1" in rows:
        r = rows[f"{auto}-1"]
        target = "target <= 5 (on 3.12)"
        ok = report["python"].startswith("3.12") and r["ms_per_sample"] <= 5.0
        lines.append(f"CPython {report['python']}, {auto} kernel, 1 process: "
                     f"{r['ms_per_sample']:.3f} ms/sample, {target}: "
                     + (verdict(ok) if report["python"].startswith("3.12") else
                        "not this Python's target"))
    return lines


def header(report: Dict) -> str:
    n_in, n_hidden, n_out = report["sizes"]
    return (f"Python {report['python']} ({report['implementation']}), {report['cpu']}, "
            f"{report['cpus']} CPUs, load average {report['load_before']}\n"
            f"network {n_in}-{n_hidden}-{n_out}, batch {report['batch_size']}; "
            f"median chunk (fastest-slowest), wall clock, after {report['warmup_chunks']} "
            f"warm-up chunk(s)\n\n"
            f"{'variant':<52} {'ms/sample':>10} {'min/epoch':>10} {'x NumPy':>8}"
            f"   {'range ms/sample':<16} CPU ms/sample (main + workers)")


def format_row(row: Dict) -> str:
    # 60,000 samples x m ms = 60 m seconds = m minutes
    cpu = f"{row['cpu_ms_per_sample']:.3f}"
    if "worker_cpu_ms_per_sample" in row:
        cpu += "".join(f" + {w:.3f}" for w in row["worker_cpu_ms_per_sample"])
    ratio = f"{row['over_numpy']:.1f}" if "over_numpy" in row else "-"
    name = row["name"] if row["key"] != "numpy" else "NumPy, float64, 1 BLAS thread"
    return (f"{name:<52} {row['ms_per_sample']:>10.3f} {row['ms_per_sample']:>10.2f} {ratio:>8}"
            f"   {row['fastest']:.3f}-{row['slowest']:<10.3f} {cpu}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    parser.add_argument("--batches", type=int, default=2, help="mini-batches per timed chunk")
    parser.add_argument("--chunks", type=int, default=5, help="timed chunks per row (median)")
    parser.add_argument("--warmup", type=int, default=3 if PYPY else 1,
                        help="untimed chunks first (default 1; 3 on PyPy, for the JIT)")
    parser.add_argument("--kernels", default=",".join(sorted(speed.KERNELS)),
                        help=f"kernels to time (default {','.join(sorted(speed.KERNELS))})")
    parser.add_argument("--workers", default="1,2", help="process counts to time, e.g. 1,2,3")
    parser.add_argument("--plain-examples", type=int, default=2,
                        help="examples per timed chunk of the plain path (0: skip it)")
    parser.add_argument("--no-dense", dest="dense", action="store_false",
                        help="skip the dense sumprod reference row")
    parser.add_argument("--shortcut-row", action="store_true",
                        help="also time the sumprod kernel without its one-example shortcut")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy row")
    parser.add_argument("--numpy-python", metavar="PYTHON",
                        help="the Python that measures the NumPy row when this one has no NumPy")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--row", help=argparse.SUPPRESS)   # internal: one row, as JSON
    args = parser.parse_args(argv)
    if args.row:
        print(json.dumps(measure_row(args.row, args)))
        return 0
    args.workers = [int(n) for n in args.workers.split(",")]
    args.kernels = [k for k in args.kernels.split(",") if k]
    unknown = [k for k in args.kernels if k not in speed.KERNELS]
    if unknown:
        parser.error(f"unknown kernel {unknown[0]!r}; choose from {', '.join(speed.KERNELS)}")
    report = measure(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print()
    for kernel, step in report["per_step"].items():
        ms = step["momentum_step_ms"]
        print(f"per step, whatever the batch size: {kernel}.momentum_step_ {ms:.1f} ms "
              f"(= {ms / 64:.3f} ms/sample at B = 64, {ms / 128:.3f} at B = 128)")
    print(f"load average after: {report['load_after']}")
    numpy = next((r for r in report["rows"] if r["key"] == "numpy"), None)
    if numpy:
        print(f"NumPy row measured by {numpy['measured_by']}, NumPy {numpy['numpy_version']}")
    else:
        print("NumPy: not importable by this Python nor by --numpy-python (or --no-numpy): "
              "no ratios")
    for line in report["targets"]:
        print(f"issue 17 target: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
