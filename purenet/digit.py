"""Preparing a picture of a digit the way MNIST's digits were prepared.

MNIST's digits were written on paper, scanned in black and white, and then
(LeCun, Cortes and Burges, "The MNIST database"): each was scaled to fit a
20 x 20 pixel box keeping its aspect ratio, with anti-aliasing, so it took
grey levels; and it was placed in a 28 x 28 field so that its centre of
mass sat at the centre of the field.  Ink is 255, paper 0.  A network
trained on MNIST has only ever seen digits like that, so a picture must be
brought to the same form before the network sees it:

    to_grey          every pixel to one light level g in [0, 1] (0 = black, 1 = white)
    ink_levels       paper -> 0 and the strongest ink -> 1, whichever way round they are
    drop_faint       ink below INK_FLOOR of the strongest -> 0 (paper grain, shadows)
    bounding_box     the smallest rectangle holding every pixel of ink
    crop             the picture cut down to that rectangle
    scale_to_box     the longer side to BOX = 20 pixels, the aspect ratio kept, by area averaging
    place_in_field   into a FIELD x FIELD = 28 x 28 field, centre of mass at (14, 14)
    to_pixels        ink in [0, 1] -> bytes 0..255

The result is 784 bytes, row-major, 0 = background and 255 = full ink: the
same form as one MNIST image from ``mnist.py``, so the rest of purenet can
use it as it uses a test image (``network.to_vector`` turns it into x).

Coordinates.  Pixel (r, c) is row r, column c, counted from 0 at the top
left.  The centre of mass of a digit with ink v_rc is

    cx = sum_rc c v_rc / sum_rc v_rc        cy = sum_rc r v_rc / sum_rc v_rc

in those same pixel indices, and the digit is shifted by whole pixels so
that (cx, cy) rounds to (14, 14): it lies within half a pixel of the pixel
at row 14, column 14.  That is MNIST's own convention, measured: the centre
of mass of every one of the 10,000 test digits lies in [13.5, 14.5) on
both axes (tests/test_digit.py checks it).

A picture with no ink at all (every pixel within MIN_CONTRAST of the paper)
raises ``ImageError``: "no ink found".
"""

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from .image import Image, ImageError

FIELD = 28          # MNIST's images are FIELD x FIELD
BOX = 20            # ... and each digit fits a BOX x BOX box inside
CENTRE = 14         # the pixel index the centre of mass rounds to, on each axis
MIN_CONTRAST = 0.1  # ink must differ from the paper by a tenth of black-to-white
INK_FLOOR = 0.1     # ink weaker than this, relative to the strongest, is paper

# ITU-R BT.601 luma weights (what MNIST-era tools and most image libraries
# use to turn colour into grey): how bright red, green and blue look.
LUMA = (0.299, 0.587, 0.114)

Box = Tuple[int, int, int, int]   # (left, top, right, bottom); right and bottom exclusive


@dataclass
class Prepared:
    """A digit ready for the network, and how it was made (for the reader of the output)."""
    pixels: bytes          # FIELD * FIELD, row-major, 0 = background, 255 = ink
    inverted: bool         # True: dark ink on light paper, turned around
    box: Box               # where the ink was in the picture
    scaled: Tuple[int, int]   # (width, height) of the ink after scaling, longer side BOX
    offset: Tuple[int, int]   # (column, row) of the scaled ink's top left corner in the field


def prepare_digit(image: Image) -> Prepared:
    """The image as one MNIST-style 28 x 28 digit (see the module docstring for the steps)."""
    w, h = image.width, image.height
    grey = to_grey(image)
    ink, inverted = ink_levels(grey, w, h)
    ink = drop_faint(ink)
    box = bounding_box(ink, w, h)
    cropped, w, h = crop(ink, w, box)
    scaled, w, h = scale_to_box(cropped, w, h, BOX)
    field, offset = place_in_field(scaled, w, h, FIELD)
    return Prepared(pixels=to_pixels(field), inverted=inverted, box=box, scaled=(w, h),
                    offset=offset)


def to_grey(image: Image) -> List[float]:
    """Light level g in [0, 1] of each pixel: 0 black, 1 white.

    Colour becomes its luma (LUMA): the network reads a grey level, and a
    blue pen on white paper should look as dark as it looks to a person.
    A transparent pixel is blank paper: a pixel of opacity a and light g
    is seen over white, a g + (1 - a) 1, as a drawing program shows it.
    """
    n, m = image.channels, image.maxval
    s = image.samples
    has_colour = n >= 3
    has_alpha = n in (2, 4)
    grey = []
    for i in range(0, len(s), n):
        if has_colour:
            g = (LUMA[0] * s[i] + LUMA[1] * s[i + 1] + LUMA[2] * s[i + 2]) / m
        else:
            g = s[i] / m
        if has_alpha:
            a = s[i + n - 1] / m
            g = a * g + (1.0 - a)
        grey.append(g)
    return grey


def border(values: Sequence[float], w: int, h: int) -> List[float]:
    """The values of the outermost rows and columns (each pixel once)."""
    top, bottom = list(values[:w]), list(values[(h - 1) * w:]) if h > 1 else []
    sides = [values[r * w + c] for r in range(1, h - 1) for c in {0, w - 1}]
    return top + bottom + sides


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ink_levels(grey: Sequence[float], w: int, h: int) -> Tuple[List[float], bool]:
    """(ink in [0, 1] of each pixel, whether the picture was inverted).

    The paper is what the border mostly is (its median), since a digit is
    written in the middle of the page: light paper means dark ink, which is
    inverted, because in MNIST ink is the high value.  Then the paper's own
    level becomes 0 (grey paper, a dim photo) and the strongest ink 1 (a
    faint pencil), as MNIST's scans were black and white.
    """
    paper = median(border(grey, w, h))
    inverted = paper > 0.5
    darkness = [1.0 - g for g in grey] if inverted else list(grey)
    paper_level = 1.0 - paper if inverted else paper
    contrast = max(darkness) - paper_level
    if contrast < MIN_CONTRAST:
        raise ImageError(f"no ink found: the strongest mark differs from the paper by "
                         f"{max(contrast, 0.0):.0%} of black to white, and ink needs "
                         f"{MIN_CONTRAST:.0%} (a blank picture?)")
    return [max(0.0, d - paper_level) / contrast for d in darkness], inverted


