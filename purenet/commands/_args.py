"""Argument types shared by the subcommands.

Each one turns a flag's text into a value or raises
``argparse.ArgumentTypeError``, so a nonsense value ends in argparse's own
one-line usage error and exit code 2.
"""

import argparse
import math
from typing import Tuple

from ..speed import KERNEL_CHOICES


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def nonnegative_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not math.isfinite(x) or x <= 0.0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return x


def fraction(text: str) -> float:
    """A number in [0, 1), e.g. a momentum coefficient."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not (0.0 <= x < 1.0):
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return x


def sizes(text: str) -> Tuple[int, int, int]:
    """'4,3,3' -> (4, 3, 3): n_in, n_hidden, n_out, each at least 1."""
    parts = text.split(",")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three whole numbers like 4,3,3, got {text!r}")
    if len(values) != 3 or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected three whole numbers of at least 1 (n_in,n_hidden,n_out), got {text!r}")
    return values  # type: ignore[return-value]


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data-dir DIR and --no-verify, for every command that reads MNIST.

    They arrive as args.data_dir (None: the bundled copy) and args.verify.
    """
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="read the MNIST .gz files from DIR instead of the bundled copy")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="with --data-dir: skip the SHA-256 check of the files")


def add_kernel_argument(parser: argparse.ArgumentParser) -> None:
    """--kernel, for every command that runs the network; it arrives as args.kernel.

    Training, validation, evaluation and every prediction all go through the
    kernel named (purenet/speed), so one run uses one kernel throughout.
    """
    parser.add_argument("--kernel", choices=KERNEL_CHOICES, default="auto",
                        help="how the network is computed: loops (the fastest on PyPy), sumprod "
                             "(the fastest on CPython) or auto, the fastest for the running "
                             "Python (default auto); they agree to rounding")
