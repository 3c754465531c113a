"""digit.py: a picture becomes a 28 x 28 digit the way MNIST's digits were made."""

import sys
from collections import Counter
from pathlib import Path

import pytest

from purenet.digit import (BOX, CENTRE, FIELD, INK_FLOOR, area_weights, bounding_box,
                           centre_of_mass, ink_levels, prepare_digit, scale_to_box, to_grey)
from purenet.image import Image, ImageError, decode_image, read_image
from purenet.mnist import load_mnist

sys.path.insert(0, str(Path(__file__).parent))
from image_files import SAMPLE_INDEX, mnist_page, sample_digit_png  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def test_set():
    return load_mnist("test")


def grey_image(width: int, height: int, light) -> Image:
    """An 8-bit grey image with light(r, c) in 0..255 at each pixel."""
    samples = bytes(light(r, c) for r in range(height) for c in range(width))
    return Image(width, height, 1, 255, samples, "test image")


def ink_extent(pixels: bytes):
    """(width, height) of the lit pixels of a 28 x 28 image."""
    rows = [j // FIELD for j, v in enumerate(pixels) if v]
    cols = [j % FIELD for j, v in enumerate(pixels) if v]
    return max(cols) - min(cols) + 1, max(rows) - min(rows) + 1


def field_centre(pixels: bytes):
    return centre_of_mass(list(pixels), FIELD, FIELD)


# --- the convention, measured on MNIST itself -------------------------------------------------

def test_every_mnist_test_digit_has_its_centre_of_mass_within_half_a_pixel_of_14_14(test_set):
    centres = [centre_of_mass(image, FIELD, FIELD) for image in test_set.images]
    assert all(CENTRE - 0.5 <= cx < CENTRE + 0.5 and CENTRE - 0.5 <= cy < CENTRE + 0.5
               for cx, cy in centres)


def test_mnist_test_digits_have_their_longer_side_20_all_but_3(test_set):
    sides = Counter(max(ink_extent(image)) for image in test_set.images)
    assert sides == {BOX: 9997, BOX - 1: 3}


# --- a known blob -------------------------------------------------------------------------------

def test_a_wide_dark_bar_on_white_paper_ends_20_wide_8_high_and_centred():
    # a 30 x 12 black bar at column 61, row 5 of a white 100 x 60 page
    page = grey_image(100, 60, lambda r, c: 0 if 61 <= c < 91 and 5 <= r < 17 else 255)
    prepared = prepare_digit(page)
    assert prepared.inverted
    assert prepared.box == (61, 5, 91, 17)
    assert prepared.scaled == (20, 8)                       # 12 * 20 / 30 = 8
    assert ink_extent(prepared.pixels) == (20, 8)
    assert set(prepared.pixels) == {0, 255}                 # a solid bar stays solid
    cx, cy = field_centre(prepared.pixels)
    assert (cx, cy) == (13.5, 13.5)   # a bar of even sides cannot do better: [13.5, 14.5)
    assert prepared.offset == (4, 10)


def test_the_centre_of_mass_is_centred_not_the_box():
    # an L: a tall stroke and a short foot, light on dark; its mass sits left of its box's middle
    def light(r, c):
        stroke = 10 <= c < 16 and 10 <= r < 50
        foot = 16 <= c < 40 and 44 <= r < 50
        return 250 if stroke or foot else 3
    prepared = prepare_digit(grey_image(60, 60, light))
    assert not prepared.inverted
    assert max(prepared.scaled) == BOX and prepared.scaled[1] == BOX
    cx, cy = field_centre(prepared.pixels)
    assert CENTRE - 0.5 <= cx < CENTRE + 0.5 and CENTRE - 0.5 <= cy < CENTRE + 0.5
    left, top = prepared.offset
    width, _ = prepared.scaled
    assert left + width / 2 > CENTRE + 1      # the box itself is well right of centre


def test_a_thin_outline_survives_scaling_down_tenfold():
    # a 1-pixel square outline of 200 x 200: each of its 20 x 20 pixels after scaling
    # covers a tenth of the stroke; every pixel of the outline must still be ink
    def light(r, c):   # the outline, with a 1-pixel margin of paper around it
        inside = 1 <= r <= 200 and 1 <= c <= 200
        return 0 if inside and (r in (1, 200) or c in (1, 200)) else 255
    page = grey_image(202, 202, light)
    prepared = prepare_digit(page)
    left, top = prepared.offset
    outline = [(r, c) for r in range(20) for c in range(20) if r in (0, 19) or c in (0, 19)]
    assert all(prepared.pixels[(top + r) * FIELD + left + c] > 0 for r, c in outline)
    # averaging left a tenth of the stroke; stretched back so the strongest pixel is full ink
    assert max(prepared.pixels) == 255


def test_area_weights_share_each_input_cell_exactly_once():
    for n_in, n_out in ((60, 20), (7, 20), (200, 20), (29, 20)):
        weights = area_weights(n_in, n_out)
        per_cell = [0.0] * n_in
        for cells in weights:
            assert sum(w for _, w in cells) == pytest.approx(1.0)
            for i, w in cells:
                per_cell[i] += w * n_in / n_out
        assert per_cell == pytest.approx([1.0] * n_in)


def test_scaling_keeps_the_aspect_ratio():
    _, w, h = scale_to_box([1.0] * (90 * 40), 90, 40, BOX)
    assert (w, h) == (20, 9)                                # 40 * 20 / 90 = 8.9


# --- grey, ink and blank ---------------------------------------------------------------------------

def test_to_grey_weighs_colours_by_luma_and_sees_transparency_as_white_paper():
    rgba = Image(3, 1, 4, 255, bytes([255, 0, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0]), "rgba")
    assert to_grey(rgba) == pytest.approx([0.299, 0.114, 1.0])


def test_grey_paper_becomes_0_and_the_strongest_ink_1():
    grey = [0.8] * 8 + [0.3, 0.55] + [0.8] * 6          # 4 x 4, paper 0.8
    ink, inverted = ink_levels(grey, 4, 4)
    assert inverted
    assert ink[8:10] == pytest.approx([1.0, 0.5])
    assert ink[:8] == [0.0] * 8


@pytest.mark.parametrize("light", [lambda r, c: 255, lambda r, c: 0, lambda r, c: 128,
                                   lambda r, c: 250 if (r, c) == (5, 5) else 255])
def test_a_blank_picture_has_no_ink(light):
    with pytest.raises(ImageError, match="no ink found"):
        prepare_digit(grey_image(12, 12, light))


def test_faint_marks_are_paper():
    # the digit (full ink) and a smudge at INK_FLOOR / 2 in a corner: the box ignores the smudge
    def light(r, c):
        if 20 <= r < 30 and 20 <= c < 25:
            return 0
        return 255 - round(255 * INK_FLOOR / 2) if (r, c) == (1, 1) else 255
    assert bounding_box(ink_levels(to_grey(grey_image(40, 40, light)), 40, 40)[0], 40, 40) \
        == (1, 1, 25, 30)
    assert prepare_digit(grey_image(40, 40, light)).box == (20, 20, 25, 30)


# --- MNIST digits come back as themselves -----------------------------------------------------------

def shifted(pixels: bytes, dx: int, dy: int) -> bytes:
    """The 28 x 28 image moved dx columns right and dy rows down (0 shifted in)."""
    return bytes(pixels[(r - dy) * FIELD + c - dx] if 0 <= r - dy < FIELD and 0 <= c - dx < FIELD
                 else 0 for r in range(FIELD) for c in range(FIELD))


def within_one_level(a: bytes, b: bytes) -> bool:
    return max(abs(u - v) for u, v in zip(a, b)) <= 1


def test_mnist_digits_drawn_3_times_bigger_in_black_on_white_come_back_themselves(test_set):
    # Nearest neighbour 3x on a larger page, then prepared: MNIST's own pixels come back,
    # without the faint ones (below INK_FLOOR) that preparing drops.  Measured on the
    # first 100 test digits: 89 identical, 10 more within one grey level (the strongest
    # pixel was below 255 and is stretched to it), 1 moved down a row (its faint
    # pixels had pulled the centre of mass the other way).
    identical = in_place = moved = 0
    for image in test_set.images[:100]:
        ink = mnist_page(image, 3, (90, 100), (2, 9))
        page = grey_image(90, 100, lambda r, c: 255 - round(255 * ink[r * 90 + c]))
        prepared = prepare_digit(page).pixels
        expected = bytes(v if v >= INK_FLOOR * 255 else 0 for v in image)
        identical += prepared == expected
        in_place += within_one_level(prepared, expected)
        moved += any(within_one_level(prepared, shifted(expected, dx, dy))
                     for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx, dy) != (0, 0))
    assert (identical, in_place, moved) == (89, 99, 1)


def test_the_sample_digit_in_docs_is_test_image_0_drawn_bigger(test_set):
    committed = read_image(str(REPO / "docs" / "my_digit.png"))
    regenerated = decode_image("sample", sample_digit_png())
    assert list(committed.samples) == list(regenerated.samples)
    prepared = prepare_digit(committed).pixels
    original = test_set.images[SAMPLE_INDEX]
    lit_both = sum(1 for a, b in zip(prepared, original) if a and b)
    assert lit_both >= 0.8 * sum(1 for v in original if v)
