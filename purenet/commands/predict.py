"""``purenet predict IMAGE...``: what a trained network makes of your own picture of a digit.

Each IMAGE (PNG, or PGM/PBM/PPM) is read by ``purenet/image`` and prepared by
``digit.py`` the way MNIST's digits were: ink found and turned light on
dark, cropped, scaled into a 20 x 20 box and centred by mass in a 28 x 28
field.  Then, as for a test image, x_j = pixel_j / 255, the model computes
p = softmax(z2), and the prediction is argmax_k p_k.

For each image it prints what preparing did, the prepared 28 x 28 digit as
text art (drawn as ``purenet show`` draws a test digit), p as one bar per
digit, and the prediction; ``--json`` prints one JSON object instead.
``--save-prepared FILE.pgm`` also writes the prepared digit (of a single
IMAGE) as a PGM image, to see exactly what the network saw.  It never
writes through anything but a regular file, and replaces an existing file
only if that file is a PGM image and not the IMAGE itself, so a mistyped
name cannot destroy, say, the photo.

The JSON object is {"model", "sizes", "images": [one object per IMAGE]},
each with "image" (the path), "width", "height", "format", "inverted",
"ink_box" ([left, top, right, bottom) in the picture), "scaled" (the ink's
[width, height] after scaling), "offset" ([column, row] of its top left
corner in the field), "prepared" (28 rows of 28 pixels 0..255), "p" and
"prediction".

The model and every image are read and prepared before anything is
printed or saved, so a bad one ends in its one-line error and nothing else.
"""

import argparse
import os
import stat
from typing import List, Sequence, Tuple

from ..digit import FIELD, Prepared, prepare_digit
from ..image import Image, ImageError, read_image, write_pgm
from ..matrix import Vector, argmax
from ..mnist import N_CLASSES
from ..json_text import to_json_text
from ..model_io import ModelError, load_model
from ..network import Params
from ..speed import predict_probabilities
from . import UsageError
from ._args import add_kernel_argument
from .show import framed_art, probability_chart

DEFAULT_MODEL = os.path.join("model", "model.json")   # where `purenet train` saves by default
PGM_MAGICS = (b"P2", b"P5")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="a picture of one digit: PNG, or PGM/PBM/PPM")
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="MODEL",
                        help=f"a model saved by purenet train (default {DEFAULT_MODEL})")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of text")
    parser.add_argument("--save-prepared", metavar="FILE.pgm",
                        help="also write the prepared 28x28 digit as a PGM image (one IMAGE only)")
    add_kernel_argument(parser)


def load_params(path: str) -> Params:
    """The parameters of the model at path, which must take 28 x 28 pixels and give 10 classes."""
    if not os.path.lexists(path):
        raise ModelError(f"{path}: no such model file; train one with `python3 -m purenet train` "
                         f"(it saves {DEFAULT_MODEL}), or name one with --model")
    return load_model(path, expect_sizes=(FIELD * FIELD, None, N_CLASSES)).params


def probabilities(params: Params, images: Sequence[bytes], kernel: str = "auto") -> List[Vector]:
    """p = softmax(z2) of each prepared image: the one place this command runs the network."""
    return predict_probabilities(params, images, kernel)


def check_numbers(model: str, paths: Sequence[str], ps: Sequence[Vector]) -> None:
    """ModelError if p is not a number for a picture: the weights are so large that z2 overflows."""
    for path, p in zip(paths, ps):
        if any(v != v for v in p):   # only NaN differs from itself
            raise ModelError(f"{model}: p = softmax(z2) is not a number for {path}: the weights "
                             "are so large that z2 = W2 h + b2 overflows (inf - inf)")


def check_save_target(path: str, images: List[str]) -> None:
    """Refuse, before any work, a --save-prepared that would write somewhere it must not."""
    if len(images) != 1:
        raise UsageError(f"--save-prepared takes a single IMAGE, but {len(images)} were given")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            raise UsageError(f"--save-prepared {path}: {directory} is not a directory") from None
        return
    if not stat.S_ISREG(mode):
        raise UsageError(f"--save-prepared {path}: not a regular file; nothing is written there")
    if os.path.exists(images[0]) and os.path.samefile(path, images[0]):
        raise UsageError(f"--save-prepared {path}: that is the IMAGE itself; refusing to "
                         f"overwrite it")
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
    except OSError as e:
        raise UsageError(f"--save-prepared {path}: cannot read it ({e.strerror or e})") from None
    if magic not in PGM_MAGICS:
        raise UsageError(f"--save-prepared {path}: the file exists and is not a PGM image; "
                         f"refusing to overwrite it")


def read_and_prepare(path: str) -> Tuple[Image, Prepared]:
    image = read_image(path)
    try:
        return image, prepare_digit(image)
    except ImageError as e:   # "no ink found" is about this file: say which
        raise ImageError(f"{path}: {e}") from None


def describe(path: str, image: Image, prepared: Prepared) -> List[str]:
    """Two lines: what the file was, and what preparing did to it."""
    left, top, right, bottom = prepared.box
    polarity = ("dark ink on light paper (inverted)" if prepared.inverted
                else "light ink on dark paper")
    width, height = prepared.scaled
    return [f"{path}: {image.width}x{image.height} {image.kind}, {polarity}",
            f"prepared: its ink ({right - left}x{bottom - top} from column {left}, row {top}) "
            f"scaled to {width}x{height}, centred by mass in {FIELD}x{FIELD}"]


def text_report(path: str, image: Image, prepared: Prepared, p: Vector) -> List[str]:
    k = argmax(p)
    return (describe(path, image, prepared)
            + framed_art(prepared.pixels, FIELD, FIELD)
            + ["p = softmax(z2)"]
            + probability_chart(p, label=None)
            + [f"prediction: {k} (p = {p[k]:.4f})"])


def json_entry(path: str, image: Image, prepared: Prepared, p: Vector) -> dict:
    pixels = prepared.pixels
    return {"image": path, "width": image.width, "height": image.height, "format": image.kind,
            "inverted": prepared.inverted, "ink_box": list(prepared.box),
            "scaled": list(prepared.scaled), "offset": list(prepared.offset),
            "prepared": [list(pixels[r * FIELD:(r + 1) * FIELD]) for r in range(FIELD)],
            "p": p, "prediction": argmax(p)}


def run(args: argparse.Namespace) -> int:
    if args.save_prepared is not None:
        check_save_target(args.save_prepared, args.images)
    params = load_params(args.model)
    images, prepared = zip(*[read_and_prepare(path) for path in args.images])
    ps = probabilities(params, [d.pixels for d in prepared], args.kernel)
    check_numbers(args.model, args.images, ps)
    if args.save_prepared is not None:
        write_pgm(args.save_prepared, prepared[0].pixels, FIELD, FIELD)
    if args.json:
        entries = [json_entry(*each) for each in zip(args.images, images, prepared, ps)]
        print(to_json_text({"model": args.model, "sizes": list(params.sizes), "images": entries}))
        return 0
    print(f"model {args.model} ({'-'.join(map(str, params.sizes))})")
    for each in zip(args.images, images, prepared, ps):
        print()
        for line in text_report(*each):
            print(line)
    if args.save_prepared is not None:
        print()
        print(f"the prepared digit, as the network saw it: {args.save_prepared}")
    return 0
