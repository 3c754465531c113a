"""purenet/image: PNG and PNM files written by the tests (tests/image_files.py) read back exactly.

Every PNG filter type, every colour type and bit depth, several IDAT
chunks, tRNS, every PNM variant; and each way a file can be wrong ends in
an ImageError naming what is wrong, before any large allocation.
"""

import functools
import os
import random
import struct
import sys
import zlib
from pathlib import Path

import pytest

from purenet.image import (MAX_FILE_BYTES, MAX_PIXELS, ImageError, decode_image, encode_pgm,
                           read_image, write_pgm)

sys.path.insert(0, str(Path(__file__).parent))
from image_files import SIGNATURE, chunk, png_bytes, pnm_bytes  # noqa: E402

W, H = 13, 7   # odd sizes: sub-byte rows end in padding, and bpp does not divide the row


def random_samples(n: int, maxval: int, seed: int = 0):
    rng = random.Random(seed)
    return [rng.randint(0, maxval) for _ in range(n)]


def decode(data: bytes):
    return decode_image("test.png", data)


def error_of(data: bytes, name: str = "test.png") -> str:
    with pytest.raises(ImageError) as e:
        decode_image(name, data)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(name + ": ")
    return message


# --- PNG: what is read ---------------------------------------------------------------------

@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4], ids=["None", "Sub", "Up", "Average", "Paeth"])
def test_each_filter_type_is_undone(filter_type):
    # 6,771 random bytes, so that even Paeth's rarer ties (a nearest, b as near as c) occur
    w, h = 61, 37
    samples = random_samples(w * h * 3, 255, seed=filter_type)
    image = decode(png_bytes(w, h, samples, colour_type=2, filters=(filter_type,)))
    assert (image.width, image.height, image.channels, image.maxval) == (w, h, 3, 255)
    assert list(image.samples) == samples


def test_rows_with_different_filters_each_use_the_row_above_as_stored_unfiltered():
    samples = random_samples(W * H * 4, 255, seed=5)
    image = decode(png_bytes(W, H, samples, colour_type=6, filters=(4, 3, 2, 1, 0, 3, 4)))
    assert list(image.samples) == samples


# (colour type, bit depth, channels read, what the file is called)
FORMATS = [
    (0, 1, 1, "1-bit grey PNG"), (0, 2, 1, "2-bit grey PNG"), (0, 4, 1, "4-bit grey PNG"),
    (0, 8, 1, "8-bit grey PNG"), (0, 16, 1, "16-bit grey PNG"),
    (2, 8, 3, "8-bit RGB PNG"), (2, 16, 3, "16-bit RGB PNG"),
    (4, 8, 2, "8-bit grey+alpha PNG"), (4, 16, 2, "16-bit grey+alpha PNG"),
    (6, 8, 4, "8-bit RGBA PNG"), (6, 16, 4, "16-bit RGBA PNG"),
]


@pytest.mark.parametrize("colour_type, depth, channels, kind", FORMATS, ids=[f[3] for f in FORMATS])
def test_every_colour_type_and_depth_reads_back_its_samples(colour_type, depth, channels, kind):
    maxval = 2**depth - 1
    samples = random_samples(W * H * channels, maxval, seed=depth + colour_type)
    image = decode(png_bytes(W, H, samples, colour_type, depth, filters=(0, 1, 2, 3, 4)))
    assert (image.channels, image.maxval, image.kind) == (channels, maxval, kind)
    assert list(image.samples) == samples


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_a_palette_image_is_expanded_to_its_colours(depth):
    n_colours = min(2**depth, 5)
    palette = bytes(range(3 * n_colours))                 # colour i = (3i, 3i+1, 3i+2)
    indices = random_samples(W * H, n_colours - 1, seed=depth)
    image = decode(png_bytes(W, H, indices, 3, depth, filters=(1, 4), palette=palette))
    assert (image.channels, image.maxval, image.kind) == (3, 255, f"{depth}-bit palette PNG")
    assert list(image.samples) == [v for i in indices for v in (3 * i, 3 * i + 1, 3 * i + 2)]


def test_a_palette_with_trns_gives_rgba_and_entries_past_trns_are_opaque():
    palette = bytes([0, 0, 0, 255, 255, 255, 9, 9, 9])
    indices = [0, 1, 2, 1]
    image = decode(png_bytes(2, 2, indices, 3, 8, palette=palette, transparency=bytes([0, 128])))
    assert image.channels == 4
    assert list(image.samples) == [0, 0, 0, 0, 255, 255, 255, 128, 9, 9, 9, 255, 255, 255, 255, 128]


