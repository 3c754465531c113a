"""Reading pictures (PNG, PGM, PBM, PPM) with the standard library only; writing a PGM.

This package knows nothing about networks: it turns a file into pixels.

    picture.py   Image (the pixels of a picture), ImageError, the size bounds
    png.py       PNG: chunks, CRCs, inflating, the five filters, every colour type
    pnm.py       netpbm's PBM, PGM and PPM, text and binary; writing a PGM
    (here)       read_image: the file, opened safely, to the decoder its first bytes name
"""

import os
import stat

from .picture import MAX_FILE_BYTES, MAX_PIXELS, Image, ImageError
from .png import PNG_SIGNATURE, decode_png
from .pnm import PNM_FORMATS, decode_pnm, encode_pgm, write_pgm

# the first bytes of formats a learner may try, so the error can name them
OTHER_FORMATS = [
    (b"\xff\xd8\xff", "a JPEG image"), (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
    (b"P7", "a PAM image"), (b"%PDF", "a PDF document"), (b"<svg", "an SVG drawing"),
]


def read_image(path: str) -> Image:
    """The image in the PNG or PNM file at path, or ImageError saying why not."""
    return decode_image(path, read_file(path))


def read_file(path: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES.

    The file is opened without blocking and checked with fstat before a
    byte is read: opening a FIFO for reading would otherwise wait forever
    for a writer, and a device such as /dev/zero never ends.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except OSError as e:
        raise ImageError(f"{path}: cannot open it ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageError(f"{path}: is a directory, not an image file")
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"{path}: not a regular file (a FIFO, socket or device), not read")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageError(f"{path}: {info.st_size:,} bytes; images of at most "
                             f"{MAX_FILE_BYTES:,} bytes are read")
        return read_all(path, fd)
    finally:
        os.close(fd)


def read_all(path: str, fd: int) -> bytes:
    """Everything up to the end of the open file fd, but never more than MAX_FILE_BYTES + 1."""
    parts = []
    remaining = MAX_FILE_BYTES + 1
    try:
        while remaining > 0:
            part = os.read(fd, min(remaining, 1 << 20))
            if not part:
                break
            parts.append(part)
            remaining -= len(part)
    except OSError as e:
        raise ImageError(f"{path}: cannot read it ({e.strerror or e})") from None
    if remaining <= 0:   # the file grew after fstat
        raise ImageError(f"{path}: images of at most {MAX_FILE_BYTES:,} bytes are read")
    return b"".join(parts)


def decode_image(name: str, data: bytes) -> Image:
    """Decode the bytes of a PNG or PNM file; name is used in error messages."""
    if data.startswith(PNG_SIGNATURE):
        return decode_png(name, data)
    if data[:2] in PNM_FORMATS:
        return decode_pnm(name, data)
    if not data:
        raise ImageError(f"{name}: an empty file, not an image")
    for magic, what in OTHER_FORMATS:
        if data.startswith(magic):
            raise ImageError(f"{name}: {what}; purenet reads PNG and PGM/PBM/PPM only "
                             f"(convert it, e.g. to PNG)")
    raise ImageError(f"{name}: not a PNG or PGM/PBM/PPM image (it starts with {data[:8]!r})")


__all__ = ["MAX_FILE_BYTES", "MAX_PIXELS", "Image", "ImageError", "decode_image", "encode_pgm",
           "read_image", "write_pgm"]
