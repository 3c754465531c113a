"""``purenet jacobian-cost``: time and memory of the long form vs the short form, and their growth."""

import argparse
from typing import List, Optional

from .. import jacobian_cost as jc
from . import UsageError
from ..jacobian import (BYTES_PER_ENTRY, DEFAULT_MAX_ENTRIES, check_budget, jacobian_shapes,
                        total_entries)
from ..network import Sizes
from ._args import positive_int


def int_list(text: str) -> List[int]:
    """'2,4,8' -> [2, 4, 8]: at least two different whole numbers, each at least 1."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, "
                                         f"got {text!r}")
    if any(v < 1 for v in values) or len(set(values)) < 2:
        raise argparse.ArgumentTypeError(f"expected at least two different sizes of 1 or "
                                         f"more, got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hidden", type=int_list, default=list(jc.HIDDEN_LADDER),
                        help="the hidden ladder: n_hidden values (default "
                             f"{','.join(map(str, jc.HIDDEN_LADDER))})")
    parser.add_argument("--hidden-input", type=positive_int, default=jc.LADDER_INPUT,
                        help=f"n_in along the hidden ladder (default {jc.LADDER_INPUT})")
    parser.add_argument("--inputs", type=int_list, default=list(jc.INPUT_LADDER),
                        help="the input ladder: n_in values (default "
                             f"{','.join(map(str, jc.INPUT_LADDER))})")
    parser.add_argument("--inputs-hidden", type=positive_int, default=jc.LADDER_HIDDEN,
                        help=f"n_hidden along the input ladder (default {jc.LADDER_HIDDEN})")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="timed runs per size; the fastest counts (default 3)")
    parser.add_argument("--fit-rows", type=positive_int, default=jc.FIT_ROWS,
                        help="fit the growth on the largest this many sizes of each ladder "
                             f"(default {jc.FIT_ROWS})")
    parser.add_argument("--max-entries", type=positive_int, default=DEFAULT_MAX_ENTRIES,
                        help="memory budget: most Jacobian entries one size may build "
                             f"(default {DEFAULT_MAX_ENTRIES:,})")


def size_name(sizes: Sizes) -> str:
    return "-".join(str(n) for n in sizes)


def seconds_text(s: float) -> str:
    """Readable time from microseconds to days."""
    for limit, unit, scale in ((1e-3, "us", 1e6), (1.0, "ms", 1e3), (120.0, "s", 1.0),
                               (7200.0, "min", 1 / 60), (172800.0, "h", 1 / 3600)):
        if s < limit:
            return f"{s * scale:.3g} {unit}"
    return f"{s / 86400:.3g} days"


def bytes_text(b: Optional[float]) -> str:
    if b is None:
        return "-"          # not measured (no tracemalloc: PyPy)
    for limit, unit, scale in ((1e6, "kB", 1e-3), (1e9, "MB", 1e-6), (1e12, "GB", 1e-9)):
        if b < limit:
            return f"{b * scale:.3g} {unit}"
    return f"{b * 1e-12:.3g} TB"


def row_text(r: jc.Cost) -> str:
    return (f"{size_name(r.sizes):<12} {r.jacobian_entries:>12,} "
            f"{seconds_text(r.long_seconds):>11} {bytes_text(r.long_bytes):>10} "
            f"{seconds_text(r.short_seconds):>11} {bytes_text(r.short_bytes):>10}"
            f" {r.long_seconds / r.short_seconds:>8.0f}x")


def ratio_text(a: Optional[float], b: Optional[float], width: int) -> str:
    return "-".rjust(width + 1) if a is None or b is None else f"{a / b:>{width},.0f}x"


def run(args: argparse.Namespace) -> int:
    hidden_sizes, input_sizes = jc.ladder(args.hidden, args.hidden_input, args.inputs,
                                          args.inputs_hidden)
    budget = args.max_entries
    if args.fit_rows < 2:
        raise UsageError("--fit-rows must be at least 2: a slope needs two sizes")
    for sizes in hidden_sizes + input_sizes:   # refuse before measuring anything
        check_budget(sizes, budget)
    print("purenet jacobian-cost: one example's backward pass, long form (jacobian.long_form_one)"
          " vs short form (network.backward_one)")
    memory = "tracemalloc peak of one run" if jc.memory_measurable() else jc.NO_MEMORY
    print(f"time: fastest of {args.repeats} runs; memory: {memory}")
    print(f"memory budget: {budget:,} Jacobian entries per size, at least "
          f"{bytes_text(budget * BYTES_PER_ENTRY)} at {BYTES_PER_ENTRY} bytes each; "
          f"jacobian.check_budget refuses any size over it before it runs")
    header = (f"{'sizes':<12} {'Jacobian':>12} {'long form':>22} {'short form':>22} "
              f"{'long/':>9}\n{'in-hid-out':<12} {'entries':>12} {'time':>11} {'memory':>10} "
              f"{'time':>11} {'memory':>10} {'short':>9}")
    rows = {}
    for title, ladder in (("hidden ladder", hidden_sizes), ("input ladder", input_sizes)):
        print(f"\n{title}:\n{header}")
        for sizes in ladder:
            rows[sizes] = rows.get(sizes) or jc.measure(sizes, args.repeats, budget)
            print(row_text(rows[sizes]), flush=True)

    fit_rows = min(args.fit_rows, len(hidden_sizes), len(input_sizes))
    fits = jc.fit_all([rows[s] for s in hidden_sizes], [rows[s] for s in input_sizes], fit_rows)
    print(f"\ngrowth, fitted by least squares on logarithms (cost = e^a n_hidden^p n_in^q) "
          f"over the largest {fit_rows} sizes of each ladder:")
    for name, g in fits.items():
        print(f"  {name:<18} ~ n_hidden^{g.p:.2f} n_in^{g.q:.2f}")

    target = jc.TARGET
    long_entries = total_entries(target)
    print(f"\nextrapolated to {size_name(target)} (never run: the long form's Jacobians hold "
          f"{long_entries:,} entries, {long_entries / budget:,.0f}x the budget):")
    t_long, t_short = fits["long form time"].at(target), fits["short form time"].at(target)
    m_long, m_short = (fits[name].at(target) if name in fits else None
                       for name in ("long form memory", "short form memory"))
    print(f"  long form    ~ {seconds_text(t_long):>10}   ~ {bytes_text(m_long):>9}")
    print(f"  short form   ~ {seconds_text(t_short):>10}   ~ {bytes_text(m_short):>9}")
    print(f"  long / short ~ {t_long / t_short:>9,.0f}x   ~ {ratio_text(m_long, m_short, 8)}")
    t_measured, m_measured = jc.measure_short_form(target, args.repeats)
    print(f"  short form measured at {size_name(target)}: {seconds_text(t_measured)}, "
          f"{bytes_text(m_measured)} (a check on the extrapolation)")
    print(f"\nthe long form's matrices at {size_name(target)}, exact entry counts:")
    for name, r, c in sorted(jacobian_shapes(target), key=lambda s: -s[1] * s[2])[:4]:
        print(f"  {name:<8} {r:>4,} x {c:>9,} = {r * c:>13,}")
    print(f"  {'total':<8} {'':>18} {long_entries:>13,}")
    return 0