def test_a_grey_colour_key_in_trns_makes_those_pixels_transparent():
    image = decode(png_bytes(3, 1, [7, 200, 7], 0, 8, transparency=struct.pack(">H", 7)))
    assert image.channels == 2
    assert list(image.samples) == [7, 0, 200, 255, 7, 0]


def test_several_idat_chunks_are_one_stream():
    samples = random_samples(W * H, 255, seed=9)
    one = decode(png_bytes(W, H, samples, idat_parts=1))
    seven = decode(png_bytes(W, H, samples, idat_parts=7))
    assert list(one.samples) == list(seven.samples) == samples


def test_ancillary_chunks_are_skipped():
    extra = [chunk(b"gAMA", struct.pack(">I", 45455)), chunk(b"tEXt", b"Comment\x00a seven")]
    image = decode(png_bytes(2, 1, [0, 255], extra_chunks=extra))
    assert list(image.samples) == [0, 255]


# --- PNG: what is refused ------------------------------------------------------------------

def good_png() -> bytes:
    return png_bytes(W, H, random_samples(W * H, 255), filters=(0, 1, 2, 3, 4), idat_parts=2)


def test_a_wrong_crc_is_named_with_its_chunk():
    data = png_bytes(W, H, random_samples(W * H, 255))
    idat = data.index(b"IDAT")
    damaged = data[:idat + 6] + bytes([data[idat + 6] ^ 1]) + data[idat + 7:]  # one bit of the data
    assert f"CRC mismatch in the IDAT chunk at byte {idat - 4}" in error_of(damaged)


def test_every_cut_of_the_file_is_an_error_and_after_the_signature_says_truncated():
    data = good_png()
    for n in range(len(data)):
        message = error_of(data[:n])
        if n >= len(SIGNATURE):
            assert "truncated" in message, (n, message)


def test_zero_width_is_refused():
    assert "the header says 0x7 pixels" in error_of(png_bytes(0, 7, []))


def test_enormous_dimensions_are_refused_from_the_header_alone():
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    assert f"100000x100000 = 10,000,000,000 pixels; images of at most {MAX_PIXELS:,}" in error_of(data)


@functools.lru_cache(maxsize=None)
def zip_bomb(side: int) -> bytes:
    """A side x side grey PNG (allowed) whose stream inflates to 128 MiB."""
    stream = zlib.compress(bytes(128 * 2**20), 9)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")


def test_a_zip_bomb_stops_one_byte_past_the_size_the_header_promises():
    # 4096 x 4096 grey is allowed (4096 * 4097 bytes with filter bytes: 16.8 MB)
    side = 4096
    assert f"holds more than the {side * (side + 1):,} bytes" in error_of(zip_bomb(side))


def test_a_zip_bomb_is_refused_without_inflating_it_all(peak_bytes):
    # Inflating the whole stream would hold 128 MiB at once.  zlib grows its
    # output buffer by doubling, so the peak is up to about twice the
    # promised size: 34 MB measured.
    side = 4096
    data = zip_bomb(side)
    assert peak_bytes(lambda: error_of(data)) < 3 * side * (side + 1)


def test_an_interlaced_png_is_refused_by_name():
    data = png_bytes(W, H, random_samples(W * H, 255), interlace=1)
    assert "interlaced PNG (Adam7) is not supported" in error_of(data)


def test_an_unknown_critical_chunk_is_refused_by_name():
    data = png_bytes(2, 1, [0, 255], extra_chunks=[chunk(b"ZZZZ", b"")])
    assert "critical chunk ZZZZ is not supported" in error_of(data)


def test_a_filter_type_above_4_is_refused():
    raw = bytes([5, 0, 0])
    ihdr = struct.pack(">IIBBBBB", 2, 1, 8, 0, 0, 0, 0)
    data = SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    assert "row 0 has filter type 5" in error_of(data)


def test_a_bit_depth_the_colour_type_does_not_allow_is_refused():
    ihdr = struct.pack(">IIBBBBB", 2, 1, 4, 2, 0, 0, 0)   # 4-bit RGB
    data = SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    assert "bit depth 4 is not allowed for RGB PNG" in error_of(data)


