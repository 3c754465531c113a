"""``purenet show INDEX``: one MNIST digit drawn as text, and what a model thinks it is.

The digit is drawn one text line per pixel row.  Each pixel becomes a
shade character picked by its grey level,

    shade = SHADES[pixel * len(SHADES) // 256]      pixel 0 -> " ", 255 -> "@"

and is printed twice side by side, because a character cell is about twice
as tall as it is wide: 28 x 56 characters look square.

With ``--model`` it also prints p = softmax(z2) for the image, x_j =
pixel_j / 255, as one bar per digit, and the prediction argmax_k p_k,
computed by the kernel ``--kernel`` names (purenet/speed).
"""

import argparse
from typing import List, Optional

from ..matrix import Vector, argmax
from ..mnist import FILES, N_CLASSES, Dataset, load_mnist
from ..model_io import ModelError, check_outputs, load_model
from ..speed import predict_probabilities
from . import UsageError
from ._args import add_data_arguments, add_kernel_argument, nonnegative_int

SHADES = " .:+#@"   # background to full ink
PIXEL_WIDTH = 2     # characters per pixel, so the digit is not squashed sideways
BAR_WIDTH = 40      # characters for p = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("index", type=nonnegative_int, metavar="INDEX",
                        help="which image, counting from 0")
    parser.add_argument("--model", metavar="MODEL",
                        help="a saved model: also show its probabilities and prediction")
    parser.add_argument("--set", dest="split", choices=sorted(FILES), default="test",
                        help="which MNIST set the index counts in (default test)")
    add_data_arguments(parser)
    add_kernel_argument(parser)


def shade(pixel: int) -> str:
    return SHADES[pixel * len(SHADES) // 256]


def digit_art(image: bytes, rows: int, cols: int) -> List[str]:
    """rows lines of text between "|" borders, one per pixel row."""
    lines = []
    for r in range(rows):
        row = image[r * cols:(r + 1) * cols]
        lines.append("|" + "".join(shade(pixel) * PIXEL_WIDTH for pixel in row) + "|")
    return lines


def framed_art(image: bytes, rows: int, cols: int) -> List[str]:
    edge = "+" + "-" * (cols * PIXEL_WIDTH) + "+"
    return [edge] + digit_art(image, rows, cols) + [edge]


def probability_chart(p: Vector, label: Optional[int]) -> List[str]:
    """One line per class k: k, p_k and a bar of round(p_k * BAR_WIDTH) characters.

    The true label, if known (not None), is marked.
    """
    lines = []
    for k, p_k in enumerate(p):
        bar = "#" * round(p_k * BAR_WIDTH)
        mark = "  <- label" if k == label else ""
        lines.append(f"  {k}  {p_k:6.4f}  {bar}{mark}")
    return lines


def verdict(p: Vector, label: int) -> str:
    k = argmax(p)
    outcome = "correct" if k == label else f"wrong, the label is {label}"
    return f"prediction: {k} (p = {p[k]:.4f}), {outcome}"


def check_index(index: int, data: Dataset, split: str) -> None:
    if index >= len(data):
        raise UsageError(f"INDEX {index} is out of range: the {split} set has {len(data)} "
                         f"images, 0 to {len(data) - 1}")


def model_probabilities(path: str, image: bytes, data: Dataset, split: str, index: int,
                        kernel: str = "auto") -> Vector:
    """p = softmax(z2) of the saved model at path for this image (image `index` of `split`)."""
    params = load_model(path).params
    n_in, _, n_out = params.sizes
    if n_in != data.rows * data.cols:
        raise ModelError(f"{path}: model has input size {n_in}, but the images have "
                         f"{data.rows}x{data.cols} = {data.rows * data.cols} pixels")
    if n_out != N_CLASSES:
        raise ModelError(f"{path}: model has output size {n_out}, but MNIST has "
                         f"{N_CLASSES} classes")
    p = predict_probabilities(params, [image], kernel)[0]
    check_outputs(path, [sum(p)], split, start=index)   # a sum of numbers in [0, 1] is NaN iff one is
    return p


def run(args: argparse.Namespace) -> int:
    data = load_mnist(args.split, data_dir=args.data_dir, verify=args.verify)
    check_index(args.index, data, args.split)
    image, label = data.images[args.index], data.labels[args.index]
    # the model is read before anything is printed, so a bad model file
    # gives its one-line error and nothing else
    p = None if args.model is None else model_probabilities(args.model, image, data, args.split,
                                                            args.index, args.kernel)
    print(f"{args.split} set, image {args.index} (of {len(data)}, numbered 0 to {len(data) - 1})")
    print(f"label: {label}")
    for line in framed_art(image, data.rows, data.cols):
        print(line)
    if p is not None:
        print(f"model {args.model}: p = softmax(z2)")
        for line in probability_chart(p, label):
            print(line)
        print(verdict(p, label))
    return 0
