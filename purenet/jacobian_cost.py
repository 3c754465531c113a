"""What the long form costs, measured: time and memory against the short form, and how they grow.

For one example of a network n_in - n_hidden - n_out, jacobian.py's long
form builds every Jacobian of the chain rule and multiplies them; its
largest matrix is dz1/dW1, n_hidden x (n_hidden n_in).  So its entries,
and the work of the product dL/dz1 . dz1/dW1, grow like

    long form     n_hidden^2 n_in

while network.backward_one's short form builds dW1 = dz1 x^T directly,

    short form    n_hidden n_in.

Both are measured on a ladder of sizes, doubling n_hidden at a small
fixed n_in, then doubling n_in at a fixed n_hidden.  For each, a cost c
(seconds, or peak bytes) is fitted by least squares on logarithms:

    ln c = a + p ln n_hidden + q ln n_in,   i.e.   c = e^a n_hidden^p n_in^q,

p being the slope of ln c against ln n_hidden along the hidden ladder,
q the slope against ln n_in along the input ladder, and a the mean of
ln c - p ln n_hidden - q ln n_in over the sizes fitted.  Only the largest
FIT_ROWS sizes of each ladder are fitted: at the small ones the cost is
mostly Python's fixed price per call and per list, which does not grow,
and fitting them too would understate the growth (with the whole default
ladder the long form's time fits as n_hidden^1.4 instead of about ^1.9).
The fit is then extrapolated to 784-512-10, where the long form is never
run; the short form is cheap enough to be measured there as a check.

Time is the fastest of a few runs (the others were slowed by something
else); memory is the peak that tracemalloc sees while one backward pass
runs, in a separate run because tracing slows Python down.  tracemalloc
is CPython's: PyPy has none, so there the memory is not measured (None,
printed as "-") and only time is fitted; and there the first runs of a
size include the JIT compiling the code, so raise --repeats.  Before each
size runs, jacobian.check_budget refuses it if its Jacobians would hold
more entries than the budget, so nothing here allocates more than that.
"""

import math
import random
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .jacobian import DEFAULT_MAX_ENTRIES, check_budget, long_form_one, total_entries
from .network import Params, Sizes, Trace, backward_one, forward_one, he_init, one_hot

HIDDEN_LADDER = (2, 4, 8, 16, 32, 64, 128, 256)   # n_hidden, at n_in = LADDER_INPUT
LADDER_INPUT = 16
INPUT_LADDER = (16, 32, 64, 128, 256, 512, 1024)  # n_in, at n_hidden = LADDER_HIDDEN
LADDER_HIDDEN = 16
FIT_ROWS = 3
N_OUT = 10
TARGET: Sizes = (784, 512, 10)
NO_MEMORY = "not measured: this Python has no tracemalloc (PyPy lacks it; CPython has it)"


@dataclass
class Cost:
    """One size's measurements, for one example (bytes None where memory cannot be measured)."""
    sizes: Sizes
    long_seconds: float
    long_bytes: Optional[int]
    short_seconds: float
    short_bytes: Optional[int]

    @property
    def jacobian_entries(self) -> int:
        return total_entries(self.sizes)


@dataclass
class Growth:
    """c = e^a n_hidden^p n_in^q, fitted to one kind of cost."""
    a: float
    p: float      # exponent of n_hidden
    q: float      # exponent of n_in

    def at(self, sizes: Sizes) -> float:
        n_in, n_hidden, _ = sizes
        return math.exp(self.a) * n_hidden ** self.p * n_in ** self.q


# --- measuring --------------------------------------------------------------------

def example(sizes: Sizes, seed: int = 0) -> Tuple[Params, Trace]:
    """He-initialised weights and the forward trace of one random input."""
    n_in, _, n_out = sizes
    params = he_init(sizes, seed)
    rng = random.Random(seed + 1)
    x = [rng.random() for _ in range(n_in)]
    return params, forward_one(params, x, one_hot(rng.randrange(n_out), n_out))


