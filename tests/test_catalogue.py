"""The catalogue of failures (issue 7): every bad input a learner can give purenet, in one table.

A learner will give purenet wrong paths, half-downloaded files, old model
files and odd flags, and will stop it in the middle of an epoch.  Each row
of CATALOGUE below is one such mistake, listed once.  The test runs the
real command line on it (``python -m purenet ...`` in a subprocess, from
the repository root) in a scratch directory, and asserts the contract that
every failure keeps:

    1. the exit code is not 0, and it is 2 for a usage error (a bad flag);
    2. exactly one line on stderr names the problem: it starts with
       "purenet", contains the row's fragment, and is the last line.  The
       only other lines allowed before it are the progress lines of a run
       that trained before failing ("epoch 1/2  128/256  loss ..."); a
       flag argparse rejects is one line too (no usage synopsis);
    3. no "Traceback" anywhere in the output;
    4. every file that existed before the run is byte-for-byte the same
       afterwards (a named pipe or device is still one, a link still points
       where it did), and no new file is left behind (a half-written
       temporary file, say), except the ones the row names in ``leaves``;
       the only files that may go are a killed save's leftovers the row
       names in ``removes``.

The rows come in groups: "data" (the MNIST files), "model" (model and
checkpoint files, their numbers included), "path" (paths that are not
regular files, and outputs that are not ours to replace), "flag" and
"runtime" (what happens during a run: divergence, Ctrl-C, a full disk).

Each row's scratch directory {w} starts as a copy of the same few files,

    {w}/data/              a tiny valid MNIST: 400 training images, 100 test
                           images (the first ones of the bundled copy),
                           read with --no-verify since they are not the
                           standard files
    {w}/run/checkpoint.json  a run of 2 epochs that stopped after epoch 1
    {w}/model.json         a finished model of hidden width 8, with the
                           test predictions purenet train stores

and the row's ``make`` step breaks one thing in it.  Training rows use a
tiny network (784-8-10, 256 images, 1 epoch), so the table runs in seconds.

How a row is run (``how``):

    plain      the command, and wait for it
    sigint     start a run of many epochs, wait until its first checkpoint
               is on disk, then send SIGINT (what Ctrl-C does)
    disk-full  {w}/run sits on a tmpfs with 16 KiB free, so the
               next checkpoint or workbook cannot be written (a private mount namespace,
               ``unshare --mount``, so nothing is mounted outside the test)
    read-only  {w}/locked is a read-only tmpfs (as root, no permission bit
               stops a write; without root, chmod 555 does the same)
    sigterm, sighup
               as sigint, with SIGTERM (kill, a service manager) or SIGHUP
               (the terminal closed): they end a run as Ctrl-C does
    sigint-twice
               as sigint, pressing Ctrl-C twice 5 ms apart: the second
               press must not break off the shutdown of the worker processes
    busy-out   a first run of many epochs trains in {w}/out; once its first
               checkpoint is there, the row's command runs beside it (and
               the first run is then stopped with Ctrl-C)
    stdout-full, stdout-closed
               standard output is /dev/full (a full disk), or a pipe whose
               reader has gone (``| head`` after its lines)
    sigint-in-save
               press Ctrl-C three times while a file is being saved: with
               its temporary file half written, again while that file is
               being removed, and again as Python shuts down.  A few lines
               in front of the CLI (SAVE_PRESSES) time the presses, since
               no sleep can hit a window of milliseconds.

Kill -9 during a checkpoint write is in tests/test_atomic_save.py, since
there is no error line to check there, only the file left on disk.
"""

import functools
import gzip
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

from purenet.mnist import BUNDLED_DIR, FILES
from purenet.model_io import MAX_MODEL_BYTES, Model, load_model, save_model, write_json_atomic
from purenet.network import he_init

REPO = Path(__file__).resolve().parents[1]
TRAIN_IMAGES, TRAIN_LABELS = FILES["train"]
TEST_IMAGES, TEST_LABELS = FILES["test"]
N_TRAIN, N_TEST = 400, 100          # images in the tiny data set
TIMEOUT = 120                       # seconds; a hung command fails its row

# --- the commands the rows start from (each one succeeds on the good files: see CONTROLS) ---

TINY = "--hidden 8 --limit 256 --val-size 100 --epochs 1"
TRAIN = f"train {TINY} --data-dir {{w}}/data --no-verify --out {{w}}/out"
RESUME = "train --resume {w}/run --data-dir {w}/data --no-verify"
EVALUATE = "evaluate {w}/model.json --data-dir {w}/data --no-verify"
SHOW = "show 0 --model {w}/model.json --data-dir {w}/data --no-verify"
GRADCHECK = "gradcheck --sizes 4,3,3"
EXPORT = "export-xlsx --data-dir {w}/data --no-verify --out {w}/books"
DRAWING = "export-xlsx --model {w}/model.json --data-dir {w}/data --no-verify --out {w}/books"
REPORT = "report {w}/model.json --data-dir {w}/data --no-verify --out {w}/report.xlsx"
LONG_RUN = ("train --hidden 32 --limit 300 --val-size 100 --epochs 50 --batch-size 16 "
            "--data-dir {w}/data --no-verify --out {w}/out")
REPORT_TO = "report {w}/model.json --data-dir {w}/data --no-verify --limit 20 --out"   # + a path


# --- ways to break one thing in {w} (each a function of w; partials so the table shows them) ---

def nothing(w: Path) -> None:
    """Break nothing: the command line itself is the mistake."""


def remove(rel: str, w: Path) -> None:
    (w / rel).unlink()


def write_bytes(rel: str, data: bytes, w: Path) -> None:
    (w / rel).parent.mkdir(parents=True, exist_ok=True)
    (w / rel).write_bytes(data)


def make_dir(rel: str, w: Path) -> None:
    (w / rel).mkdir(parents=True)


def copy(src: str, dst: str, w: Path) -> None:
    (w / dst).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(w / src, w / dst)


def keep_first(fraction: float, rel: str, w: Path) -> None:
    """A copy that stopped part-way: only the first bytes of the file."""
    data = (w / rel).read_bytes()
    (w / rel).write_bytes(data[:int(len(data) * fraction)])


def change_idx(change: Callable[[bytes], bytes], rel: str, w: Path) -> None:
    """Rewrite the decompressed IDX bytes of a .gz file, and compress them again."""
    raw = gzip.decompress((w / rel).read_bytes())
    (w / rel).write_bytes(gzip.compress(change(raw), mtime=0))


def change_json(change: Callable[[dict], None], rel: str, w: Path) -> None:
    """Edit a JSON file as a person with a text editor would (numbers keep their bits)."""
    document = json.loads((w / rel).read_text())
    change(document)
    write_json_atomic(str(w / rel), document)


def word(index: int, value: int, raw: bytes) -> bytes:
    """raw with its index-th big-endian 32-bit header word set to value."""
    return raw[:4 * index] + struct.pack(">I", value) + raw[4 * index + 4:]


def byte(index: int, value: int, raw: bytes) -> bytes:
    return raw[:index] + bytes([value]) + raw[index + 1:]


def drop_last_label(raw: bytes) -> bytes:
    (count,) = struct.unpack_from(">I", raw, 4)
    return word(1, count - 1, raw)[:-1]


def append(extra: bytes, raw: bytes) -> bytes:
    return raw + extra


def set_key(path: str, value, document: dict) -> None:
    """document[a][b]... = value for path "a.b...", where a part may be a list index."""
    *parents, last = path.split(".")
    for part in parents:
        document = document[int(part)] if isinstance(document, list) else document[part]
    if isinstance(document, list):
        document[int(last)] = value
    else:
        document[last] = value


def delete_key(path: str, document: dict) -> None:
    *parents, last = path.split(".")
    for part in parents:
        document = document[part]
    del document[last]


def full_size_test_set_with_one_pixel_changed(w: Path) -> None:
    """The real 10,000-image test set in {w}/full, one pixel of image 0 changed by 1."""
    (w / "full").mkdir()
    raw = gzip.decompress(Path(BUNDLED_DIR, TEST_IMAGES).read_bytes())
    pixel = 16 + 14 * 28 + 14          # the middle of image 0
    changed = byte(pixel, raw[pixel] ^ 1, raw)
    (w / "full" / TEST_IMAGES).write_bytes(gzip.compress(changed, compresslevel=1, mtime=0))
    shutil.copyfile(Path(BUNDLED_DIR, TEST_LABELS), w / "full" / TEST_LABELS)