def test_a_palette_index_past_the_palette_is_refused():
    data = png_bytes(2, 1, [0, 2], 3, 8, palette=bytes(6))
    assert "palette index 2 used, but PLTE has only 2 colours" in error_of(data)


def test_corrupt_compressed_data_is_refused():
    ihdr = struct.pack(">IIBBBBB", 2, 1, 8, 0, 0, 0, 0)
    data = SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"not zlib") + chunk(b"IEND", b"")
    assert "the compressed image data is corrupt" in error_of(data)


def test_too_little_compressed_data_is_truncated():
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)
    data = SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(10))) + chunk(b"IEND", b"")
    assert "truncated: the image data holds 10 of the 20 bytes" in error_of(data)


@pytest.mark.parametrize("data, says", [
    (b"", "an empty file, not an image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image; purenet reads PNG and PGM/PBM/PPM only"),
    (b"GIF89a\x01\x00", "a GIF image"),
    (b"<!DOCTYPE html>", "not a PNG or PGM/PBM/PPM image (it starts with b'<!DOCTYP')"),
])
def test_files_that_are_not_images_are_named(data, says):
    assert says in error_of(data)


# --- PNM -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("magic, channels, maxval", [
    ("P2", 1, 255), ("P2", 1, 15), ("P3", 3, 255), ("P5", 1, 255), ("P5", 1, 1000), ("P6", 3, 255),
    ("P6", 3, 65535),
])
def test_pgm_and_ppm_read_back_their_samples(magic, channels, maxval):
    samples = random_samples(W * H * channels, maxval, seed=maxval)
    image = decode(pnm_bytes(magic, W, H, samples, maxval, comment="made by the tests"))
    assert (image.width, image.height, image.channels, image.maxval) == (W, H, channels, maxval)
    assert list(image.samples) == samples


@pytest.mark.parametrize("magic", ["P1", "P4"])
def test_pbm_bits_are_flipped_so_that_0_is_black(magic):
    bits = random_samples(W * H, 1, seed=4)
    image = decode(pnm_bytes(magic, W, H, bits))
    assert (image.channels, image.maxval) == (1, 1)
    assert list(image.samples) == [1 - b for b in bits]


def test_p1_bits_may_be_written_without_spaces():
    image = decode(b"P1\n# a comment\n3 2\n010\n111\n")
    assert list(image.samples) == [1, 0, 1, 0, 0, 0]


@pytest.mark.parametrize("data, says", [
    (pnm_bytes("P5", 4, 4, bytes(16))[:-3], "truncated: 13 of the 16 bytes of pixels"),
    (b"P2\n2 2\n255\n1 2 3\n", "truncated: the file ends before the sample 3 of 4"),
    (b"P2\n2 1\n15\n1 16\n", "sample 16 is above maxval 15"),
    (b"P5\n2 1\n0\n\0\0", "maxval 0; PNM allows 1 to 65535"),
    (b"P5\n0 3\n255\n", "the header says 0x3 pixels"),
    (b"P5\n99999 99999\n255\n", "99999x99999 = 9,999,800,001 pixels"),
    (b"P5\n2 x\n", "expected the height at byte 5, found b'x'"),
])
def test_bad_pnm_files_are_refused(data, says):
    assert says in error_of(data, "test.pgm")


# --- files and writing ---------------------------------------------------------------------------

def test_a_directory_is_not_read(tmp_path):
    with pytest.raises(ImageError, match="is a directory, not an image file"):
        read_image(str(tmp_path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file"):
        read_image(str(fifo))


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.png"
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)   # sparse: no disk space used
    with pytest.raises(ImageError, match=f"{MAX_FILE_BYTES + 1:,} bytes; images of at most"):
        read_image(str(path))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ImageError, match="nothing.png: no such file"):
        read_image(str(tmp_path / "nothing.png"))


def test_write_pgm_reads_back_the_same_pixels(tmp_path):
    pixels = bytes(random_samples(6, 255))
    path = str(tmp_path / "out.pgm")
    write_pgm(path, pixels, 3, 2)
    image = read_image(path)
    assert (image.width, image.height, image.channels, image.maxval) == (3, 2, 1, 255)
    assert bytes(image.samples) == pixels
    assert Path(path).read_bytes() == encode_pgm(pixels, 3, 2) == b"P5\n3 2\n255\n" + pixels
