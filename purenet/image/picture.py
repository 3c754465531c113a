"""A picture as purenet reads it: the Image every reader returns, its error, its bounds.

The readers (png.py, pnm.py) turn a file into pixels.
Each returns an ``Image``:

    width, height       pixels per row, rows
    channels            values per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    maxval              the value of full light (or full opacity): 255 for 8-bit
                        samples, 65535 for 16-bit, 2**d - 1 for d-bit grey, 1 for PBM
    samples             height * width * channels whole numbers 0..maxval, row-major,
                        the channels of a pixel side by side:
                        sample (row r, column c, channel k) = samples[(r * width + c) * channels + k]

A sample is an amount of light (0 = black, maxval = white) or, in the
alpha channel, of opacity (0 = transparent, maxval = opaque).  A palette
PNG is expanded to RGB (RGBA when it has a tRNS chunk), and PBM's bits,
where 1 means black, are flipped on reading so that 0 means black there too.

**Bounds, checked before anything is allocated.**  A file of more than
``MAX_FILE_BYTES`` (64 MiB) is refused before it is read, and an image of
more than ``MAX_PIXELS`` = 4096 x 4096 = 16,777,216 pixels, or with a side of
0, is refused as soon as its header is read, before any pixel data is
decompressed or parsed.  The PNG data is then inflated with a limit of the
exact size the header promises (``zlib.decompressobj`` with
``max_length``), so a small file that would inflate to gigabytes (a "zip
bomb") stops after one byte too many.  The bound is about time as much as
memory: every pixel passes through Python code, around a microsecond each.

Everything a file can get wrong (not an image, truncated, a CRC that does
not match, corrupt compressed data, an unsupported feature) raises
``ImageError`` with one line that starts with the file's name.  ``write_pgm``
writes 8-bit grey pixels as a binary PGM (P5), atomically.
"""

from dataclasses import dataclass
from typing import Sequence

MAX_PIXELS = 4096 * 4096           # width * height of the largest image read
MAX_FILE_BYTES = 64 * 1024 * 1024  # size of the largest file read


class ImageError(Exception):
    """An image file cannot be read: not an image, damaged, or a feature not supported."""


@dataclass
class Image:
    """Pixels of a picture: samples[(r * width + c) * channels + k], each 0..maxval."""
    width: int
    height: int
    channels: int             # 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    maxval: int               # full light / full opacity
    samples: Sequence[int]
    kind: str                 # what the file was, e.g. "8-bit RGBA PNG", for messages


def check_dimensions(name: str, width: int, height: int) -> None:
    """Refuse a side of 0 and more than MAX_PIXELS pixels, before any pixel is allocated."""
    if width == 0 or height == 0:
        raise ImageError(f"{name}: the header says {width}x{height} pixels; an image needs "
                         f"at least one row and one column")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: {width}x{height} = {width * height:,} pixels; images of at "
                         f"most {MAX_PIXELS:,} pixels are read (scale it down first)")