def images_of_size(rows: int, cols: int, w: Path) -> None:
    """Train and test image files of rows x cols pixels (all lit), in place of the 28x28 ones."""
    for name, count in ((TRAIN_IMAGES, N_TRAIN), (TEST_IMAGES, N_TEST)):
        pixels = bytes(1 + i % 255 for i in range(count * rows * cols))
        raw = struct.pack(">IIII", 0x00000803, count, rows, cols) + pixels
        (w / "data" / name).write_bytes(gzip.compress(raw, mtime=0))


def weight_text(array: str, text: str, rel: str, w: Path, after: str = "") -> None:
    """The file with the first number of array (W1, b2, ...) after `after` written as text."""
    path = w / rel
    document = path.read_text()
    start = document.index(after)
    pattern = r'("%s": \[\s*\[?\s*)[^,\]\s]+' % array
    changed, n = re.subn(pattern, r"\g<1>" + text, document[start:], count=1)
    assert n == 1, f"no {array} in {path}"
    path.write_text(document[:start] + changed)


def number_text(key: str, text: str, rel: str, w: Path) -> None:
    """The file with the number of the first "key": written as text (e.g. "1e400")."""
    path = w / rel
    changed, n = re.subn(r'("%s": )[-+0-9.eE]+' % key, r"\g<1>" + text, path.read_text(), count=1)
    assert n == 1, f"no {key} in {path}"
    path.write_text(changed)


def gzip_bomb(rel: str, w: Path) -> None:
    """The test images' header and first image, then 256 MiB of zeros: a file of about 250 KB."""
    header_and_one = first_of_bundled(TEST_IMAGES, 1, 16, 784)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)     # 31: gzip framing
    with open(w / rel, "wb") as f:
        f.write(packer.compress(word(1, N_TEST, header_and_one)))
        for _ in range(256):
            f.write(packer.compress(bytes(1 << 20)))
        f.write(packer.flush())


def sparse_file(rel: str, size: int, w: Path) -> None:
    """A file of `size` zero bytes that takes no room on the disk (a hole)."""
    with open(w / rel, "wb") as f:
        f.truncate(size)


def leftover(rel: str) -> str:
    """The temporary file a save of rel leaves if killed: .NAME.PID-RANDOM.tmp (atomic.py).

    Its PID is above Linux's largest (2**22), so its writer is surely gone.
    """
    directory, name = os.path.split(rel)
    return os.path.join(directory, f".{name}.4194305-0123456789abcdef.tmp")


def killed_save_leftover(rel: str, w: Path) -> None:
    """What a save of rel killed two minutes ago left beside it."""
    path = w / leftover(rel)
    path.write_bytes(b'{"format": "purenet-model", "params": {"W1": [[0.1, ')
    then = time.time() - 120
    os.utime(path, (then, then))


def huge_weights(rel: str, w: Path) -> None:
    """Every weight of the model set to +-1e300 (its sign kept): finite, but z2 = W2 h + b2 is
    inf - inf = NaN, so p = softmax(z2) is not a number."""
    model = load_model(str(w / rel))
    params = model.params
    for A in (params.W1, params.W2):
        for row in A:
            row[:] = [math.copysign(1e300, v) for v in row]
    save_model(str(w / rel), Model(params=params, hyperparameters=model.hyperparameters,
                                   history=model.history))


def copy_bundled_workbook(name: str, rel: str, w: Path) -> None:
    """A workbook purenet wrote (one of spreadsheets/) in w/rel."""
    (w / rel).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "spreadsheets" / name, w / rel / name)


def make_fifo(rel: str, w: Path) -> None:
    """A named pipe in place of the file: opening it to read waits for a writer."""
    path = w / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    os.mkfifo(path)


