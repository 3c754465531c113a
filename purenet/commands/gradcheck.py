"""``purenet gradcheck``: long form, short form and finite differences must agree."""

import argparse

from .. import gradcheck
from ..jacobian import DEFAULT_MAX_ENTRIES
from ._args import nonnegative_int, positive_float, positive_int, sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=sizes, default=(4, 3, 3),
                        help="n_in,n_hidden,n_out of the network to check (default 4,3,3)")
    parser.add_argument("--batch", type=positive_int, default=2,
                        help="examples in the mini-batch (default 2)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--tolerance", type=positive_float, default=gradcheck.DEFAULT_TOLERANCE,
                        help="largest relative error that passes (default 1e-6)")
    parser.add_argument("--max-entries", type=positive_int, default=DEFAULT_MAX_ENTRIES,
                        help="budget for the long form's Jacobians, in entries (default 50,000,000)")


def run(args: argparse.Namespace) -> int:
    result = gradcheck.check(args.sizes, args.batch, args.seed, max_entries=args.max_entries)
    n_in, n_hidden, n_out = result.sizes
    print(f"gradcheck: network {n_in}-{n_hidden}-{n_out}, batch {result.batch}, seed {result.seed}, "
          f"eps {gradcheck.EPS:g}, |z1| >= {gradcheck.KINK_MARGIN:g} (no ReLU kinks)")
    print(f"{'parameter':<10} {'long vs short':>15} {'long vs numeric':>16} {'short vs numeric':>17}")
    for name, errors in result.per_parameter.items():
        print(f"{name:<10} {errors['long_vs_short']:>15.3e} {errors['long_vs_numeric']:>16.3e} "
              f"{errors['short_vs_numeric']:>17.3e}")
    print(f"{'max':<10} {result.long_vs_short:>15.3e} {result.long_vs_numeric:>16.3e} "
          f"{result.short_vs_numeric:>17.3e}")
    ok = result.worst() <= args.tolerance
    print(f"{'PASS' if ok else 'FAIL'}: largest relative error {result.worst():.3e} "
          f"{'<=' if ok else '>'} tolerance {args.tolerance:g}")
    return 0 if ok else 1