def fastest_seconds(run: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def memory_measurable() -> bool:
    """True where tracemalloc works (CPython); PyPy has no _tracemalloc."""
    try:
        import tracemalloc  # noqa: F401 - here, not at the top: PyPy must import this module
    except ImportError:
        return False
    return True


def peak_bytes(run: Callable[[], object]) -> Optional[int]:
    """The most memory tracemalloc sees allocated during run(), above what was there before.

    None, without running anything, where there is no tracemalloc (PyPy).
    """
    if not memory_measurable():
        return None
    import tracemalloc
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return peak - before


def measure(sizes: Sizes, repeats: int = 3, max_entries: int = DEFAULT_MAX_ENTRIES) -> Cost:
    """Time and peak memory of the long and the short form for one example of `sizes`."""
    check_budget(sizes, max_entries)          # BudgetError before anything is allocated
    params, trace = example(sizes)

    def long_form() -> object:
        return long_form_one(params, trace, max_entries)

    def short_form() -> object:
        return backward_one(params, trace)

    return Cost(sizes=sizes,
                long_seconds=fastest_seconds(long_form, repeats), long_bytes=peak_bytes(long_form),
                short_seconds=fastest_seconds(short_form, repeats),
                short_bytes=peak_bytes(short_form))


def ladder(hidden: Sequence[int] = HIDDEN_LADDER, ladder_input: int = LADDER_INPUT,
           inputs: Sequence[int] = INPUT_LADDER, ladder_hidden: int = LADDER_HIDDEN,
           n_out: int = N_OUT) -> Tuple[List[Sizes], List[Sizes]]:
    """The sizes of the hidden ladder and of the input ladder."""
    return ([(ladder_input, h, n_out) for h in hidden],
            [(n, ladder_hidden, n_out) for n in inputs])


# --- fitting ----------------------------------------------------------------------

def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of y against x: sum (x - mean x)(y - mean y) / sum (x - mean x)^2."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0.0:
        raise ValueError("a ladder needs at least two different sizes to fit a slope")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def fit_growth(hidden_rows: Sequence[Cost], input_rows: Sequence[Cost],
               cost: Callable[[Cost], float]) -> Growth:
    """Fit c = e^a n_hidden^p n_in^q to one kind of cost, on the rows given."""
    p = slope([math.log(r.sizes[1]) for r in hidden_rows],
              [math.log(cost(r)) for r in hidden_rows])
    q = slope([math.log(r.sizes[0]) for r in input_rows],
              [math.log(cost(r)) for r in input_rows])
    rows = list(hidden_rows) + list(input_rows)
    a = sum(math.log(cost(r)) - p * math.log(r.sizes[1]) - q * math.log(r.sizes[0])
            for r in rows) / len(rows)
    return Growth(a, p, q)


COSTS: Dict[str, Callable[[Cost], float]] = {
    "long form time": lambda r: r.long_seconds,
    "long form memory": lambda r: r.long_bytes,
    "short form time": lambda r: r.short_seconds,
    "short form memory": lambda r: r.short_bytes,
}


def fit_all(hidden_rows: Sequence[Cost], input_rows: Sequence[Cost],
            fit_rows: int = FIT_ROWS) -> Dict[str, Growth]:
    """Each kind of cost measured in every row, fitted on the largest `fit_rows` sizes of each ladder.

    (Memory is not measured on PyPy: only the times are fitted there.)
    """
    hidden_fit = sorted(hidden_rows, key=lambda r: r.sizes[1])[-fit_rows:]
    input_fit = sorted(input_rows, key=lambda r: r.sizes[0])[-fit_rows:]
    return {name: fit_growth(hidden_fit, input_fit, cost) for name, cost in COSTS.items()
            if all(cost(r) is not None for r in hidden_fit + input_fit)}


def measure_short_form(sizes: Sizes, repeats: int = 3) -> Tuple[float, Optional[int]]:
    """Time and peak memory of the short form alone (it fits at any MNIST size)."""
    params, trace = example(sizes)

    def short_form() -> object:
        return backward_one(params, trace)

    return fastest_seconds(short_form, repeats), peak_bytes(short_form)