def drop_faint(ink: Sequence[float]) -> List[float]:
    """Ink below INK_FLOOR becomes 0.

    Paper is never exactly one level: grain, a shadow or a smudge would
    otherwise count as ink, stretch the bounding box to the whole picture
    and pull the centre of mass off the digit.
    """
    return [v if v >= INK_FLOOR else 0.0 for v in ink]


def bounding_box(ink: Sequence[float], w: int, h: int) -> Box:
    """(left, top, right, bottom) of the smallest rectangle holding every pixel with ink > 0.

    MNIST's digits were cut to their ink before scaling, so the digit's
    size, not the size of the page it was written on, decides its scale.
    """
    rows = [r for r in range(h) if any(ink[r * w:(r + 1) * w])]
    columns = [c for c in range(w) if any(ink[c::w])]
    return columns[0], rows[0], columns[-1] + 1, rows[-1] + 1


def crop(ink: Sequence[float], w: int, box: Box) -> Tuple[List[float], int, int]:
    """(the pixels inside box, its width, its height)."""
    left, top, right, bottom = box
    cropped = [v for r in range(top, bottom) for v in ink[r * w + left:r * w + right]]
    return cropped, right - left, bottom - top


def area_weights(n_in: int, n_out: int) -> List[List[Tuple[int, float]]]:
    """For each output cell o, the input cells i it covers and the length of each overlap.

    Input cell i spans [i, i + 1) and output cell o spans [o s, (o + 1) s)
    with s = n_in / n_out in input units; out_o = sum_i overlap_oi in_i / s.
    """
    s = n_in / n_out
    weights = []
    for o in range(n_out):
        lo, hi = o * s, (o + 1) * s
        cells = []
        for i in range(int(lo), min(n_in, math.ceil(hi))):
            overlap = min(hi, i + 1) - max(lo, i)
            if overlap > 0:
                cells.append((i, overlap / s))
        weights.append(cells)
    return weights


def resample(values: Sequence[float], weights: List[List[Tuple[int, float]]]) -> List[float]:
    """One line of values averaged into len(weights) cells."""
    return [sum(values[i] * wt for i, wt in cells) for cells in weights]


def scale_to_box(ink: Sequence[float], w: int, h: int, size: int) -> Tuple[List[float], int, int]:
    """(ink scaled so the longer side is `size` pixels, new width, new height).

    The shorter side becomes round(short * size / long), at least 1, so the
    aspect ratio is kept.  Each new pixel is the average of the area of the
    picture it covers (rows first, then columns): a stroke thinner than a
    new pixel still darkens it in proportion, where keeping one old pixel
    in every few would skip the stroke.  Last, the strongest pixel is set to
    1 again, since averaging dims a thin stroke and MNIST's strokes are full ink.
    """
    longest = max(w, h)
    w2 = max(1, math.floor(w * size / longest + 0.5))
    h2 = max(1, math.floor(h * size / longest + 0.5))
    across = area_weights(w, w2)
    rows = [resample(ink[r * w:(r + 1) * w], across) for r in range(h)]
    down = area_weights(h, h2)
    columns = [resample([row[c] for row in rows], down) for c in range(w2)]
    scaled = [columns[c][r] for r in range(h2) for c in range(w2)]
    strongest = max(scaled)
    return [v / strongest for v in scaled], w2, h2


def centre_of_mass(ink: Sequence[float], w: int, h: int) -> Tuple[float, float]:
    """(cx, cy): the ink-weighted mean column and row, in pixel indices."""
    mass = sum(ink)
    cx = sum((j % w) * v for j, v in enumerate(ink)) / mass
    cy = sum((j // w) * v for j, v in enumerate(ink)) / mass
    return cx, cy


def place_in_field(ink: Sequence[float], w: int, h: int, size: int
                   ) -> Tuple[List[float], Tuple[int, int]]:
    """(a size x size field with ink placed in it, (column, row) of ink's top left corner).

    The shift is the whole number of pixels that brings the centre of mass
    nearest to (CENTRE, CENTRE); it is then clamped so the whole digit
    stays inside the field (a lopsided digit ends up a little off centre,
    rather than cut).
    """
    cx, cy = centre_of_mass(ink, w, h)
    # ceil(d - 0.5) rounds d to the nearest whole number, halves down, so
    # the shifted centre lands in [CENTRE - 0.5, CENTRE + 0.5), as in MNIST
    left = min(max(math.ceil(CENTRE - cx - 0.5), 0), size - w)
    top = min(max(math.ceil(CENTRE - cy - 0.5), 0), size - h)
    field = [0.0] * (size * size)
    for r in range(h):
        field[(top + r) * size + left:(top + r) * size + left + w] = ink[r * w:(r + 1) * w]
    return field, (left, top)


def to_pixels(ink: Sequence[float]) -> bytes:
    """ink in [0, 1] -> grey level round(255 ink), MNIST's 0..255."""
    return bytes(min(255, max(0, math.floor(255 * v + 0.5))) for v in ink)
