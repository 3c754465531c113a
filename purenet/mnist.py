"""MNIST: reading the four IDX files, checking them, and splitting off the validation images.

MNIST is 70,000 handwritten digits (60,000 "train", 10,000 "test"), each a
28 x 28 grid of grey levels 0..255 (0 = background, 255 = full ink), with
its label 0..9.  A copy is bundled in ``purenet/data`` (``BUNDLED_DIR``):

    train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz
    SHA256SUMS                   SHA-256 of each file after decompression

The IDX format, once gunzipped: big-endian unsigned 32-bit integers, then
one unsigned byte per value.

    images:  magic 0x00000803, count, rows, cols,  then count*rows*cols pixels
    labels:  magic 0x00000801, count,              then count labels
             (magic = 0x00 0x00, type 0x08 "unsigned byte", number of dimensions)

So an image file holds exactly 16 + count*rows*cols bytes and a label file
8 + count bytes.  A file is read header first (``read_idx``): the gzip
stream is decompressed only as far as the header promises, plus
``MAX_EXTRA`` + 1 bytes to say how much is left over, so a small gzip file
that expands to gigabytes fails at once in bounded memory.  A header that
promises more than ``MAX_IDX_BYTES`` is refused before anything else is
decompressed, and a path that is not a regular file (a named pipe would
wait forever, /dev/zero never ends: files.py) before it is opened.

Anything else (wrong magic, too few or too many bytes, a label above 9, a
different count of images and labels, a SHA-256 that is not the one in
SHA256SUMS, a file that is not gzip at all) raises ``DataError`` with one
line naming the file and what is wrong.

Symbols.  An image is a ``bytes`` object of rows*cols pixels, row-major:
pixel j sits at row j // cols, column j % cols.  The network's input is

    x_j = pixel_j / 255        j = 0 .. rows*cols - 1,  so x_j is in [0, 1]

(``network.to_vector``).

Why images stay ``bytes`` until they are used (figures from
``benchmarks/bench_mnist.py``, Python 3.11, sizes from sys.getsizeof):

    as bytes:  one bytes object per image is 33 B of header + 784 B of
               pixels = 817 B, so 60,000 x 817 B = 49 MB for the training set.
    as floats: a list of 784 floats built by a comprehension is 6,936 B
               (8-byte pointers plus spare room), and each float object is
               24 B more: 6,936 + 784 x 24 = 25,752 B per image, so
               60,000 x 25,752 B = 1.55 GB.  Even with the 256 possible
               values shared (see ``network.X_OF_PIXEL``) the lists alone are
               60,000 x 6,936 B = 416 MB.
    measured:  loading all 70,000 images and labels, checksums included,
               took 0.35 to 0.46 s (two runs), with a tracemalloc peak of
               97 MB: the decompressed file (47 MB) and its 60,000 slices
               (49 MB).

So call ``network.to_vector`` on an image when it is needed (a mini-batch at a
time), not on the whole set up front.
"""

import gzip
import hashlib
import math
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .files import not_a_regular_file


class DataError(Exception):
    """A data file is missing, truncated, corrupt or inconsistent (the message names it)."""


BUNDLED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
CHECKSUMS_NAME = "SHA256SUMS"

