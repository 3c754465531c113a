"""``purenet report MODEL``: a training report workbook (purenet/xlsx/report.py).

The model classifies the 10,000 MNIST test images (fast.py) and the
workbook shows what happened: Summary, History (charts of loss and
accuracy per epoch), Metrics (confusion-matrix heatmap; precision, recall
and F1 as formulas of its cells), Mistakes (the most confident wrong
answers, drawn) and Hidden units (the first units' incoming weights,
drawn).  With openpyxl 3.1.5 the same model file gives the same bytes.

``purenet train --report`` writes the same workbook at the end of a run
(``write_report``).
"""

import argparse
import os
import time
from typing import Optional

from ..errors import PurenetError, UsageError
from ..xlsx import require_openpyxl
from ._args import add_data_arguments, positive_int
from ..mnist import Dataset, N_CLASSES, load_mnist
from ..model_io import Model, load_model

DEFAULT_OUT = "report.xlsx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file saved by purenet train")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="FILE",
                        help=f"the workbook to write (default {DEFAULT_OUT})")
    add_data_arguments(parser)
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="use only the first N test images (a quicker look)")


def check_out(path: str) -> None:
    """A UsageError now, rather than a failure after classifying 10,000 images."""
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a directory; give a file name such as "
                         f"{os.path.join(path, DEFAULT_OUT)}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"--out {path}: directory {parent} does not exist")


def first(test: Dataset, limit: Optional[int]) -> Dataset:
    if limit is None or limit >= len(test):
        return test
    return Dataset(test.images[:limit], test.labels[:limit], test.rows, test.cols)


def write_report(model: Model, test: Dataset, path: str, source: str) -> None:
    """Classify the test set, build the workbook and save it whole.

    An older file at `path` survives any failure.  Prints the time of each
    part: classifying the images is most of it for a wide network.
    """
    from ..xlsx.report import build_report, examine
    started = time.perf_counter()
    findings = examine(model, test)
    classified = time.perf_counter()
    book = build_report(model, test, source, findings)
    try:
        book.save(path)
    except OSError as e:
        raise PurenetError(f"{path}: cannot write: {e.strerror or e}") from None
    done = time.perf_counter()
    print(f"wrote {path}: {os.path.getsize(path):,} bytes, {book.formula_count} formulas, "
          f"sheets {', '.join(s.title for s in book.sheets)}")
    print(f"classified {len(test):,} test images in {classified - started:.1f} s, "
          f"wrote the workbook in {done - classified:.1f} s")


def run(args: argparse.Namespace) -> int:
    require_openpyxl("a report")
    check_out(args.out)
    test = first(load_mnist("test", args.data_dir, verify=args.verify), args.limit)
    model = load_model(args.model, expect_sizes=(test.rows * test.cols, None, N_CLASSES))
    write_report(model, test, args.out, os.path.basename(args.model))
    return 0
