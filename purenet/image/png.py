"""PNG files, decoded with zlib and struct.

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
"""

import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from .picture import Image, ImageError, check_dimensions

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
