"""``purenet export-xlsx``: write the four backprop trace workbooks (purenet/xlsx/trace.py).

    forward_and_short_form.xlsx   one step of a --sizes network on --batch examples
    long_form.xlsx                the same network's Jacobians, for the first example
    training_steps.xlsx           --steps steps on that mini-batch, plain SGD and with --momentum
    digit_trace.xlsx              MNIST test image --digit, pooled to 7 x 7, through 49-8-10

With the default flags and openpyxl 3.1.5 the files are byte for byte the
ones committed in spreadsheets/.  A file of those names already in --out
is replaced only if purenet wrote it (or it is an .xlsx file and
--overwrite is given): see _files.py.  The sizes are capped so that a workbook
stays something a person can read (the long form's dz1/dW1 alone has
n_hidden x n_hidden x n_in entries).
"""

import argparse
import os

from ..xlsx import require_openpyxl
from . import CommandError, UsageError
from ._args import add_data_arguments, nonnegative_int, positive_float, positive_int, sizes
from ._files import check_output_file

MAX_SIZE = 10      # each of n_in, n_hidden, n_out
MAX_BATCH = 4
MAX_STEPS = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=sizes, default=(4, 3, 3),
                        help=f"n_in,n_hidden,n_out of the tiny network, each at most {MAX_SIZE} "
                             "(default 4,3,3)")
    parser.add_argument("--batch", type=positive_int, default=2,
                        help=f"examples in the mini-batch, at most {MAX_BATCH} (default 2)")
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help="seed of the weights and the examples (default 0)")
    parser.add_argument("--lr", type=positive_float, default=0.5,
                        help="learning rate of the update (default 0.5)")
    parser.add_argument("--momentum", type=float, default=0.9, metavar="MU",
                        help="momentum of the Momentum sheets of training_steps.xlsx, "
                             "0 <= MU < 1 (default 0.9)")
    parser.add_argument("--steps", type=positive_int, default=10,
                        help=f"steps in training_steps.xlsx, at most {MAX_STEPS} (default 10)")
    parser.add_argument("--digit", type=nonnegative_int, default=0,
                        help="which MNIST test image digit_trace.xlsx traces (default 0)")
    add_data_arguments(parser)
    parser.add_argument("--out", default="spreadsheets", metavar="DIR",
                        help="directory to write the workbooks into (default spreadsheets)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace .xlsx files of the same names that purenet did not write")


def check_limits(args: argparse.Namespace) -> None:
    if max(args.sizes) > MAX_SIZE:
        raise UsageError(f"--sizes {','.join(map(str, args.sizes))}: each size must be at most "
                         f"{MAX_SIZE} (a workbook is for reading; purenet train is for big nets)")
    if args.batch > MAX_BATCH:
        raise UsageError(f"--batch {args.batch}: at most {MAX_BATCH}")
    if not 0.0 <= args.momentum < 1.0:
        raise UsageError(f"--momentum {args.momentum}: must be at least 0 and below 1")
    if args.steps > MAX_STEPS:
        raise UsageError(f"--steps {args.steps}: at most {MAX_STEPS}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out}: exists and is not a directory")
    if os.path.isdir(args.out) and not os.access(args.out, os.W_OK):
        raise UsageError(f"--out {args.out}: directory is not writable")


def run(args: argparse.Namespace) -> int:
    check_limits(args)
    require_openpyxl("the trace workbooks")
    from ..mnist import load_mnist
    from ..xlsx.trace import WORKBOOKS, Digit, Settings, build

    for name in WORKBOOKS:   # before any work: none of them may be a file purenet did not write
        check_output_file(os.path.join(args.out, name), args.overwrite, flag="in --out")

    test = load_mnist("test", args.data_dir, verify=args.verify)
    if args.digit >= len(test):
        raise UsageError(f"--digit {args.digit}: the test set has images 0..{len(test) - 1}")
    settings = Settings(sizes=tuple(args.sizes), batch=args.batch, seed=args.seed, lr=args.lr,
                        mu=args.momentum, steps=args.steps, digit=args.digit)
    digit = Digit(test.images[args.digit], test.labels[args.digit], args.digit)
    books = build(settings, digit)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {args.out}: cannot create the directory: {e.strerror or e}") from None
    for name, book in books.items():
        path = os.path.join(args.out, name)
        try:
            book.save(path)
        except OSError as e:
            raise CommandError(f"{path}: cannot write: {e.strerror or e}") from None
        sheets = ", ".join(sheet.title for sheet in book.sheets)
        print(f"wrote {path}: {book.formula_count} formulas; sheets {sheets}")
    return 0