# split -> (image file, label file)
FILES: Dict[str, Tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
MAGIC = struct.Struct(">I")
IMAGES_HEADER = struct.Struct(">IIII")  # magic, count, rows, cols
LABELS_HEADER = struct.Struct(">II")    # magic, count
N_CLASSES = 10

# The most bytes an IDX file may promise: 1 GiB, 1.37 million images of
# 28x28, 23 times MNIST's training set.  purenet keeps every image in
# memory (817 bytes each as ``bytes``, see below), so a set that large is
# already more than a learner's machine holds comfortably; a header that
# promises more is damaged or not MNIST.
MAX_IDX_BYTES = 1 << 30
# Bytes beyond the header's promise that are counted before reading stops.
MAX_EXTRA = 1 << 16


@dataclass
class Dataset:
    """images[i] is rows*cols pixels (bytes, row-major); labels[i] is its digit 0..9."""
    images: List[bytes]
    labels: List[int]
    rows: int
    cols: int

    def __len__(self) -> int:
        return len(self.labels)


# --- reading one file ------------------------------------------------------

def read_idx(path: str, magic: int, header: struct.Struct, kind: str) -> bytes:
    """The decompressed bytes of a gzip IDX file, read no further than its header promises.

    The header is read and checked first; then at most MAX_EXTRA + 1 bytes
    past the promised size are decompressed, enough for check_size to say
    "N extra bytes" (or "more than MAX_EXTRA").  A file that stops where
    its header says reaches the end of the gzip stream, so its CRC is
    checked as before.  DataError says what is wrong.
    """
    name = os.path.basename(path)
    kind_of_path = not_a_regular_file(path)
    if kind_of_path is not None:
        raise DataError(f"{name}: cannot read it: it is {kind_of_path}, not a file")
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read(MAGIC.size)
            check_magic(name, raw, magic, kind)
            raw += f.read(header.size - len(raw))
            check_header_present(name, raw, header)
            promised = header.size + math.prod(header.unpack_from(raw)[1:])
            if promised > MAX_IDX_BYTES:
                raise DataError(f"{name}: the header promises {promised:,} bytes, more than "
                                f"the {MAX_IDX_BYTES:,} an IDX file may hold")
            return raw + f.read(promised + MAX_EXTRA + 1 - len(raw))
    except FileNotFoundError:
        raise DataError(f"{name}: not found in {os.path.dirname(path) or '.'}") from None
    except gzip.BadGzipFile as e:
        # raised both for "not gzip at all" and for a failed CRC at the end
        raise DataError(f"{name}: not a valid gzip file ({e})") from None
    except EOFError:
        raise DataError(f"{name}: the gzip data ends early (the file is truncated)") from None
    except zlib.error as e:
        raise DataError(f"{name}: corrupt gzip data ({e})") from None
    except OSError as e:
        raise DataError(f"{name}: cannot read it ({e.strerror or e})") from None


def check_magic(name: str, raw: bytes, expected: int, kind: str) -> None:
    """The first 4 bytes say what the file is; check them before trusting any size."""
    if len(raw) < MAGIC.size:
        raise DataError(f"{name}: truncated at byte {len(raw)} "
                        f"of its {MAGIC.size}-byte magic number")
    (magic,) = MAGIC.unpack_from(raw)
    if magic != expected:
        raise DataError(f"{name}: magic 0x{magic:08X}, expected 0x{expected:08X} "
                        f"(an IDX {kind} file)")


def check_size(name: str, raw: bytes, expected: int, promise: str) -> None:
    """The file must hold exactly the bytes its header promises (read_idx reads MAX_EXTRA + 1 more)."""
    if len(raw) < expected:
        raise DataError(f"{name}: truncated at byte {len(raw)} of {expected} "
                        f"(the header promises {promise})")
    extra = len(raw) - expected
    if extra:
        counted = f"more than {MAX_EXTRA:,}" if extra > MAX_EXTRA else f"{extra}"
        raise DataError(f"{name}: {counted} extra bytes after the {expected} "
                        f"the header accounts for ({promise})")


def check_header_present(name: str, raw: bytes, header: struct.Struct) -> None:
    if len(raw) < header.size:
        raise DataError(f"{name}: truncated at byte {len(raw)} of its {header.size}-byte header")


def check_sha256(name: str, raw: bytes, expected: str) -> None:
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected.lower():
        raise DataError(f"{name}: checksum mismatch: the decompressed bytes have SHA-256 "
                        f"{actual[:16]}..., {CHECKSUMS_NAME} says {expected[:16]}... "
                        f"(--no-verify skips this check)")


def parse_images(name: str, raw: bytes) -> Tuple[List[bytes], int, int]:
    """Check an IDX image file's bytes and slice them into one bytes object per image."""
    check_magic(name, raw, IMAGES_MAGIC, "image")
    check_header_present(name, raw, IMAGES_HEADER)
    _, count, rows, cols = IMAGES_HEADER.unpack_from(raw)
    if count == 0 or rows == 0 or cols == 0:
        raise DataError(f"{name}: the header says {count} images of {rows}x{cols} pixels")
    size = rows * cols
    check_size(name, raw, IMAGES_HEADER.size + count * size,
               f"{count} images of {rows}x{cols} pixels")
    start = IMAGES_HEADER.size
    images = [raw[i:i + size] for i in range(start, len(raw), size)]
    return images, rows, cols


def parse_labels(name: str, raw: bytes) -> List[int]:
    """Check an IDX label file's bytes and return its labels as ints 0..9."""
    check_magic(name, raw, LABELS_MAGIC, "label")
    check_header_present(name, raw, LABELS_HEADER)
    _, count = LABELS_HEADER.unpack_from(raw)
    if count == 0:
        raise DataError(f"{name}: the header says 0 labels")
    check_size(name, raw, LABELS_HEADER.size + count, f"{count} labels")
    labels = list(raw[LABELS_HEADER.size:])
    if max(labels) >= N_CLASSES:
        i = next(i for i, label in enumerate(labels) if label >= N_CLASSES)
        raise DataError(f"{name}: label {labels[i]} at index {i} is not a digit 0..9")
    return labels


def read_images(path: str, sha256: Optional[str] = None) -> Tuple[List[bytes], int, int]:
    """(images, rows, cols) from a gzip IDX image file; sha256 None skips the checksum."""
    name = os.path.basename(path)
    raw = read_idx(path, IMAGES_MAGIC, IMAGES_HEADER, "image")
    # the structure first: "truncated at byte N" says more than a checksum can
    images, rows, cols = parse_images(name, raw)
    if sha256 is not None:
        check_sha256(name, raw, sha256)
    return images, rows, cols


def read_labels(path: str, sha256: Optional[str] = None) -> List[int]:
    """The labels of a gzip IDX label file; sha256 None skips the checksum."""
    name = os.path.basename(path)
    raw = read_idx(path, LABELS_MAGIC, LABELS_HEADER, "label")
    labels = parse_labels(name, raw)
    if sha256 is not None:
        check_sha256(name, raw, sha256)
    return labels


# --- checksums --------------------------------------------------------------

def read_checksums(path: str) -> Dict[str, str]:
    """{file name: SHA-256 hex} from a file in ``sha256sum`` format ("<hex>  <name>")."""
    try:
        with open(path, encoding="ascii") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read the checksums ({e})") from None
    sums = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2:
            digest, name = parts
            sums[name.lstrip("*")] = digest  # "*" marks binary mode in sha256sum output
    return sums


def expected_sha256(sums: Dict[str, str], gz_name: str) -> str:
    """SHA256SUMS lists the decompressed names: "x-idx3-ubyte" for "x-idx3-ubyte.gz"."""
    name = gz_name[:-len(".gz")] if gz_name.endswith(".gz") else gz_name
    if name not in sums:
        raise DataError(f"{gz_name}: no checksum for {name} in the bundled {CHECKSUMS_NAME}")
    return sums[name]


# --- the whole split ----------------------------------------------------------

def check_directory(data_dir: str, wanted: Tuple[str, ...]) -> None:
    if not os.path.isdir(data_dir):
        raise DataError(f"{data_dir}: not a directory")
    if not os.listdir(data_dir):
        raise DataError(f"{data_dir}: the directory is empty (expected {', '.join(wanted)})")


def load_mnist(split: str, data_dir: Optional[str] = None, verify: bool = True) -> Dataset:
    """The "train" or "test" split, from data_dir (None: the bundled copy).

    verify=True compares each file's decompressed SHA-256 with the bundled
    SHA256SUMS, looked up by file name, so a user's copy in data_dir must be
    byte-for-byte the standard MNIST to pass.
    """
    if split not in FILES:
        raise ValueError(f"unknown split {split!r}: expected one of {', '.join(FILES)}")
    directory = BUNDLED_DIR if data_dir is None else data_dir
    images_name, labels_name = FILES[split]
    check_directory(directory, FILES[split])
    images_sha256 = labels_sha256 = None
    if verify:
        sums = read_checksums(os.path.join(BUNDLED_DIR, CHECKSUMS_NAME))
        images_sha256 = expected_sha256(sums, images_name)
        labels_sha256 = expected_sha256(sums, labels_name)
    images, rows, cols = read_images(os.path.join(directory, images_name), images_sha256)
    labels = read_labels(os.path.join(directory, labels_name), labels_sha256)
    if len(labels) != len(images):
        raise DataError(f"{labels_name}: {len(labels)} labels for {len(images)} images "
                        f"in {images_name}")
    return Dataset(images=images, labels=labels, rows=rows, cols=cols)


def check_image_size(data: Dataset, split: str, n_in: int) -> None:
    """DataError unless each image has n_in pixels (the network has one input x_j per pixel)."""
    if data.rows * data.cols != n_in:
        # more pixels would index past W1's columns; fewer would train on a wrong picture
        raise DataError(f"{FILES[split][0]}: images of {data.rows}x{data.cols} = "
                        f"{data.rows * data.cols} pixels, but the network takes {n_in}")


def train_val_split(data: Dataset, n_train: int, val_size: int
                    ) -> Tuple[List[bytes], List[int], List[bytes], List[int]]:
    """The first n_train images to train on and the last val_size to validate on.

    The two never overlap: n_train + val_size must be at most len(data), so
    no validation image is ever trained on (ValueError otherwise).
    """
    n = len(data)
    if n_train < 1 or val_size < 1 or n_train + val_size > n:
        raise ValueError(f"cannot take {n_train} training and {val_size} validation images "
                         f"from a set of {n} without overlap")
    return (data.images[:n_train], data.labels[:n_train],
            data.images[n - val_size:], data.labels[n - val_size:])
