"""Image files for the tests, written from the PNG and netpbm specifications with zlib and struct.

Independent of purenet/image (nothing is imported from it), so a test
that reads these files back checks the reader against the specification
as written here, not against itself.  See the docstrings of purenet/image/png.py and pnm.py
for the layouts.

    png_bytes(width, height, samples, ...)   a PNG; samples as stored (palette: indices)
    pnm_bytes(magic, width, height, samples, maxval)   a P1..P6 file
    mnist_page(pixels, ...)                   an MNIST digit drawn bigger on a page, as light levels
"""

import struct
import zlib
from typing import List, Optional, Sequence, Tuple

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}   # PNG colour type -> samples per pixel


def chunk(kind: bytes, data: bytes, crc: Optional[int] = None) -> bytes:
    """length, type, data, CRC-32 of type + data (or the given, possibly wrong, crc)."""
    if crc is None:
        crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    if pb <= pc:
        return b
    return c


def predictor(filter_type: int, a: int, b: int, c: int) -> int:
    """What filter_type predicts a byte from: a left, b above, c above-left."""
    if filter_type == 0:
        return 0
    if filter_type == 1:
        return a
    if filter_type == 2:
        return b
    if filter_type == 3:
        return (a + b) // 2
    return paeth(a, b, c)


def filter_row(filter_type: int, row: bytes, above: bytes, bpp: int) -> bytes:
    """The row as stored under the filter: each byte minus its predictor, mod 256."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        c = above[i - bpp] if i >= bpp else 0
        out.append((x - predictor(filter_type, a, above[i], c)) % 256)
    return bytes(out)


def pack_row(values: Sequence[int], depth: int) -> bytes:
    """One row's samples as bytes: big-endian 16-bit, bytes, or several to a byte (leftmost highest)."""
    if depth == 16:
        return struct.pack(f">{len(values)}H", *values)
    if depth == 8:
        return bytes(values)
    per_byte = 8 // depth
    out = bytearray()
    for start in range(0, len(values), per_byte):
        group = list(values[start:start + per_byte])
        byte = 0
        for k in range(per_byte):
            byte = (byte << depth) | (group[k] if k < len(group) else 0)
        out.append(byte)
    return bytes(out)


def png_bytes(width: int, height: int, samples: Sequence[int], colour_type: int = 0, depth: int = 8,
              filters: Sequence[int] = (0,), idat_parts: int = 1, palette: Optional[bytes] = None,
              transparency: Optional[bytes] = None, interlace: int = 0,
              extra_chunks: Sequence[bytes] = ()) -> bytes:
    """A PNG file; row r uses filters[r % len(filters)]; the zlib stream is cut into idat_parts IDATs."""
    channels = CHANNELS[colour_type]
    per_row = width * channels
    bpp = max(1, channels * depth // 8)
    stride = (per_row * depth + 7) // 8
    raw = bytearray()
    above = bytes(stride)
    for r in range(height):
        row = pack_row(samples[r * per_row:(r + 1) * per_row], depth)
        filter_type = filters[r % len(filters)]
        raw.append(filter_type)
        raw += filter_row(filter_type, row, above, bpp)
        above = row
    stream = zlib.compress(bytes(raw), 9)
    cut = [len(stream) * k // idat_parts for k in range(idat_parts + 1)]
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, interlace)
    body = chunk(b"IHDR", ihdr) + b"".join(extra_chunks)
    if palette is not None:
        body += chunk(b"PLTE", palette)
    if transparency is not None:
        body += chunk(b"tRNS", transparency)
    body += b"".join(chunk(b"IDAT", stream[cut[k]:cut[k + 1]]) for k in range(idat_parts))
    return SIGNATURE + body + chunk(b"IEND", b"")


def pnm_bytes(magic: str, width: int, height: int, samples: Sequence[int], maxval: int = 255,
              comment: str = "") -> bytes:
    """A netpbm file: P1/P4 take bits (1 = black), the others light levels 0..maxval."""
    header = f"{magic}\n" + (f"# {comment}\n" if comment else "") + f"{width} {height}\n"
    if magic not in ("P1", "P4"):
        header += f"{maxval}\n"
    head = header.encode("ascii")
    if magic == "P1":
        rows = [" ".join(str(v) for v in samples[r * width:(r + 1) * width]) for r in range(height)]
        return head + ("\n".join(rows) + "\n").encode("ascii")
    if magic in ("P2", "P3"):
        return head + (" ".join(str(v) for v in samples) + "\n").encode("ascii")
    if magic == "P4":
        return head + b"".join(pack_row(samples[r * width:(r + 1) * width], 1) for r in range(height))
    if maxval < 256:
        return head + bytes(samples)
    return head + struct.pack(f">{len(samples)}H", *samples)


def mnist_page(pixels: bytes, scale: float, page: Tuple[int, int], at: Tuple[int, int]
               ) -> List[float]:
    """Ink in [0, 1] of an MNIST digit drawn `scale` times bigger on a blank page.

    Nearest neighbour: page pixel (r, c) inside the drawing takes the digit's
    pixel (floor((r - top) / scale), floor((c - left) / scale)).  page is
    (width, height), at the (left, top) corner of the drawing.
    """
    width, height = page
    left, top = at
    size = int(28 * scale)
    ink = [0.0] * (width * height)
    for r in range(size):
        for c in range(size):
            ink[(top + r) * width + left + c] = pixels[int(r / scale) * 28 + int(c / scale)] / 255
    return ink


def bilinear_page(pixels: bytes, scale: int, margin: int) -> List[float]:
    """Ink in [0, 1] of an MNIST digit drawn `scale` times bigger, smoothly, with a margin.

    Bilinear: page pixel (r, c) of the drawing samples the digit at
    ((r + 0.5) / scale - 0.5, (c + 0.5) / scale - 0.5), between its four
    nearest pixels, so the strokes have soft edges as a pen's do.
    """
    size = 28 * scale
    side = size + 2 * margin

    def at(row: int, col: int) -> float:
        row, col = min(max(row, 0), 27), min(max(col, 0), 27)
        return pixels[row * 28 + col] / 255

    ink = [0.0] * (side * side)
    for r in range(size):
        y = (r + 0.5) / scale - 0.5
        y0 = int(y // 1)
        fy = y - y0
        for c in range(size):
            x = (c + 0.5) / scale - 0.5
            x0 = int(x // 1)
            fx = x - x0
            value = ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
                     + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))
            ink[(margin + r) * side + margin + c] = value
    return ink


SAMPLE_INDEX = 0            # test image 0, a 7
SAMPLE_SCALE, SAMPLE_MARGIN = 4, 8


def sample_digit_png() -> bytes:
    """docs/my_digit.png: test image SAMPLE_INDEX drawn 4 times bigger, black ink on white paper."""
    from purenet.mnist import load_mnist
    pixels = load_mnist("test").images[SAMPLE_INDEX]
    ink = bilinear_page(pixels, SAMPLE_SCALE, SAMPLE_MARGIN)
    side = 28 * SAMPLE_SCALE + 2 * SAMPLE_MARGIN
    return png_bytes(side, side, [255 - round(255 * v) for v in ink], filters=(4,))


if __name__ == "__main__":
    # python3 tests/image_files.py docs/my_digit.png  (from the repository root)
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    Path(sys.argv[1]).write_bytes(sample_digit_png())
