"""``purenet report MODEL``: a training report workbook (purenet/xlsx/report.py).

The workbook shows what the model does on the 10,000 MNIST test images:
Summary, History (charts of loss and accuracy per epoch), Metrics
(confusion-matrix heatmap; precision, recall and F1 as formulas of its
cells), Mistakes (the most confident wrong answers, drawn) and Hidden
units (the first units' incoming weights, drawn).  With openpyxl 3.1.5 the
same model file gives the same bytes.

It needs, for each test image, the predicted digit k and its probability
p_k.  A model saved by ``purenet train`` holds them (``test_predictions``
in model_io.py), stamped with digests of its weights and of the test set;
when both digests match, they are reused and the report takes a few
seconds.  Otherwise (an older model file, weights edited since, another
test set) the images are classified again (purenet/speed), 40 s to a minute
for a 784-512-10 network, by the kernel ``--kernel`` names.  Either way
the workbook is the same, byte for byte; one printed line says which
happened.

``purenet train --report`` writes the same workbook at the end of a run
(``write_report``), from the predictions it has just stored.
"""

import argparse
import os
import time
from typing import List, Optional, Tuple

from ..speed import predict_with_confidence
from ..xlsx import require_openpyxl
from . import CommandError, UsageError
from ._args import add_data_arguments, add_kernel_argument, positive_int
from ._files import check_output_file
from ..mnist import Dataset, N_CLASSES, load_mnist
from ..model_io import Model, check_outputs, load_model
from ..predictions import reuse_problem

DEFAULT_OUT = "report.xlsx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file saved by purenet train")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="FILE",
                        help=f"the workbook to write (default {DEFAULT_OUT}); a file there is "
                             "replaced only if purenet wrote it")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out even if it is an .xlsx file purenet did not write")
    add_data_arguments(parser)
    add_kernel_argument(parser)
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="use only the first N test images (a quicker look)")


def check_out(path: str, overwrite: bool) -> None:
    """A UsageError now, rather than a failure after classifying 10,000 images.

    Never a file that is not a workbook of ours, the model itself included
    (_files.check_output_file).
    """
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a directory; give a file name such as "
                         f"{os.path.join(path, DEFAULT_OUT)}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"--out {path}: directory {parent} does not exist")
    check_output_file(path, overwrite)


def first(test: Dataset, limit: Optional[int]) -> Dataset:
    if limit is None or limit >= len(test):
        return test
    return Dataset(test.images[:limit], test.labels[:limit], test.rows, test.cols)


def predictions_for(model: Model, test: Dataset, limit: Optional[int], source: str,
                    kernel: str = "auto") -> Tuple[List[int], List[float], str]:
    """The predicted digit k and its p_k for the first `limit` test images, and how they were got.

    The model's stored predictions if they are its own on this test set
    (both digests match: see predictions.reuse_problem), else a new forward
    pass over the images.  The digest covers the whole test set, so it is
    checked before `limit` cuts it.
    """
    n = len(first(test, limit))
    problem = reuse_problem(model, test.images, test.labels)
    if problem is None:
        stored = model.test_predictions
        return (stored.predicted[:n], stored.p_predicted[:n],
                f"used the {n:,} test predictions stored in {source} at the end of training")
    started = time.perf_counter()
    predicted, p_predicted = predict_with_confidence(model.params, test.images[:n], kernel)
    check_outputs(source, p_predicted)
    return (predicted, p_predicted,
            f"classified {n:,} test images in {time.perf_counter() - started:.1f} s "
            f"({source} {problem})")


def write_report(model: Model, test: Dataset, path: str, source: str,
                 limit: Optional[int] = None, kernel: str = "auto") -> None:
    """Build the workbook of `model` on the first `limit` test images and save it whole.

    An older file at `path` survives any failure.  Prints where the
    predictions came from and the time each part took.
    """
    from ..xlsx.report import build_report, findings_of
    started = time.perf_counter()
    predicted, p_predicted, how = predictions_for(model, test, limit, source, kernel)
    test = first(test, limit)
    answered = time.perf_counter()
    book = build_report(model, test, source, findings_of(test, predicted, p_predicted))
    try:
        book.save(path)
    except OSError as e:
        raise CommandError(f"{path}: cannot write: {e.strerror or e}") from None
    done = time.perf_counter()
    print(f"wrote {path}: {os.path.getsize(path):,} bytes, {book.formula_count} formulas, "
          f"sheets {', '.join(s.title for s in book.sheets)}")
    print(how)
    print(f"wrote the workbook in {done - answered:.1f} s ({done - started:.1f} s in all)")


def run(args: argparse.Namespace) -> int:
    require_openpyxl("a report")
    check_out(args.out, args.overwrite)
    test = load_mnist("test", args.data_dir, verify=args.verify)
    model = load_model(args.model, expect_sizes=(test.rows * test.cols, None, N_CLASSES))
    write_report(model, test, args.out, os.path.basename(args.model), args.limit, args.kernel)
    return 0
