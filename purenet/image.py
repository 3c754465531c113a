"""Reading PNG and PNM (PGM, PBM, PPM) images with the standard library only.

This module knows nothing about networks: it turns a file into pixels.
``read_image(path)`` returns an ``Image``:

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

**PNG** (the PNG specification, third edition, W3C 2025).  A file is the
8-byte signature, then chunks; each chunk is

    length (4 bytes, big-endian)   type (4 ASCII letters)   data (length bytes)
    CRC-32 of type + data (4 bytes)

``IHDR`` comes first (width, height, bit depth, colour type, compression,
filter method, interlace), ``PLTE`` holds a palette, ``tRNS`` transparency,
the ``IDAT`` chunks (one or many) hold one zlib stream when joined, and
``IEND`` ends the file.  Decompressed, the image is ``height`` rows, each a
filter-type byte and then ``stride = ceil(width * channels * depth / 8)``
bytes.  A filter stores each byte x as a difference from its neighbours
a (left, ``bpp`` bytes back, bpp = bytes per whole pixel, at least 1),
b (above) and c (above-left), all 0 outside the image; undoing it (mod 256):

    0 None     x
    1 Sub      x + a
    2 Up       x + b
    3 Average  x + floor((a + b) / 2)
    4 Paeth    x + whichever of a, b, c is nearest to a + b - c (ties: a, then b)

Read: colour types 0 (grey, depth 1, 2, 4, 8, 16), 2 (RGB, 8, 16),
3 (palette, 1, 2, 4, 8), 4 (grey + alpha, 8, 16), 6 (RGBA, 8, 16); every
filter type; tRNS.  Not read, each with a one-line error naming it:
interlaced (Adam7) images, and any unknown critical chunk (a chunk whose
type starts with a capital letter).  Other ancillary chunks (gamma, text,
...) are skipped, their CRC still checked.

**PNM** (netpbm): a magic number, then whitespace-separated decimal header
fields (``#`` starts a comment to the end of the line), then the pixels.

    P1 / P4   PBM, width height,         bits as "0"/"1" text / packed 8 to a byte, 1 = black
    P2 / P5   PGM, width height maxval,  grey as decimal text / bytes
    P3 / P6   PPM, width height maxval,  RGB as decimal text / bytes

In P5 and P6 a sample takes one byte if maxval < 256, else two (big-endian),
and exactly one whitespace byte separates the header from the pixels.

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

import os
import stat
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from .atomic import write_bytes_atomic

MAX_PIXELS = 4096 * 4096           # width * height of the largest image read
MAX_FILE_BYTES = 64 * 1024 * 1024  # size of the largest file read

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_CHUNK_HEAD = struct.Struct(">I4s")        # length, type
# IHDR: width, height, bit depth, colour type, compression, filter method, interlace
PNG_IHDR = struct.Struct(">IIBBBBB")
MAX_CHUNK_LENGTH = 2**31 - 1                  # the PNG specification's limit

# colour type -> (name, channels, allowed bit depths)
PNG_COLOUR_TYPES: Dict[int, Tuple[str, int, Tuple[int, ...]]] = {
    0: ("grey", 1, (1, 2, 4, 8, 16)),
    2: ("RGB", 3, (8, 16)),
    3: ("palette", 1, (1, 2, 4, 8)),
    4: ("grey+alpha", 2, (8, 16)),
    6: ("RGBA", 4, (8, 16)),
}
PALETTE = 3

# magic -> (name, channels) of the PNM formats
PNM_FORMATS: Dict[bytes, Tuple[str, int]] = {
    b"P1": ("PBM (P1, text)", 1), b"P2": ("PGM (P2, text)", 1), b"P3": ("PPM (P3, text)", 3),
    b"P4": ("PBM (P4)", 1), b"P5": ("PGM (P5)", 1), b"P6": ("PPM (P6)", 3),
}
PNM_WHITESPACE = b" \t\n\v\f\r"

# the first bytes of formats a learner may try, so the error can name them
OTHER_FORMATS = [
    (b"\xff\xd8\xff", "a JPEG image"), (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
    (b"P7", "a PAM image"), (b"%PDF", "a PDF document"), (b"<svg", "an SVG drawing"),
]


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


# --- the file ----------------------------------------------------------------------------------

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


def check_dimensions(name: str, width: int, height: int) -> None:
    """Refuse a side of 0 and more than MAX_PIXELS pixels, before any pixel is allocated."""
    if width == 0 or height == 0:
        raise ImageError(f"{name}: the header says {width}x{height} pixels; an image needs "
                         f"at least one row and one column")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: {width}x{height} = {width * height:,} pixels; images of at "
                         f"most {MAX_PIXELS:,} pixels are read (scale it down first)")


# --- PNG -----------------------------------------------------------------------------------------

@dataclass
class PngHeader:
    width: int
    height: int
    depth: int        # bits per sample (per palette index for colour type 3)
    colour_type: int
    channels: int     # samples per pixel as stored (1 for a palette index)

    @property
    def bits_per_pixel(self) -> int:
        return self.depth * self.channels

    @property
    def stride(self) -> int:
        """Bytes of one row after its filter byte: ceil(width * bits_per_pixel / 8)."""
        return (self.width * self.bits_per_pixel + 7) // 8

    @property
    def bpp(self) -> int:
        """Bytes per whole pixel, at least 1: how far back a filter's 'left' byte is."""
        return max(1, self.bits_per_pixel // 8)

    def kind(self) -> str:
        return f"{self.depth}-bit {PNG_COLOUR_TYPES[self.colour_type][0]} PNG"


def png_chunks(name: str, data: bytes) -> Iterator[Tuple[str, bytes]]:
    """(type, data) of each chunk after the signature, its CRC checked, up to and including IEND."""
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + PNG_CHUNK_HEAD.size > len(data):
            raise ImageError(f"{name}: truncated: the file ends at byte {len(data)}, "
                             f"before its IEND chunk")
        length, raw_type = PNG_CHUNK_HEAD.unpack_from(data, pos)
        chunk_type = raw_type.decode("latin-1")
        if not raw_type.isalpha() or length > MAX_CHUNK_LENGTH:
            raise ImageError(f"{name}: damaged: no valid chunk at byte {pos} "
                             f"(type {raw_type!r}, length {length})")
        start, end = pos + PNG_CHUNK_HEAD.size, pos + PNG_CHUNK_HEAD.size + length
        if end + 4 > len(data):
            raise ImageError(f"{name}: truncated: the {chunk_type} chunk at byte {pos} needs "
                             f"{length + 12} bytes, the file ends after {len(data) - pos}")
        body = data[start:end]
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(raw_type + body) != crc:
            raise ImageError(f"{name}: CRC mismatch in the {chunk_type} chunk at byte {pos} "
                             f"(the file is damaged)")
        yield chunk_type, body
        if chunk_type == "IEND":
            return
        pos = end + 4


def parse_ihdr(name: str, body: bytes) -> PngHeader:
    """The header, checked: sizes bounded, depth and colour type a valid pair, no interlace."""
    if len(body) != PNG_IHDR.size:
        raise ImageError(f"{name}: the IHDR chunk has {len(body)} bytes, not {PNG_IHDR.size}")
    width, height, depth, colour_type, compression, filter_method, interlace = \
        PNG_IHDR.unpack(body)
    if colour_type not in PNG_COLOUR_TYPES:
        raise ImageError(f"{name}: colour type {colour_type} is not a PNG colour type")
    colour, channels, depths = PNG_COLOUR_TYPES[colour_type]
    if depth not in depths:
        raise ImageError(f"{name}: bit depth {depth} is not allowed for {colour} PNG "
                         f"(allowed: {', '.join(map(str, depths))})")
    if compression != 0 or filter_method != 0:
        raise ImageError(f"{name}: compression method {compression}, filter method "
                         f"{filter_method}: PNG defines only method 0 of each")
    if interlace == 1:
        raise ImageError(f"{name}: interlaced PNG (Adam7) is not supported; save it "
                         f"without interlacing")
    if interlace != 0:
        raise ImageError(f"{name}: interlace method {interlace} is not a PNG interlace method")
    check_dimensions(name, width, height)
    return PngHeader(width, height, depth, colour_type, channels)


def decode_png(name: str, data: bytes) -> Image:
    header: Optional[PngHeader] = None
    palette: Optional[bytes] = None
    transparency: Optional[bytes] = None
    idat: List[bytes] = []
    for chunk_type, body in png_chunks(name, data):
        if header is None and chunk_type != "IHDR":
            raise ImageError(f"{name}: the first chunk is {chunk_type}, not IHDR")
        if chunk_type == "IHDR":
            if header is not None:
                raise ImageError(f"{name}: a second IHDR chunk")
            header = parse_ihdr(name, body)
        elif chunk_type == "PLTE":
            palette = body
        elif chunk_type == "tRNS":
            transparency = body
        elif chunk_type == "IDAT":
            idat.append(body)
        elif chunk_type != "IEND" and chunk_type[0].isupper():
            raise ImageError(f"{name}: critical chunk {chunk_type} is not supported")
    assert header is not None  # png_chunks ends at IEND, and IHDR had to come first
    if not idat:
        raise ImageError(f"{name}: no IDAT chunk: the file holds no pixels")
    raw = inflate(name, b"".join(idat), header.height * (1 + header.stride))
    rows = unfilter(name, raw, header)
    values = unpack_samples(rows, header)
    if header.colour_type == PALETTE:
        return expand_palette(name, header, values, palette, transparency)
    channels, maxval = header.channels, 2**header.depth - 1
    if transparency is not None:
        values, channels = add_alpha_from_key(name, values, channels, maxval, transparency)
    return Image(header.width, header.height, channels, maxval, values, header.kind())


def inflate(name: str, compressed: bytes, expected: int) -> bytes:
    """The zlib stream decompressed to exactly `expected` bytes: never more than one byte past it."""
    stream = zlib.decompressobj()
    try:
        raw = stream.decompress(compressed, expected + 1)
    except zlib.error as e:
        raise ImageError(f"{name}: the compressed image data is corrupt ({e})") from None
    if len(raw) > expected:
        raise ImageError(f"{name}: the image data holds more than the {expected:,} bytes "
                         f"its header promises")
    if len(raw) < expected:
        raise ImageError(f"{name}: truncated: the image data holds {len(raw):,} of the "
                         f"{expected:,} bytes its header promises")
    return raw


def unfilter(name: str, raw: bytes, header: PngHeader) -> bytearray:
    """Undo each row's filter (see the module docstring): height * stride bytes, no filter bytes."""
    stride, bpp = header.stride, header.bpp
    out = bytearray(header.height * stride)
    above = bytes(stride)   # the row above the first one is all zeros
    for r in range(header.height):
        start = r * (stride + 1)
        filter_type = raw[start]
        if filter_type > 4:
            raise ImageError(f"{name}: row {r} has filter type {filter_type}; PNG filters "
                             f"are 0 to 4 (the file is damaged)")
        row = bytearray(raw[start + 1:start + 1 + stride])
        UNFILTERS[filter_type](row, above, bpp)
        out[r * stride:(r + 1) * stride] = row
        above = row
    return out


def unfilter_none(row: bytearray, above: bytes, bpp: int) -> None:
    pass


def unfilter_sub(row: bytearray, above: bytes, bpp: int) -> None:
    for i in range(bpp, len(row)):
        row[i] = (row[i] + row[i - bpp]) & 0xFF


def unfilter_up(row: bytearray, above: bytes, bpp: int) -> None:
    row[:] = bytes((x + b) & 0xFF for x, b in zip(row, above))


def unfilter_average(row: bytearray, above: bytes, bpp: int) -> None:
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        row[i] = (row[i] + ((a + above[i]) >> 1)) & 0xFF


def paeth(a: int, b: int, c: int) -> int:
    """Whichever of a (left), b (above), c (above-left) is nearest to a + b - c; ties: a, b, c."""
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter_paeth(row: bytearray, above: bytes, bpp: int) -> None:
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        c = above[i - bpp] if i >= bpp else 0
        row[i] = (row[i] + paeth(a, above[i], c)) & 0xFF


UNFILTERS = (unfilter_none, unfilter_sub, unfilter_up, unfilter_average, unfilter_paeth)


def unpack_samples(rows: bytearray, header: PngHeader) -> Sequence[int]:
    """The samples (or palette indices), width * channels per row, from the unfiltered bytes."""
    if header.depth == 8:
        return bytes(rows)
    if header.depth == 16:
        values = array("H", bytes(rows))
        if sys.byteorder == "little":
            values.byteswap()   # PNG stores 16-bit samples big-endian
        return values
    # 1, 2 or 4 bits: several samples per byte, the leftmost in the highest bits;
    # each row starts on a new byte, so the last byte of a row may hold padding.
    depth, per_row, stride = header.depth, header.width * header.channels, header.stride
    mask = (1 << depth) - 1
    shifts = range(8 - depth, -1, -depth)
    values = bytearray()
    for r in range(header.height):
        row = rows[r * stride:(r + 1) * stride]
        unpacked = [(byte >> shift) & mask for byte in row for shift in shifts]
        values += bytes(unpacked[:per_row])
    return bytes(values)


def expand_palette(name: str, header: PngHeader, indices: Sequence[int],
                   palette: Optional[bytes], transparency: Optional[bytes]) -> Image:
    """RGB (RGBA if tRNS gives palette entries an opacity) from the palette indices."""
    if palette is None or len(palette) % 3 != 0 or not palette:
        raise ImageError(f"{name}: a palette image without a valid PLTE chunk")
    n_colours = len(palette) // 3
    colours = [list(palette[3 * i:3 * i + 3]) for i in range(n_colours)]
    if transparency is not None:
        # tRNS holds one opacity per palette entry, in order; entries past its end are opaque
        colours = [colour + [transparency[i] if i < len(transparency) else 255]
                   for i, colour in enumerate(colours)]
    largest = max(indices)
    if largest >= n_colours:
        raise ImageError(f"{name}: palette index {largest} used, but PLTE has only "
                         f"{n_colours} colours")
    samples = bytes(v for i in indices for v in colours[i])
    kind = header.kind() + (" with transparency" if transparency is not None else "")
    return Image(header.width, header.height, len(colours[0]), 255, samples, kind)


def add_alpha_from_key(name: str, values: Sequence[int], channels: int, maxval: int,
                       transparency: bytes) -> Tuple[List[int], int]:
    """Grey or RGB with a tRNS colour key: pixels of exactly that colour become transparent."""
    if len(transparency) != 2 * channels:
        raise ImageError(f"{name}: a tRNS chunk of {len(transparency)} bytes for a "
                         f"{channels}-channel image (expected {2 * channels})")
    key = list(struct.unpack(f">{channels}H", transparency))
    out: List[int] = []
    for i in range(0, len(values), channels):
        pixel = list(values[i:i + channels])
        out += pixel + [0 if pixel == key else maxval]
    return out, channels + 1


# --- PNM -------------------------------------------------------------------------------------------

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


# --- writing -------------------------------------------------------------------------------------

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
