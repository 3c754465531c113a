"""PNM files (PBM, PGM, PPM): reading all six kinds, and writing a PGM.

**PNM** (netpbm): a magic number, then whitespace-separated decimal header
fields (``#`` starts a comment to the end of the line), then the pixels.

    P1 / P4   PBM, width height,         bits as "0"/"1" text / packed 8 to a byte, 1 = black
    P2 / P5   PGM, width height maxval,  grey as decimal text / bytes
    P3 / P6   PPM, width height maxval,  RGB as decimal text / bytes

In P5 and P6 a sample takes one byte if maxval < 256, else two (big-endian),
and exactly one whitespace byte separates the header from the pixels.
"""

import struct
from typing import Dict, List, Sequence, Tuple

from ..atomic import write_bytes_atomic
from .picture import Image, ImageError, check_dimensions

# magic -> (name, channels) of the PNM formats
PNM_FORMATS: Dict[bytes, Tuple[str, int]] = {
    b"P1": ("PBM (P1, text)", 1), b"P2": ("PGM (P2, text)", 1), b"P3": ("PPM (P3, text)", 3),
    b"P4": ("PBM (P4)", 1), b"P5": ("PGM (P5)", 1), b"P6": ("PPM (P6)", 3),
}
PNM_WHITESPACE = b" \t\n\v\f\r"


class PnmReader:
    """Reads the whitespace-separated fields of a PNM file, skipping # comments."""

    def __init__(self, name: str, data: bytes):
        self.name, self.data, self.pos = name, data, 2   # after the magic number

    def skip_space(self) -> None:
        data = self.data
        while self.pos < len(data):
            if data[self.pos] in PNM_WHITESPACE:
                self.pos += 1
            elif data[self.pos] == ord("#"):
                end = data.find(b"\n", self.pos)
                self.pos = len(data) if end < 0 else end + 1
            else:
                return

    def number(self, what: str, digits: int = 0) -> int:
        """The next decimal number (at most `digits` characters if digits > 0, as P1 allows)."""
        self.skip_space()
        start = end = self.pos
        while end < len(self.data) and chr(self.data[end]).isdigit() \
                and (digits == 0 or end - start < digits):
            end += 1
        if end == start:
            if self.pos >= len(self.data):
                raise ImageError(f"{self.name}: truncated: the file ends before the {what}")
            raise ImageError(f"{self.name}: expected the {what} at byte {self.pos}, found "
                             f"{self.data[self.pos:self.pos + 1]!r}")
        if end - start > 9:
            raise ImageError(f"{self.name}: the {what} has {end - start} digits")
        self.pos = end
        return int(self.data[start:end])


def decode_pnm(name: str, data: bytes) -> Image:
    magic = data[:2]
    kind, channels = PNM_FORMATS[magic]
    reader = PnmReader(name, data)
    width = reader.number("width")
    height = reader.number("height")
    is_bitmap = magic in (b"P1", b"P4")
    maxval = 1 if is_bitmap else reader.number("maxval")
    if not 1 <= maxval <= 65535:
        raise ImageError(f"{name}: maxval {maxval}; PNM allows 1 to 65535")
    check_dimensions(name, width, height)
    count = width * height * channels
    if magic in (b"P1", b"P2", b"P3"):
        digits = 1 if magic == b"P1" else 0   # P1 may write its bits with no space between
        samples = [reader.number(f"sample {i} of {count}", digits) for i in range(count)]
        too_big = next((v for v in samples if v > maxval), None)
        if too_big is not None:
            raise ImageError(f"{name}: sample {too_big} is above maxval {maxval}")
    else:
        # exactly one whitespace byte ends the header
        if reader.pos >= len(data) or data[reader.pos] not in PNM_WHITESPACE:
            raise ImageError(f"{name}: truncated: the file ends in its header")
        start = reader.pos + 1
        samples = pnm_raw_samples(name, magic, data[start:], width, height, count, maxval)
    if is_bitmap:
        samples = [1 - bit for bit in samples]   # PBM: 1 is black; here 0 is black
    return Image(width, height, channels, maxval, samples, kind)


def pnm_raw_samples(name: str, magic: bytes, body: bytes, width: int, height: int,
                    count: int, maxval: int) -> Sequence[int]:
    """The samples of a P4, P5 or P6 file from the bytes after its header."""
    if magic == b"P4":
        row_bytes = (width + 7) // 8
        need = row_bytes * height
    else:
        sample_bytes = 1 if maxval < 256 else 2
        need = count * sample_bytes
    if len(body) < need:
        raise ImageError(f"{name}: truncated: {len(body):,} of the {need:,} bytes of pixels "
                         f"its header promises")
    if magic == b"P4":
        bits: List[int] = []
        for r in range(height):
            row = body[r * row_bytes:(r + 1) * row_bytes]
            bits += [(byte >> (7 - k)) & 1 for byte in row for k in range(8)][:width]
        return bits
    if sample_bytes == 1:
        samples: Sequence[int] = body[:need]
    else:
        samples = struct.unpack(f">{count}H", body[:need])
    too_big = max(samples)
    if too_big > maxval:
        raise ImageError(f"{name}: sample {too_big} is above maxval {maxval}")
    return samples


def encode_pgm(pixels: bytes, width: int, height: int) -> bytes:
    """A binary PGM (P5) of 8-bit grey pixels, 0 = black, 255 = white."""
    if len(pixels) != width * height:
        raise ValueError(f"{len(pixels)} pixels for a {width}x{height} image")
    return b"P5\n%d %d\n255\n" % (width, height) + bytes(pixels)


def write_pgm(path: str, pixels: bytes, width: int, height: int) -> None:
    """Write pixels as a PGM file atomically (all or nothing); ImageError if it cannot be written."""
    try:
        write_bytes_atomic(path, encode_pgm(pixels, width, height))
    except OSError as e:
        raise ImageError(f"{path}: cannot write: {e.strerror or e}") from None