def make_device(rel: str, w: Path) -> None:
    """A character device with /dev/null's numbers (1, 3), as mknod makes it (root only).

    Rows give this copy as --out, never /dev/null itself: a purenet that
    wrongly replaced its --out would replace the machine's /dev/null (the
    one time it was tried, before the fix, it did).
    """
    try:
        os.mknod(w / rel, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")


def link_to(target: str, rel: str, w: Path) -> None:
    """A symbolic link to target (e.g. /dev/zero) in place of the file."""
    path = w / rel
    if path.exists():
        path.unlink()
    path.symlink_to(target)


def make_dir_in_place_of(rel: str, w: Path) -> None:
    (w / rel).unlink()
    (w / rel).mkdir()


def foreign_workbook(rel: str, w: Path) -> None:
    """An .xlsx file another program wrote (its creator is not "purenet")."""
    import openpyxl
    book = openpyxl.Workbook()
    book.active["A1"] = "my own sheet"
    book.properties.creator = "Alice"
    (w / rel).parent.mkdir(parents=True, exist_ok=True)
    book.save(w / rel)


def model_for_other_images(w: Path) -> None:
    """A valid model file of a 4-3-3 network, such as gradcheck's."""
    save_model(str(w / "model.json"), Model(params=he_init((4, 3, 3), seed=0)))


def model_too_wide_to_draw(w: Path) -> None:
    """A valid 784-1025-10 model: one hidden unit more than draw_a_digit.xlsx holds."""
    save_model(str(w / "model.json"), Model(params=he_init((784, 1025, 10), seed=0)))


P = functools.partial
DIGITS_400 = "1" + "0" * 400         # 10**400: JSON holds it, a float cannot (max ~1.8e308)
DIGITS_5000 = "9" * 5000             # more digits than int() reads from text on Python 3.11+
HTML = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n"
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
NESTED = b"[" * 100_000 + b"]" * 100_000
DATA_I, DATA_L = f"data/{TRAIN_IMAGES}", f"data/{TRAIN_LABELS}"
CHECKPOINT = "run/checkpoint.json"


# --- pictures for `purenet predict` (issue 16) --------------------------------------------------

sys.path.insert(0, str(Path(__file__).parent))
from image_files import SIGNATURE, chunk, png_bytes, pnm_bytes  # noqa: E402


def stroke(r: int, c: int) -> int:
    """A 40 x 40 picture of a "1": a black stroke with a short flag, on white paper."""
    return 0 if (8 <= r < 34 and 18 <= c < 23) or (8 <= r < 12 and 13 <= c < 18) else 255


DIGIT_PNG = png_bytes(40, 40, [stroke(r, c) for r in range(40) for c in range(40)],
                      filters=(0, 1, 2, 3, 4), idat_parts=2)
PREDICT = "predict {w}/digit.png --model {w}/model.json"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height grey pixels, with one byte of image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def one_bit_flipped_in_idat(data: bytes) -> bytes:
    at = data.index(b"IDAT") + 6
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def each(*makes: Callable[[Path], None]) -> Callable[[Path], None]:
    """One make step that does several, in order."""
    def make(w: Path) -> None:
        for step in makes:
            step(w)
    return make


@dataclass(frozen=True)
class Case:
    group: str                      # data, model, path, flag, runtime
    name: str                       # the mistake, as a learner would put it
    make: Callable[[Path], None]    # breaks one thing in the scratch directory w
    command: str                    # purenet's arguments; {w} is the scratch directory
    code: int                       # the exit code
    says: str                       # a fragment the one error line must contain
    how: str = "plain"              # plain, sigint, disk-full, read-only (see the docstring)
    leaves: Tuple[str, ...] = ()    # new files the run may leave, relative to w
    removes: Tuple[str, ...] = ()   # files the run must remove (a killed save's leftovers)


C = Case
# fmt: off
CATALOGUE: List[Case] = [
    # --- data: the MNIST files -----------------------------------------------------------------
    C("data", "empty data directory", P(make_dir, "empty"),
      f"train {TINY} --data-dir {{w}}/empty --no-verify --out {{w}}/out", 1, "the directory is empty"),
    C("data", "data directory does not exist", nothing,
      f"train {TINY} --data-dir {{w}}/nowhere --no-verify --out {{w}}/out", 1, "nowhere: not a directory"),
    C("data", "data directory is a file", nothing,
      f"train {TINY} --data-dir {{w}}/model.json --no-verify --out {{w}}/out", 1, "model.json: not a directory"),
    C("data", "training images file missing", P(remove, DATA_I), TRAIN, 1,
      f"{TRAIN_IMAGES}: not found"),
    C("data", "training labels file missing", P(remove, DATA_L), TRAIN, 1,
      f"{TRAIN_LABELS}: not found"),
    C("data", "test images file missing (found before training, not after)",
      P(remove, f"data/{TEST_IMAGES}"), TRAIN, 1, f"{TEST_IMAGES}: not found"),
    C("data", "truncated gzip (download stopped half-way)", P(keep_first, 0.5, DATA_I), TRAIN, 1,
      "the gzip data ends early"),
    C("data", "empty file", P(write_bytes, DATA_I, b""), TRAIN, 1,
      "truncated at byte 0 of its 4-byte magic number"),
    C("data", "not gzip at all (an HTML error page saved as .gz)", P(write_bytes, DATA_I, HTML), TRAIN, 1,
      "not a valid gzip file"),
    C("data", "gzip of the wrong thing (an HTML page)", P(write_bytes, DATA_I, gzip.compress(HTML)),
      TRAIN, 1, "magic 0x3C21444F, expected 0x00000803"),
    C("data", "the labels file under the images file's name", P(copy, DATA_L, DATA_I), TRAIN, 1,
      "magic 0x00000801, expected 0x00000803"),
    C("data", "wrong IDX magic", P(change_idx, P(word, 0, 0x00000802), DATA_I), TRAIN, 1,
      "magic 0x00000802, expected 0x00000803"),
    C("data", "header rows do not match the bytes (29 rows of 28)", P(change_idx, P(word, 2, 29), DATA_I),
      TRAIN, 1, f"truncated at byte {16 + N_TRAIN * 784} of {16 + N_TRAIN * 29 * 28}"),
    C("data", "header count larger than the images present", P(change_idx, P(word, 1, N_TRAIN + 1), DATA_I),
      TRAIN, 1, f"truncated at byte {16 + N_TRAIN * 784} of {16 + (N_TRAIN + 1) * 784}"),
    C("data", "bytes left over after the images the header counts", P(change_idx, P(append, bytes(784)), DATA_I),
      TRAIN, 1, "784 extra bytes after"),
    C("data", "header says 0 images", P(change_idx, P(word, 1, 0), DATA_I), TRAIN, 1,
      "the header says 0 images"),
    C("data", "images and labels count mismatch", P(change_idx, drop_last_label, DATA_L), TRAIN, 1,
      f"{N_TRAIN - 1} labels for {N_TRAIN} images"),
    C("data", "a label that is not a digit", P(change_idx, P(byte, 8 + 5, 10), DATA_L), TRAIN, 1,
      "label 10 at index 5 is not a digit 0..9"),
    C("data", "images of another size (2x3 pixels)", P(images_of_size, 2, 3), TRAIN, 1,
      f"{TRAIN_IMAGES}: images of 2x3 = 6 pixels, but the network takes 784"),
    C("data", "images larger than 28x28 (29x28 pixels)", P(images_of_size, 29, 28), TRAIN, 1,
      f"{TRAIN_IMAGES}: images of 29x28 = 812 pixels, but the network takes 784"),
    C("data", "checksum mismatch (one pixel changed in the real test set)",
      full_size_test_set_with_one_pixel_changed, "show 0 --data-dir {w}/full", 1,
      f"{TEST_IMAGES}: checksum mismatch"),
    C("data", "checksum mismatch (a subset passed off as the real files)", nothing,
      f"train {TINY} --data-dir {{w}}/data --out {{w}}/out", 1, f"{TRAIN_IMAGES}: checksum mismatch"),

    # --- model files ---------------------------------------------------------------------------------
    C("model", "model file missing", nothing, "evaluate {w}/absent.json", 1, "absent.json: no such model file"),
    C("model", "model path is a directory", P(make_dir, "adir"), "evaluate {w}/adir", 1,
      "adir: cannot read: it is a directory, not a file"),
    C("model", "empty model file", P(write_bytes, "model.json", b""), EVALUATE, 1,
      "not a purenet model (not valid JSON"),
    C("model", "not JSON", P(write_bytes, "model.json", b"W1 = [[0.1, 0.2]]\n"), EVALUATE, 1,
      "not valid JSON: Expecting value at line 1 column 1"),
    C("model", "not text (a gzip file)", P(write_bytes, "model.json", gzip.compress(b"{}")), EVALUATE, 1,
      "not UTF-8 text"),
    C("model", "model file cut short (copy stopped half-way)", P(keep_first, 0.5, "model.json"), EVALUATE, 1,
      "not a purenet model (not valid JSON"),
    C("model", "JSON of another tool (a Jupyter notebook)", P(write_bytes, "model.json", NOTEBOOK), EVALUATE, 1,
      'JSON without "format": "purenet-model"'),
    C("model", "JSON of another tool that has a format field",
      P(write_bytes, "model.json", b'{"format": "onnx", "version": 9}'), EVALUATE, 1,
      "format is 'onnx', expected \"purenet-model\""),
    C("model", "JSON that is a list", P(write_bytes, "model.json", b"[1, 2, 3]"), EVALUATE, 1,
      'JSON without "format"'),
    C("model", "JSON nested 100,000 deep", P(write_bytes, "model.json", NESTED), EVALUATE, 1,
      "not a purenet model"),
    C("model", "wrong format version", P(change_json, P(set_key, "format_version", 2), "model.json"), EVALUATE, 1,
      "model format version 2 is not supported"),
    C("model", "format version as text", P(change_json, P(set_key, "format_version", "1"), "model.json"),
      EVALUATE, 1, "model format version '1' is not supported"),
    C("model", "sizes disagree with the weight arrays", P(change_json, P(set_key, "sizes.1", 16), "model.json"),
      EVALUATE, 1, "W1 has 8 rows, sizes say 16"),
    C("model", "sizes not three whole numbers", P(change_json, P(set_key, "sizes", [784, 10]), "model.json"),
      EVALUATE, 1, '"sizes" must be [n_in, n_hidden, n_out]'),
    C("model", "a weight row too short", P(change_json, P(set_key, "params.W2.3", [0.5]), "model.json"),
      EVALUATE, 1, "W2[3] has 1 entries, sizes say 8"),
    C("model", "a weight array missing", P(change_json, P(delete_key, "params.b2"), "model.json"), EVALUATE, 1,
      "params.b2 is missing"),
    C("model", "a weight that is text", P(change_json, P(set_key, "params.b1.2", "0.5"), "model.json"),
      EVALUATE, 1, "b1[2] is '0.5', not a number"),
    C("model", "NaN inside the weights", P(weight_text, "W1", "NaN", "model.json"), EVALUATE, 1, "contains NaN"),
    C("model", "Infinity inside the weights", P(weight_text, "W2", "-Infinity", "model.json"), EVALUATE, 1,
      "contains -Infinity"),
    C("model", "a weight too large for a float (1e999)", P(weight_text, "b1", "1e999", "model.json"), EVALUATE, 1,
      "params.b1[0] is inf; every number in a model file must be finite"),
    C("model", "NaN inside the weights, given to show", P(weight_text, "b2", "NaN", "model.json"), SHOW, 1, "contains NaN"),
    C("model", "a model for other images (input size 4)", model_for_other_images, EVALUATE, 1,
      "model has input size 4, expected 784"),
    C("model", "a checkpoint of another hidden width given to --resume", nothing, RESUME + " --hidden 16", 2,
      "was started with 8, and a resumed run keeps its settings"),
    C("model", "a checkpoint whose momentum has another hidden width",
      P(change_json, P(set_key, "training_state.velocity.b1", [0.0] * 16), CHECKPOINT), RESUME, 1,
      "training_state is damaged"),
    C("model", "a checkpoint whose random generator state is damaged",
      P(change_json, P(set_key, "training_state.rng_state.1", [1, 2, 3]), CHECKPOINT), RESUME, 1,
      "training_state is damaged"),
    C("model", "a checkpoint whose momentum holds 1e999",
      P(weight_text, "b2", "1e999", CHECKPOINT, after='"velocity"'), RESUME, 1,
      "training_state.velocity.b2[0] is inf; every number in a model file must be finite"),
    C("model", "a checkpoint whose momentum holds text",
      P(weight_text, "W2", '"0.0"', CHECKPOINT, after='"velocity"'), RESUME, 1, "training_state is damaged"),
    C("model", "a checkpoint edited by hand: learning rate as text",
      P(change_json, P(set_key, "hyperparameters.lr", "fast"), CHECKPOINT), RESUME, 1,
      "hyperparameters.lr is 'fast', expected a finite number above 0"),
    C("model", "a checkpoint edited by hand: negative learning rate",
      P(change_json, P(set_key, "hyperparameters.lr", -0.1), CHECKPOINT), RESUME, 1,
      "hyperparameters.lr is -0.1, expected a finite number above 0"),
    C("model", "a checkpoint edited by hand: batch size 0",
      P(change_json, P(set_key, "hyperparameters.batch_size", 0), CHECKPOINT), RESUME, 1,
      "hyperparameters.batch_size is 0, expected a whole number, at least 1"),
    C("model", "a checkpoint edited by hand: epochs null",
      P(change_json, P(set_key, "hyperparameters.epochs", None), CHECKPOINT), RESUME, 1,
      "hyperparameters.epochs is None, expected a whole number, at least 1"),
    C("model", "a checkpoint edited by hand: unknown schedule",
      P(change_json, P(set_key, "hyperparameters.schedule", "warp"), CHECKPOINT), RESUME, 1,
      "hyperparameters.schedule is 'warp', expected one of cosine"),
    C("model", "a checkpoint whose epoch disagrees with its history",
      P(change_json, P(set_key, "training_state.epoch", 2), CHECKPOINT), RESUME, 1,
      "it is at epoch 2 but its history has 1 epochs"),
    C("model", "a checkpoint whose history lost its timings",
      P(change_json, P(set_key, "history.0", {}), CHECKPOINT), RESUME, 1, 'a history entry has no "seconds"'),
    C("model", "a finished model given to --resume (no training state)", P(copy, "model.json", CHECKPOINT),
      RESUME, 1, "holds no training state, so it cannot be resumed"),
    C("model", "--resume of a directory without a checkpoint", P(make_dir, "nothing-here"),
      "train --resume {w}/nothing-here --data-dir {w}/data --no-verify", 1,
      "checkpoint.json: no such model file"),
    C("model", "stored test predictions cut short (fewer digits than probabilities)",
      P(change_json, P(set_key, "test_predictions.predicted", [7]), "model.json"), EVALUATE, 1,
      f"test_predictions holds 1 predicted digits but {N_TEST} probabilities"),
    C("model", "a stored test prediction that is not a digit",
      P(change_json, P(set_key, "test_predictions.predicted.5", 10), "model.json"), REPORT, 1,
      "model.json: test_predictions.predicted[5] is 10, not a class 0..9"),
    C("model", "a stored test probability above 1",
      P(change_json, P(set_key, "test_predictions.p_predicted.3", 1.5), "model.json"), EVALUATE, 1,
      "test_predictions.p_predicted[3] is 1.5, not a probability in [0, 1]"),
    C("model", "a stored test probability that is text",
      P(change_json, P(set_key, "test_predictions.p_predicted.0", "high"), "model.json"), SHOW, 1,
      "test_predictions.p_predicted[0] is 'high', not a probability in [0, 1]"),
    C("model", "stored test predictions whose digest was edited",
      P(change_json, P(set_key, "test_predictions.params_sha256", "edited"), "model.json"), EVALUATE, 1,
      "test_predictions.params_sha256 is 'edited', not a SHA-256 digest"),
    C("model", "stored test predictions that are not an object",
      P(change_json, P(set_key, "test_predictions", [7, 2, 1]), "model.json"), REPORT, 1,
      '"test_predictions" must be a JSON object or null'),


    # --- model files: numbers JSON can hold and a float cannot -----------------------------------
    C("model", "weights so large (1e300) that p = softmax(z2) is NaN, given to evaluate",
      P(huge_weights, "model.json"), EVALUATE, 1, "p = softmax(z2) is not a number for test image 0"),
    C("model", "weights so large (1e300) that p = softmax(z2) is NaN, given to show",
      P(huge_weights, "model.json"), SHOW, 1, "p = softmax(z2) is not a number for test image 0"),
    C("model", "weights so large (1e300) that p = softmax(z2) is NaN, given to report",
      P(huge_weights, "model.json"), REPORT, 1, "p = softmax(z2) is not a number for test image 0"),
    C("model", "weights so large (1e300) that p = softmax(z2) is NaN, given to predict",
      each(P(huge_weights, "model.json"), P(write_bytes, "digit.png", DIGIT_PNG)), PREDICT, 1,
      "digit.png: the weights are so large that z2 = W2 h + b2 overflows"),
    C("model", "a weight of 401 digits", P(weight_text, "W1", DIGITS_400, "model.json"), EVALUATE, 1,
      "W1[0][0] is a whole number of 401 digits, too large for a float"),
    C("model", "a weight of 5,000 digits", P(weight_text, "W2", DIGITS_5000, "model.json"), EVALUATE, 1,
      "params.W2[0][0] is a whole number of 5,000 digits, too large for a float"),
    C("model", "a weight of 5,000 digits, given to show", P(weight_text, "b1", DIGITS_5000, "model.json"),
      SHOW, 1, "params.b1[0] is a whole number of 5,000 digits"),
    C("model", "a checkpoint whose momentum holds a number of 401 digits",
      P(weight_text, "W1", DIGITS_400, CHECKPOINT, after='"velocity"'), RESUME, 1,
      "training_state.velocity.W1[0][0] is a whole number of 401 digits, too large for a float"),
    C("model", "a checkpoint whose momentum holds a number of 5,000 digits",
      P(weight_text, "b1", DIGITS_5000, CHECKPOINT, after='"velocity"'), RESUME, 1,
      "training_state.velocity.b1[0] is a whole number of 5,000 digits"),
    C("model", "a checkpoint at an epoch of 401 digits",
      P(number_text, "epoch", DIGITS_400, CHECKPOINT), RESUME, 1,
      "history[0].epoch is a whole number of 401 digits"),
    C("model", "a checkpoint whose training_state.epoch has 401 digits",
      P(change_json, P(set_key, "training_state.epoch", 10 ** 400), CHECKPOINT), RESUME, 1,
      "training_state.epoch is a whole number of 401 digits"),
    C("model", "a checkpoint asking for 10**400 epochs",
      P(change_json, P(set_key, "hyperparameters.epochs", 10 ** 400), CHECKPOINT), RESUME, 1,
      "hyperparameters.epochs is a whole number of 401 digits"),
    C("model", "a checkpoint whose epoch took 1e400 seconds",
      P(number_text, "seconds", "1e400", CHECKPOINT), RESUME, 1,
      "history[0].seconds is inf; every number in a model file must be finite"),
    C("model", "a checkpoint whose learning rate is 1e400",
      P(number_text, "lr", "1e400", CHECKPOINT), RESUME, 1, "hyperparameters.lr is inf"),
    C("model", "a model whose learning rate has 5,000 digits",
      P(number_text, "lr", DIGITS_5000, "model.json"), REPORT, 1,
      "hyperparameters.lr is a whole number of 5,000 digits"),
    C("model", "a stored test probability of 401 digits",
      P(weight_text, "p_predicted", DIGITS_400, "model.json"), REPORT, 1,
      "test_predictions.p_predicted[0] is a whole number of 401 digits"),
    C("model", "a stored test prediction of 5,000 digits",
      P(weight_text, "predicted", DIGITS_5000, "model.json"), EVALUATE, 1,
      "test_predictions.predicted[0] is a whole number of 5,000 digits"),
    C("model", "sizes of 401 digits", P(change_json, P(set_key, "sizes.1", 10 ** 400), "model.json"),
      EVALUATE, 1, "sizes[1] is a whole number of 401 digits"),

    # --- reads that would not end: bounded by what a header or a model can promise ------------------
    C("data", "a small gzip that expands to 256 MiB past what its header promises",
      P(gzip_bomb, f"data/{TEST_IMAGES}"), EVALUATE, 1,
      f"{TEST_IMAGES}: more than 65,536 extra bytes after the {16 + N_TEST * 784}"),
    C("data", "a header that promises 4 billion images", P(change_idx, P(word, 1, 0xFFFFFFFF), DATA_I),
      TRAIN, 1, "more than the 1,073,741,824 an IDX file may hold"),
    C("model", "a model file larger than any model purenet saves",
      P(sparse_file, "huge.json", MAX_MODEL_BYTES + 1), EVALUATE.replace("model.json", "huge.json"), 1,
      f"huge.json: not a purenet model (larger than {MAX_MODEL_BYTES:,} bytes"),

    # --- paths that are not regular files, and outputs that are not ours ---------------------------
    C("path", "model file is a named pipe (FIFO)", P(make_fifo, "model.json"), EVALUATE, 1,
      "model.json: cannot read: it is a named pipe (FIFO), not a file"),
    C("path", "show --model of a named pipe", P(make_fifo, "model.json"), SHOW, 1,
      "model.json: cannot read: it is a named pipe (FIFO)"),
    C("path", "report of a model that is a named pipe", P(make_fifo, "model.json"), REPORT, 1,
      "model.json: cannot read: it is a named pipe (FIFO)"),
    C("path", "model file is a link to /dev/zero (never ends)", P(link_to, "/dev/zero", "model.json"),
      EVALUATE, 1, "model.json: cannot read: it is a character device, not a file"),
    C("path", "/dev/null as the model", nothing, "evaluate /dev/null --data-dir {w}/data --no-verify", 1,
      "/dev/null: cannot read: it is a character device"),
    C("path", "an IDX file that is a named pipe (FIFO)", P(make_fifo, f"data/{TEST_IMAGES}"), EVALUATE, 1,
      f"{TEST_IMAGES}: cannot read it: it is a named pipe (FIFO), not a file"),
    C("path", "an IDX file that is a link to /dev/zero", P(link_to, "/dev/zero", DATA_L), TRAIN, 1,
      f"{TRAIN_LABELS}: cannot read it: it is a character device"),
    C("path", "an IDX file that is a directory", P(make_dir_in_place_of, f"data/{TEST_LABELS}"), SHOW, 1,
      f"{TEST_LABELS}: cannot read it: it is a directory"),
    C("path", "report --out is the model it reads", nothing, REPORT_TO + " {w}/model.json", 2,
      "model.json: exists and is not a workbook written by purenet"),
    C("path", "report --out is a checkpoint, with --overwrite", nothing,
      REPORT_TO + " {w}/run/checkpoint.json --overwrite", 2,
      "checkpoint.json: --overwrite replaces only an .xlsx file"),
    C("path", "report --out is a file of the user's", P(write_bytes, "notes.txt", b"my notes\n"),
      REPORT_TO + " {w}/notes.txt", 2, "notes.txt: exists and is not a workbook written by purenet"),
    C("path", "report --out is a workbook another program wrote", P(foreign_workbook, "theirs.xlsx"),
      REPORT_TO + " {w}/theirs.xlsx", 2, "theirs.xlsx: exists and is not a workbook written by purenet"),
    C("path", "report --out is a named pipe", P(make_fifo, "pipe.xlsx"), REPORT_TO + " {w}/pipe.xlsx", 2,
      "pipe.xlsx: is a named pipe (FIFO), not a file; nothing is written to it"),
    C("path", "report --out is a device node", P(make_device, "device.xlsx"), REPORT_TO + " {w}/device.xlsx",
      2, "device.xlsx: is a character device, not a file"),
    C("path", "report --out is a directory", P(make_dir, "adir"), REPORT_TO + " {w}/adir", 2,
      "adir: is a directory; give a file name such as"),
    C("path", "export-xlsx over a file of the user's in --out",
      P(write_bytes, "books/long_form.xlsx", b"my notes\n"), EXPORT, 2,
      "long_form.xlsx: exists and is not a workbook written by purenet"),
    C("path", "export-xlsx over a named pipe in --out", P(make_fifo, "books/digit_trace.xlsx"), EXPORT, 2,
      "digit_trace.xlsx: is a named pipe (FIFO), not a file"),
    C("path", "export-xlsx --out /dev/null", nothing, EXPORT.replace("{w}/books", "/dev/null"), 2,
      "--out /dev/null: exists and is not a directory"),

    # --- flags -------------------------------------------------------------------------------------
    C("flag", "unknown flag", nothing, TRAIN + " --learning-rate 0.1", 2,
      "unrecognized arguments: --learning-rate 0.1"),
    C("flag", "unknown command", nothing, "trian", 2, "invalid choice: 'trian'"),
    C("flag", "no command", nothing, "", 2, "the following arguments are required: COMMAND"),
    C("flag", "negative learning rate", nothing, TRAIN + " --lr -0.1", 2, "argument --lr: must be a finite number above 0"),
    C("flag", "zero learning rate", nothing, TRAIN + " --lr 0", 2, "argument --lr: must be a finite number above 0"),
    C("flag", "NaN learning rate", nothing, TRAIN + " --lr nan", 2, "argument --lr: must be a finite number above 0"),
    C("flag", "infinite learning rate", nothing, TRAIN + " --lr inf", 2, "argument --lr: must be a finite number above 0"),
    C("flag", "learning rate that is not a number", nothing, TRAIN + " --lr fast", 2,
      "argument --lr: expected a number, got 'fast'"),
    C("flag", "momentum of 1", nothing, TRAIN + " --momentum 1", 2, "argument --momentum: must be in [0, 1)"),
    C("flag", "batch size 0", nothing, TRAIN + " --batch-size 0", 2, "argument --batch-size: must be at least 1"),
    C("flag", "batch size larger than the data", nothing, TRAIN + " --batch-size 257", 2,
      "--batch-size 257 is larger than the 256 training images"),
    C("flag", "--limit 0", nothing, TRAIN + " --limit 0", 2, "argument --limit: must be at least 1"),
    C("flag", "--limit larger than the data", nothing, TRAIN + " --limit 1000", 2,
      "--limit 1000 is more than the 300 training images"),
    C("flag", "--hidden 0", nothing, TRAIN + " --hidden 0", 2, "argument --hidden: must be at least 1"),
    C("flag", "--hidden far too large (a typo)", nothing, TRAIN + " --hidden 5120000", 2,
      "--hidden 5120000: at most 16,384 hidden units"),
    C("flag", "--epochs 0", nothing, TRAIN + " --epochs 0", 2, "argument --epochs: must be at least 1"),
    C("flag", "--val-size 0", nothing, TRAIN + " --val-size 0", 2, "argument --val-size: must be at least 1"),
    C("flag", "--val-size that leaves no training images", nothing, TRAIN + f" --val-size {N_TRAIN}", 2,
      f"--val-size {N_TRAIN} leaves no training images"),
    C("flag", "negative seed", nothing, TRAIN + " --seed -1", 2, "argument --seed: must be 0 or more"),
    C("flag", "unknown schedule", nothing, TRAIN + " --schedule warp", 2, "argument --schedule: invalid choice"),
    C("flag", "--workers 0", nothing, TRAIN + " --workers 0", 2, "argument --workers: must be at least 1"),
    C("flag", "unknown kernel", nothing, TRAIN + " --kernel numpy", 2,
      "argument --kernel: invalid choice: 'numpy'"),
    C("flag", "evaluate with an unknown kernel", nothing, EVALUATE + " --kernel fast", 2,
      "argument --kernel: invalid choice: 'fast'"),
    C("flag", "--sizes with a word in it", nothing, "gradcheck --sizes 4,x,3", 2,
      "expected three whole numbers like 4,3,3, got '4,x,3'"),
    C("flag", "--sizes with two numbers", nothing, "gradcheck --sizes 4,3", 2, "got '4,3'"),
    C("flag", "--sizes with a zero", nothing, "gradcheck --sizes 4,0,3", 2, "got '4,0,3'"),
    C("flag", "--sizes empty", nothing, "gradcheck --sizes ''", 2, "got ''"),
    C("flag", "gradcheck --batch 0", nothing, GRADCHECK + " --batch 0", 2, "argument --batch: must be at least 1"),
    C("flag", "gradcheck --tolerance nan", nothing, GRADCHECK + " --tolerance nan", 2,
      "argument --tolerance: must be a finite number above 0"),
    C("flag", "evaluate --limit 0", nothing, EVALUATE + " --limit 0", 2, "argument --limit: must be at least 1"),
    C("flag", "evaluate an unknown set", nothing, EVALUATE + " --set validation", 2, "argument --set: invalid choice"),
    C("flag", "show a negative index", nothing, "show -1", 2, "argument INDEX: must be 0 or more, got -1"),
    C("flag", "show an index past the end", nothing, "show 100 --data-dir {w}/data --no-verify", 2,
      "INDEX 100 is out of range: the test set has 100 images"),
    C("flag", "--out is a file", nothing, TRAIN + " --out {w}/model.json", 2, "is a file, not a directory"),
    C("flag", "--out inside a file", nothing, TRAIN + " --out {w}/model.json/run", 2,
      "cannot create the directory"),
    C("flag", "--out empty", nothing, TRAIN + " --out ''", 2, "--out is empty"),
    C("flag", "--out not writable", P(make_dir, "locked"), TRAIN + " --out {w}/locked", 2,
      "directory is not writable", how="read-only"),
    C("flag", "--out inside a directory that is not writable", P(make_dir, "locked"),
      TRAIN + " --out {w}/locked/run", 2, "cannot create the directory", how="read-only"),
    C("flag", "--out already holds a run", P(copy, CHECKPOINT, "out/checkpoint.json"), TRAIN, 2,
      "already holds checkpoint.json"),

    C("flag", "export-xlsx --sizes above 10", nothing, EXPORT + " --sizes 11,3,3", 2, "each size must be at most 10"),
    C("flag", "export-xlsx --steps 0", nothing, EXPORT + " --steps 0", 2, "argument --steps: must be at least 1"),
    C("flag", "export-xlsx --digit past the end", nothing, EXPORT + f" --digit {N_TEST}", 2,
      f"--digit {N_TEST}: the test set has images 0..{N_TEST - 1}"),
    C("flag", "export-xlsx --out inside a file", nothing, EXPORT + " --out {w}/model.json/books", 2,
      "cannot create the directory"),
    C("flag", "export-xlsx --out not writable", P(make_dir, "locked"), EXPORT + " --out {w}/locked", 2,
      "directory is not writable", how="read-only"),

    # --- runtime ------------------------------------------------------------------------------------
    C("runtime", "Ctrl-C three times while report saves its workbook", nothing, REPORT, 130,
      "purenet: interrupted", how="sigint-in-save"),
    C("runtime", "Ctrl-C three times while export-xlsx saves, beside a workbook of an earlier run",
      P(copy_bundled_workbook, "long_form.xlsx", "books"), EXPORT, 130, "purenet: interrupted",
      how="sigint-in-save"),
    C("runtime", "learning rate that makes the loss diverge", nothing, TRAIN + " --lr 1e300", 1,
      "the loss became nan at step 2 (epoch 1, batch 2)"),
    C("runtime", "the largest learning rate there is (1e308)", nothing, TRAIN + " --lr 1e308", 1,
      "with learning rate 1e+308"),
    C("runtime", "divergence in epoch 2 keeps the checkpoint of epoch 1",
      P(change_json, P(set_key, "hyperparameters.lr", 1e300), CHECKPOINT), RESUME, 1,
      "at step 4 (epoch 2, batch 2)"),
    C("runtime", "Ctrl-C (SIGINT) in the middle of an epoch", nothing, LONG_RUN, 130,
      "interrupted during epoch", how="sigint", leaves=("out/checkpoint.json",)),
    C("runtime", "SIGTERM (kill) in the middle of an epoch", nothing, LONG_RUN, 143,
      "interrupted during epoch", how="sigterm", leaves=("out/checkpoint.json",)),
    C("runtime", "SIGHUP (the terminal closed) in the middle of an epoch", nothing, LONG_RUN, 129,
      "interrupted during epoch", how="sighup", leaves=("out/checkpoint.json",)),
    C("runtime", "Ctrl-C twice in quick succession, with worker processes", nothing,
      LONG_RUN + " --workers 2", 130, "interrupted during epoch", how="sigint-twice",
      leaves=("out/checkpoint.json",)),
    C("runtime", "a second train on the --out of a run still training", nothing,
      TRAIN + " --overwrite", 2, "another purenet train (process", how="busy-out",
      leaves=("out/checkpoint.json",)),
    C("runtime", "standard output on a full disk", nothing, EVALUATE, 1,
      "cannot write the output: No space left on device", how="stdout-full"),
    C("runtime", "standard output into a pipe whose reader has gone", nothing, EVALUATE, 1,
      "cannot write the output: Broken pipe", how="stdout-closed"),
    C("path", "a named pipe where train --overwrite would save checkpoint.json",
      each(P(make_dir, "out"), P(make_fifo, "out/checkpoint.json")), TRAIN + " --overwrite", 2,
      "its checkpoint.json is a named pipe (FIFO), not a file"),
    C("path", "train --report beside another program's report.xlsx", P(foreign_workbook, "out/report.xlsx"),
      TRAIN + " --report", 2, "report.xlsx: exists and is not a workbook written by purenet"),
    C("runtime", "disk full when the next checkpoint is saved", nothing, RESUME, 1,
      "checkpoint.json: cannot write: No space left on device", how="disk-full"),
    C("runtime", "disk full when export-xlsx saves its workbooks", nothing, EXPORT + " --out {w}/run", 1,
      "cannot write: No space left on device", how="disk-full"),
    C("runtime", "a killed save's leftover beside the checkpoint goes with the next save",
      P(killed_save_leftover, CHECKPOINT), RESUME, 1, "checkpoint.json: cannot write: No space left",
      how="disk-full", removes=(leftover(CHECKPOINT),)),
    C("runtime", "a killed save's leftover beside a workbook goes with the next save",
      P(killed_save_leftover, "run/forward_and_short_form.xlsx"), EXPORT + " --out {w}/run", 1,
      "cannot write: No space left on device", how="disk-full",
      removes=(leftover("run/forward_and_short_form.xlsx"),)),
    # --- predict: pictures of digits, the model, --save-prepared (issue 16) --------------------
    C("data", "predict: not an image (an HTML page saved as .png)", P(write_bytes, "digit.png", HTML),
      PREDICT, 1, "digit.png: not a PNG or PGM/PBM/PPM image"),
    C("data", "predict: a JPEG photo", P(write_bytes, "digit.png", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
      PREDICT, 1, "a JPEG image; purenet reads PNG and PGM/PBM/PPM only"),
    C("data", "predict: a PNG cut short (copy stopped half-way)",
      P(write_bytes, "digit.png", DIGIT_PNG[:len(DIGIT_PNG) // 2]), PREDICT, 1, "digit.png: truncated"),
    C("data", "predict: a PNG with a CRC mismatch",
      P(write_bytes, "digit.png", one_bit_flipped_in_idat(DIGIT_PNG)), PREDICT, 1,
      "CRC mismatch in the IDAT chunk"),
    C("data", "predict: a PNG of width 0", P(write_bytes, "digit.png", png_header_only(0, 40)), PREDICT, 1,
      "the header says 0x40 pixels"),
    C("data", "predict: a PNG claiming 100000x100000 pixels (refused before allocating)",
      P(write_bytes, "digit.png", png_header_only(100_000, 100_000)), PREDICT, 1,
      "100000x100000 = 10,000,000,000 pixels; images of at most 16,777,216 pixels are read"),
    C("data", "predict: an interlaced PNG",
      P(write_bytes, "digit.png", png_bytes(4, 4, bytes(16), interlace=1)), PREDICT, 1,
      "interlaced PNG (Adam7) is not supported"),
    C("data", "predict: a PGM cut short", P(write_bytes, "digit.pgm", pnm_bytes("P5", 40, 40, bytes(1600))[:-100]),
      "predict {w}/digit.pgm --model {w}/model.json", 1, "truncated: 1,500 of the 1,600 bytes of pixels"),
    C("data", "predict: a blank picture", P(write_bytes, "digit.png", png_bytes(40, 40, [255] * 1600)),
      PREDICT, 1, "digit.png: no ink found"),
    C("data", "predict: IMAGE is a directory", P(make_dir, "digit.png"), PREDICT, 1,
      "digit.png: is a directory, not an image file"),
    C("data", "predict: IMAGE is a FIFO (nobody writes to it)", P(make_fifo, "digit.png"), PREDICT, 1,
      "digit.png: not a regular file"),
    C("data", "predict: IMAGE missing", nothing, PREDICT, 1, "digit.png: no such file"),
    C("model", "predict: a model for other images (input size 4)",
      each(P(write_bytes, "digit.png", DIGIT_PNG), model_for_other_images), PREDICT, 1,
      "model has input size 4, expected 784"),
    C("model", "predict: no model file (never trained)", P(write_bytes, "digit.png", DIGIT_PNG),
      "predict {w}/digit.png --model {w}/absent.json", 1,
      "absent.json: no such model file; train one with `python3 -m purenet train`"),
    C("flag", "predict --save-prepared onto an existing file that is not a PGM",
      P(write_bytes, "digit.png", DIGIT_PNG), PREDICT + " --save-prepared {w}/model.json", 2,
      "model.json: the file exists and is not a PGM image; refusing to overwrite it"),
    C("flag", "predict --save-prepared onto the picture itself (a PGM)",
      P(write_bytes, "digit.pgm", pnm_bytes("P5", 40, 40, [stroke(r, c) for r in range(40) for c in range(40)])),
      "predict {w}/digit.pgm --model {w}/model.json --save-prepared {w}/digit.pgm", 2,
      "digit.pgm: that is the IMAGE itself; refusing to overwrite it"),
    C("flag", "predict --save-prepared onto a FIFO",
      each(P(write_bytes, "digit.png", DIGIT_PNG), P(make_fifo, "seen.pgm")),
      PREDICT + " --save-prepared {w}/seen.pgm", 2, "seen.pgm: not a regular file; nothing is written there"),
    C("flag", "predict --save-prepared onto a directory", P(write_bytes, "digit.png", DIGIT_PNG),
      PREDICT + " --save-prepared {w}/data", 2, "data: not a regular file"),
    C("flag", "predict --save-prepared with two images", P(write_bytes, "digit.png", DIGIT_PNG),
      "predict {w}/digit.png {w}/digit.png --model {w}/model.json --save-prepared {w}/seen.pgm", 2,
      "--save-prepared takes a single IMAGE, but 2 were given"),
    C("flag", "predict --save-prepared into a directory that is not writable",
      each(P(write_bytes, "digit.png", DIGIT_PNG), P(make_dir, "locked")),
      PREDICT + " --save-prepared {w}/locked/seen.pgm", 1, "seen.pgm: cannot write", how="read-only"),
    C("flag", "predict with no IMAGE", nothing, "predict --model {w}/model.json", 2,
      "the following arguments are required: IMAGE"),
    # --- export-xlsx --model: draw_a_digit.xlsx (issue 16) ---------------------------------------
    C("model", "export-xlsx --model that does not exist", nothing,
      DRAWING.replace("model.json", "absent.json"), 1, "absent.json: no such model file"),
    C("model", "export-xlsx --model for other images (input size 4)", model_for_other_images,
      DRAWING, 1, "model has input size 4, expected 784"),
    C("model", "export-xlsx --model wider than the workbook holds (1,025 hidden units)",
      model_too_wide_to_draw, DRAWING, 1,
      "1,025 hidden units; draw_a_digit.xlsx holds at most 1,024"),
    C("model", "export-xlsx --model whose weights overflow", P(huge_weights, "model.json"), DRAWING, 1,
      "the forward pass overflows"),
    C("path", "export-xlsx --model of a named pipe", P(make_fifo, "model.json"), DRAWING, 1,
      "model.json: cannot read: it is a named pipe (FIFO)"),
    C("path", "export-xlsx --model over a file of the user's called draw_a_digit.xlsx",
      P(write_bytes, "books/draw_a_digit.xlsx", b"my notes\n"), DRAWING, 2,
      "draw_a_digit.xlsx: exists and is not a workbook written by purenet"),
    C("flag", "export-xlsx --model with a flag of the trace workbooks", nothing,
      DRAWING + " --sizes 4,3,3", 2, "--sizes is a flag of the trace workbooks; with --model"),
    C("flag", "export-xlsx --model --digit past the end", nothing, DRAWING + f" --digit {N_TEST}", 2,
      f"--digit {N_TEST}: the test set has images 0..{N_TEST - 1}"),
    C("flag", "export-xlsx --model with no model named", nothing, DRAWING.replace("{w}/model.json", ""),
      2, "argument --model: expected one argument"),
    C("runtime", "disk full when export-xlsx --model saves draw_a_digit.xlsx", nothing,
      DRAWING.replace("{w}/books", "{w}/run"), 1, "cannot write: No space left on device",
      how="disk-full"),
]
# fmt: on


# --- the shared starting files -----------------------------------------------------------------

def purenet_argv(command: str) -> List[str]:
    return [sys.executable, "-m", "purenet", *shlex.split(command)]


def first_of_bundled(name: str, count: int, header: int, item_size: int) -> bytes:
    """The IDX bytes of the first `count` items of a bundled file, with the header's count set."""
    with gzip.open(os.path.join(BUNDLED_DIR, name), "rb") as f:
        raw = f.read(header + count * item_size)
    return word(1, count, raw)


def write_tiny_mnist(directory: Path) -> None:
    directory.mkdir(parents=True)
    for images, labels, count in ((TRAIN_IMAGES, TRAIN_LABELS, N_TRAIN),
                                  (TEST_IMAGES, TEST_LABELS, N_TEST)):
        (directory / images).write_bytes(gzip.compress(first_of_bundled(images, count, 16, 784), mtime=0))
        (directory / labels).write_bytes(gzip.compress(first_of_bundled(labels, count, 8, 1), mtime=0))


def stopped_after_epoch_1(checkpoint: Path) -> None:
    """A finished 1-epoch checkpoint, turned into a 2-epoch run's checkpoint after epoch 1."""
    change_json(P(set_key, "hyperparameters.epochs", 2), checkpoint.name, checkpoint.parent)


def build_base(root: Path) -> Path:
    """The files every row starts from (see the module docstring), in root/base."""
    start = root / "base"
    write_tiny_mnist(start / "data")
    trained = root / "trained"
    done = subprocess.run(purenet_argv(f"train {TINY} --data-dir {start}/data --no-verify --out {trained}"),
                          cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    shutil.copyfile(trained / "model.json", start / "model.json")
    (start / "run").mkdir()
    shutil.copyfile(trained / "checkpoint.json", start / CHECKPOINT)
    stopped_after_epoch_1(start / CHECKPOINT)
    return start


@pytest.fixture(scope="session")
def base(tmp_path_factory) -> Path:
    return build_base(tmp_path_factory.mktemp("catalogue"))


# --- running a row ---------------------------------------------------------------------------------

def snapshot(w: Path) -> Dict[str, str]:
    """relative path -> SHA-256 of every regular file under w, or what else it is.

    A symbolic link is recorded as its target and a named pipe or a device
    by its kind (never opened: reading a pipe would wait for a writer), so
    a row that replaces one of them with a file is caught too.
    """
    entries = {}
    for p in sorted(w.rglob("*")):
        mode = p.lstat().st_mode
        if stat.S_ISLNK(mode):
            entries[str(p.relative_to(w))] = f"link to {os.readlink(p)}"
        elif stat.S_ISREG(mode):
            digest = hashlib.sha256()
            with open(p, "rb") as f:        # a piece at a time: a row's file can be 700 MB
                for piece in iter(lambda: f.read(1 << 20), b""):
                    digest.update(piece)
            entries[str(p.relative_to(w))] = digest.hexdigest()
        elif not stat.S_ISDIR(mode):
            entries[str(p.relative_to(w))] = f"file type {stat.S_IFMT(mode):o}"
    return entries


PROGRESS = re.compile(r"^epoch +\d+/\d+  [\d,]+/[\d,]+  loss ")

# The CLI, with Ctrl-C pressed (SIGINT raised) at the worst moments of a save.
SAVE_PRESSES = r"""
import atexit, os, signal, sys
from purenet import atomic, cli
write, remove = atomic._write_and_sync, atomic._remove_quietly

def press_while_writing(fd, data):
    os.write(fd, data[:len(data) // 2])
    signal.raise_signal(signal.SIGINT)
    write(fd, data[len(data) // 2:])

def press_again_while_removing(path):
    signal.raise_signal(signal.SIGINT)
    remove(path)

atomic._write_and_sync = press_while_writing
atomic._remove_quietly = press_again_while_removing
atexit.register(signal.raise_signal, signal.SIGINT)     # registered first: runs last
sys.exit(cli.main(sys.argv[1:]))
"""

# Runs a command in a private mount namespace (unshare --mount), so that the
# tmpfs it mounts is seen by that command only and vanishes with it.
NAMESPACE = r"""
import os, shutil, subprocess, sys, tempfile
how, directory, *command = sys.argv[1:]
def mount(*args):
    subprocess.run(["mount", *args], check=True)
if how == "read-only":
    mount("-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", directory)
    sys.exit(subprocess.run(command).returncode)
# disk-full: the directory's files on a tmpfs that has 16 KiB to spare
size = sum(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory)) + 16384
stage = tempfile.mkdtemp()
mount("-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", stage)
for name in os.listdir(directory):
    shutil.copy2(os.path.join(directory, name), stage)
mount("--bind", stage, directory)
code = subprocess.run(command).returncode
subprocess.run(["umount", directory], check=True)
# what the command left on the tmpfs becomes what the test sees in the directory
for name in os.listdir(directory):
    os.remove(os.path.join(directory, name))
for name in os.listdir(stage):
    shutil.copy2(os.path.join(stage, name), directory)
subprocess.run(["umount", stage], check=True)
os.rmdir(stage)
sys.exit(code)
"""


@functools.lru_cache(maxsize=None)
def can_mount() -> bool:
    """True where a private mount namespace with a tmpfs can be made (root with CAP_SYS_ADMIN)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    try:
        probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"],
                               capture_output=True, timeout=30)
    except OSError:
        return False
    return probe.returncode == 0


def run_plain(argv: List[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)


def start_until_checkpoint(argv: List[str], w: Path) -> subprocess.Popen:
    """Start a run and return once its first checkpoint is on disk."""
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT
    while not (w / "out" / "checkpoint.json").exists():
        assert process.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    return process


def run_with_signal(argv: List[str], w: Path, signum: int, presses: int = 1
                    ) -> subprocess.CompletedProcess:
    """Start the run, wait for its first checkpoint, then send the signal (5 ms apart if twice)."""
    process = start_until_checkpoint(argv, w)
    for press in range(presses):
        time.sleep(0.005 * press)
        process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def run_beside_a_run(argv: List[str], w: Path) -> subprocess.CompletedProcess:
    """The command, while a first run trains in {w}/out (stopped with Ctrl-C afterwards)."""
    first = start_until_checkpoint(purenet_argv(LONG_RUN.format(w=shlex.quote(str(w)))), w)
    try:
        return run_plain(argv)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=TIMEOUT)


def run_with_stdout(argv: List[str], how: str) -> subprocess.CompletedProcess:
    """The command with standard output on a full disk, or into a pipe nobody reads."""
    if how == "stdout-full":
        with open("/dev/full", "w") as full:
            done = subprocess.run(argv, cwd=REPO, stdout=full, stderr=subprocess.PIPE, text=True,
                                  timeout=TIMEOUT)
        return subprocess.CompletedProcess(argv, done.returncode, "", done.stderr)
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()          # the reader goes away before a line is written
    stderr = process.stderr.read()
    process.wait(timeout=TIMEOUT)
    return subprocess.CompletedProcess(argv, process.returncode, "", stderr)


# how -> the signal and how many times it is sent
SIGNALS = {"sigint": (signal.SIGINT, 1), "sigterm": (signal.SIGTERM, 1),
           "sighup": (signal.SIGHUP, 1), "sigint-twice": (signal.SIGINT, 2)}


def run_case(case: Case, w: Path) -> subprocess.CompletedProcess:
    argv = purenet_argv(case.command.format(w=shlex.quote(str(w))))
    if case.how == "plain":
        return run_plain(argv)
    if case.how in SIGNALS:
        return run_with_signal(argv, w, *SIGNALS[case.how])
    if case.how == "busy-out":
        return run_beside_a_run(argv, w)
    if case.how in ("stdout-full", "stdout-closed"):
        return run_with_stdout(argv, case.how)
    if case.how == "sigint-in-save":
        return run_plain([sys.executable, "-c", SAVE_PRESSES, *argv[3:]])
    directory = w / ("locked" if case.how == "read-only" else "run")
    if can_mount():
        return run_plain(["unshare", "--mount", sys.executable, "-c", NAMESPACE, case.how, str(directory), *argv])
    if case.how == "read-only" and os.geteuid() != 0:
        directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            return run_plain(argv)
        finally:
            directory.chmod(stat.S_IRWXU)
    pytest.skip(f"{case.how} needs a private tmpfs (unshare --mount, as root); it cannot be mounted here")


def problem_lines(stderr: str) -> List[str]:
    """stderr without the progress lines of a run that trained before failing."""
    return [line for line in stderr.splitlines() if not PROGRESS.match(line)]


def checkpoint_is_complete(path: Path) -> None:
    model = load_model(str(path))
    assert model.training_state is not None
    assert model.training_state["epoch"] == len(model.history) >= 1


# --- the tests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CATALOGUE, ids=[f"{c.group}: {c.name}" for c in CATALOGUE])
def test_a_bad_input_ends_in_one_clear_line_and_nothing_lost(case, base, tmp_path):
    w = tmp_path / "w"
    shutil.copytree(base, w)
    case.make(w)
    before = snapshot(w)

    done = run_case(case, w)

    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == case.code, output
    lines = problem_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0] == done.stderr.splitlines()[-1]
    assert lines[0].startswith("purenet"), lines[0]
    assert case.says in lines[0]
    assert "usage:" not in done.stderr
    after = snapshot(w)
    changed = sorted(name for name in before if after.get(name) != before[name])
    assert changed == sorted(case.removes), f"files changed or removed: {changed}"
    assert not any(name in after for name in case.removes), "a leftover was changed, not removed"
    new = sorted(set(after) - set(before))
    assert new == sorted(case.leaves), f"files left behind: {new}"
    if case.how in SIGNALS:
        checkpoint_is_complete(w / "out" / "checkpoint.json")


# --- a test of the test -----------------------------------------------------------------------------

def test_each_mistake_is_listed_once():
    names = [case.name for case in CATALOGUE]
    assert len(names) == len(set(names))
    rows = [(repr(case.make), case.command, case.how) for case in CATALOGUE]
    assert len(rows) == len(set(rows))
    assert {case.group for case in CATALOGUE} == {"data", "model", "path", "flag", "runtime"}


CONTROLS = [
    f"{TRAIN}",
    f"{DRAWING}",
    f"{RESUME}",
    f"{EVALUATE}",
    f"{SHOW}",
    f"{REPORT}",
    f"{GRADCHECK}",
    "show 0 --data-dir {w}/unchanged-full",
]


@pytest.mark.parametrize("command", CONTROLS)
def test_the_commands_the_rows_start_from_succeed_on_good_files(command, base, tmp_path):
    """So a row fails because of its one broken thing, not because its command is wrong."""
    w = tmp_path / "w"
    shutil.copytree(base, w)
    if "unchanged-full" in command:
        (w / "unchanged-full").mkdir()
        for name in (TEST_IMAGES, TEST_LABELS):
            shutil.copyfile(Path(BUNDLED_DIR, name), w / "unchanged-full" / name)
    done = run_plain(purenet_argv(command.format(w=shlex.quote(str(w)))))
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr


def test_predict_on_a_good_picture_succeeds(base, tmp_path):
    """The command the predict rows start from, on the picture they break."""
    w = tmp_path / "w"
    shutil.copytree(base, w)
    (w / "digit.png").write_bytes(DIGIT_PNG)
    done = run_plain(purenet_argv(PREDICT.format(w=shlex.quote(str(w)))))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("prediction: ")
