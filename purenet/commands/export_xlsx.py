"""``purenet export-xlsx``: write the four backprop trace workbooks (purenet/xlsx/trace/),
or with ``--model M`` the workbook of a trained network to draw a digit for (xlsx/draw.py).

    forward_and_short_form.xlsx   one step of a --sizes network on --batch examples
    long_form.xlsx                the same network's Jacobians, for the first example
    training_steps.xlsx           --steps steps on that mini-batch, plain SGD and with --momentum
    digit_trace.xlsx              MNIST test image --digit, pooled to 7 x 7, through 49-8-10

    --model M: draw_a_digit.xlsx  the trained 784-n-10 network of M, every number a
                                  formula, with a 28 x 28 grid pre-filled with MNIST test
                                  image --digit; only this workbook is written

The flags of the tiny network (--sizes, --batch, --seed, --lr, --momentum,
--steps) mean nothing to a trained model, so giving one with --model is a
usage error rather than a flag silently ignored.

With the default flags and openpyxl 3.1.5 the files are byte for byte the
ones committed in spreadsheets/ (draw_a_digit.xlsx: from the model that
`purenet train` makes with its defaults).  A file of those names already in --out
is replaced only if purenet wrote it (or it is an .xlsx file and
--overwrite is given): see _files.py.  The sizes are capped so that a workbook
stays something a person can read (the long form's dz1/dW1 alone has
n_hidden x n_hidden x n_in entries; draw_a_digit.xlsx holds 2 x 784 cells per
hidden unit, so at most MAX_HIDDEN of them).
"""

import argparse
import os

from ..model_io import ModelError, load_model
from ..xlsx import require_openpyxl
from . import CommandError, UsageError
from ._args import add_data_arguments, nonnegative_int, positive_float, positive_int, sizes
from ._files import check_output_file

MAX_SIZE = 10      # each of n_in, n_hidden, n_out
MAX_BATCH = 4
MAX_STEPS = 20
DRAWING = "draw_a_digit.xlsx"
MODEL_SIZES = (784, None, 10)           # 28 x 28 pixels in, 10 digits out, any hidden width
MAX_HIDDEN = 1024                       # draw_a_digit.xlsx of 512 (the default) is 8 MB
# The flags of the tiny trace network, as (flag, dest, default); None means "not given".
TRACE_FLAGS = (("--sizes", "sizes", (4, 3, 3)), ("--batch", "batch", 2), ("--seed", "seed", 0),
               ("--lr", "lr", 0.5), ("--momentum", "momentum", 0.9), ("--steps", "steps", 10))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Write the four backprop trace workbooks of a tiny network; or, with "
                          f"--model M, only {DRAWING}: the trained network of M, every number "
                          "a formula, and a 28 x 28 grid to draw a digit on.")
    parser.add_argument("--sizes", type=sizes, default=None,
                        help=f"n_in,n_hidden,n_out of the tiny network, each at most {MAX_SIZE} "
                             "(default 4,3,3)")
    parser.add_argument("--batch", type=positive_int, default=None,
                        help=f"examples in the mini-batch, at most {MAX_BATCH} (default 2)")
    parser.add_argument("--seed", type=nonnegative_int, default=None,
                        help="seed of the weights and the examples (default 0)")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="learning rate of the update (default 0.5)")
    parser.add_argument("--momentum", type=float, default=None, metavar="MU",
                        help="momentum of the Momentum sheets of training_steps.xlsx, "
                             "0 <= MU < 1 (default 0.9)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help=f"steps in training_steps.xlsx, at most {MAX_STEPS} (default 10)")
    parser.add_argument("--model", metavar="M", default=None,
                        help=f"write only {DRAWING}, of this trained 784-n-10 model (n at most "
                             f"{MAX_HIDDEN}), instead of the trace workbooks; the flags above "
                             "do not apply to it")
    parser.add_argument("--digit", type=nonnegative_int, default=0,
                        help="which MNIST test image digit_trace.xlsx traces, or with --model "
                             "the grid of draw_a_digit.xlsx starts from (default 0)")
    add_data_arguments(parser)
    parser.add_argument("--out", default="spreadsheets", metavar="DIR",
                        help="directory to write the workbooks into (default spreadsheets)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace .xlsx files of the same names that purenet did not write")


def trace_defaults(args: argparse.Namespace) -> None:
    """The tiny network's flags that were not given take their defaults."""
    for _, dest, default in TRACE_FLAGS:
        if getattr(args, dest) is None:
            setattr(args, dest, default)


def check_out(args: argparse.Namespace) -> None:
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out}: exists and is not a directory")
    if os.path.isdir(args.out) and not os.access(args.out, os.W_OK):
        raise UsageError(f"--out {args.out}: directory is not writable")


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
    check_out(args)


def mnist_test_digit(args: argparse.Namespace):
    """(image, label) of MNIST test image --digit."""
    from ..mnist import load_mnist
    test = load_mnist("test", args.data_dir, verify=args.verify)
    if args.digit >= len(test):
        raise UsageError(f"--digit {args.digit}: the test set has images 0..{len(test) - 1}")
    return test.images[args.digit], test.labels[args.digit]


def save_all(args: argparse.Namespace, books) -> None:
    """Create --out and save each workbook into it, saying what was written."""
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


def run(args: argparse.Namespace) -> int:
    if args.model is not None:
        return run_drawing(args)
    trace_defaults(args)
    check_limits(args)
    require_openpyxl("the trace workbooks")
    from ..xlsx.trace import WORKBOOKS, Digit, Settings, build

    for name in WORKBOOKS:   # before any work: none of them may be a file purenet did not write
        check_output_file(os.path.join(args.out, name), args.overwrite, flag="in --out")

    image, label = mnist_test_digit(args)
    settings = Settings(sizes=tuple(args.sizes), batch=args.batch, seed=args.seed, lr=args.lr,
                        mu=args.momentum, steps=args.steps, digit=args.digit)
    save_all(args, build(settings, Digit(image, label, args.digit)))
    return 0


def run_drawing(args: argparse.Namespace) -> int:
    """export-xlsx --model M: draw_a_digit.xlsx only."""
    given = [flag for flag, dest, _ in TRACE_FLAGS if getattr(args, dest) is not None]
    if given:
        raise UsageError(f"{given[0]} is a flag of the trace workbooks; with --model, "
                         f"export-xlsx writes only {DRAWING}, which has no use for it")
    check_out(args)
    require_openpyxl(DRAWING)
    from ..xlsx.draw import draw_a_digit, drawn

    check_output_file(os.path.join(args.out, DRAWING), args.overwrite, flag="in --out")
    model = load_model(args.model, expect_sizes=MODEL_SIZES)
    n_hidden = model.params.sizes[1]
    if n_hidden > MAX_HIDDEN:
        raise ModelError(f"{args.model}: {n_hidden:,} hidden units; {DRAWING} holds at most "
                         f"{MAX_HIDDEN:,} (2 x 784 cells each: W1 and dW1)")
    image, label = mnist_test_digit(args)
    numbers = drawn(model, image, label, args.digit)
    if not numbers.finite:
        raise ModelError(f"{args.model}: the network's numbers for test image {args.digit} are "
                         "not all finite: the weights are so large that the forward pass "
                         "overflows")
    print(f"building {DRAWING} of {args.model} ({'-'.join(map(str, model.params.sizes))}): "
          f"{model.params.sizes[1] * 2 * 784:,} cells of W1 and dW1 ...", flush=True)
    save_all(args, {DRAWING: draw_a_digit(numbers)})
    return 0
