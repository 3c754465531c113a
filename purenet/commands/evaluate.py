"""``purenet evaluate MODEL``: how well a saved model classifies an MNIST set.

For each image, x_j = pixel_j / 255, the model computes p = softmax(z2) and
predicts the digit argmax_k p_k.  The predictions and the true labels go to
``metrics.classification_report``: accuracy, precision, recall and F1 per
digit with their macro and weighted averages, and the 10 x 10 confusion
matrix.  Predictions use purenet/speed's sparse first layer, by the kernel
``--kernel`` names (tested equal to network.py's plain path).  Printed as
an aligned table, or as one JSON object with ``--json``.
"""

import argparse

from ..metrics import classification_report, format_report
from ..mnist import FILES, N_CLASSES, load_mnist
from ..json_text import to_json_text
from ..model_io import check_outputs, load_model
from ..speed import predict_with_confidence
from ._args import add_data_arguments, add_kernel_argument, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file saved by purenet train")
    parser.add_argument("--set", dest="split", choices=sorted(FILES), default="test",
                        help="which MNIST set to evaluate on (default test)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of the table")
    add_data_arguments(parser)
    add_kernel_argument(parser)
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="use only the first N images of the set")


def run(args: argparse.Namespace) -> int:
    data = load_mnist(args.split, data_dir=args.data_dir, verify=args.verify)
    model = load_model(args.model, expect_sizes=(data.rows * data.cols, None, N_CLASSES))
    n = len(data) if args.limit is None else min(args.limit, len(data))
    images, labels = data.images[:n], data.labels[:n]
    predicted, p_predicted = predict_with_confidence(model.params, images, args.kernel)
    check_outputs(args.model, p_predicted, args.split)   # p_k, computed with k, shows a NaN z2
    report = classification_report(labels, predicted, N_CLASSES)
    n_in, n_hidden, n_out = model.params.sizes
    if args.json:
        print(to_json_text({"model": args.model, "sizes": [n_in, n_hidden, n_out],
                            "set": args.split, **report.to_dict()}))
    else:
        print(f"model {args.model} ({n_in}-{n_hidden}-{n_out}), {args.split} set: "
              f"{n} of {len(data)} images")
        print()
        print(format_report(report))
    return 0
