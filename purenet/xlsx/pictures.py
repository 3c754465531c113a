"""Pictures made of cells: digits in grey, weights in blue-white-red.

A picture cell holds its number (a pixel 0..255, a weight) with a number
format that hides it and a fixed fill colour that shows it, so every viewer
draws the same picture, recalculating or not; click a cell to read its
number.  ``draw`` paints one picture, ``picture_grid`` lays out many,
PICTURES_PER_ROW to a row, with page breaks so that a printed page never
cuts one in two.

    pixel_colour(v)        white (0, paper) to black (255, ink)
    weight_colour(w, M)    blue (-M) - white (0) - red (+M), in WEIGHT_LEVELS
                           steps per sign, so a picture uses at most 33 fills
"""

from typing import Callable, Dict, Optional, Sequence, Tuple

from openpyxl.styles import Alignment, NamedStyle
from openpyxl.worksheet.pagebreak import Break

from .book import Sheet
from .cells import font, solid

HIDDEN = ";;;"            # a picture cell keeps its number but shows only its fill
PICTURES_PER_ROW = 6

# Pictures: square cells (about 12 x 12 pixels in Excel and LibreOffice).
PIXEL_WIDTH = 1.0         # column width, in characters
PIXEL_HEIGHT = 9.0        # row height, in points
CAPTION_ROWS = 2
BANDS_PER_PAGE = 3        # rows of pictures on a printed page
BLUE, WHITE, RED = (0x21, 0x66, 0xAC), (0xFF, 0xFF, 0xFF), (0xB2, 0x18, 0x2B)
WEIGHT_LEVELS = 16        # shades per sign: 33 colours in all
PICTURE_DIGITS = 4        # significant digits a weight picture's cells keep

# --- colours --------------------------------------------------------------------------

def hex_colour(rgb: Tuple[float, float, float]) -> str:
    return "".join(f"{round(c):02X}" for c in rgb)


def blend(a: Tuple[int, int, int], b: Tuple[int, int, int], t: float) -> Tuple[float, ...]:
    """The colour a fraction t (0..1) of the way from a to b."""
    return tuple(ca + (cb - ca) * t for ca, cb in zip(a, b))


def pixel_colour(pixel: int) -> str:
    """Grey level: 0 (paper) white, 255 (ink) black."""
    return PIXEL_COLOURS[pixel]


def weight_colour(w: float, largest: float) -> str:
    """Blue for negative, white for 0, red for positive; full colour at |w| = largest.

    Shades are rounded to WEIGHT_LEVELS steps per sign, so a picture uses
    at most 2 * WEIGHT_LEVELS + 1 fills.
    """
    level = 0 if largest == 0 else round(WEIGHT_LEVELS * w / largest)
    return WEIGHT_COLOURS[level + WEIGHT_LEVELS]


PIXEL_COLOURS = [hex_colour((255 - pixel,) * 3) for pixel in range(256)]
# level -WEIGHT_LEVELS .. WEIGHT_LEVELS, at index level + WEIGHT_LEVELS
WEIGHT_COLOURS = [hex_colour(blend(WHITE, BLUE, -level / WEIGHT_LEVELS) if level < 0
                             else blend(WHITE, RED, level / WEIGHT_LEVELS))
                  for level in range(-WEIGHT_LEVELS, WEIGHT_LEVELS + 1)]


# --- pictures -------------------------------------------------------------------------

_CENTRED = Alignment(horizontal="center")


def caption(sheet: Sheet, row: int, left: int, width: int, value: float, number_format: str,
            bold: bool = False, colour: Optional[str] = None) -> None:
    """A number across `width` merged cells, shown through its format ('"true "0' -> true 4)."""
    cell = sheet.ws.cell(row=row, column=left, value=value)
    cell.number_format = number_format
    cell.alignment = _CENTRED
    cell.font = font(bold=bold, colour=colour)
    sheet.ws.merge_cells(start_row=row, start_column=left, end_row=row,
                         end_column=left + width - 1)


Palette = Dict[str, str]     # fill colour -> the name of its NamedStyle in the workbook


def draw(sheet: Sheet, top: int, left: int, side: int, values: Sequence[float],
         colour: Callable[[float], str], palette: Palette) -> None:
    """values[side * r + c] in the cell at (top + r, left + c), filled with colour(value).

    Each colour is a named style (a fill and the number format that hides
    the number), registered once per workbook and kept in `palette`; a cell
    then takes it by name, openpyxl's public way to give many cells one
    look.  Setting cell.fill instead looks the fill up among all the
    workbook's fills, which for 36,000 picture cells takes many seconds.
    """
    wb = sheet.book.wb
    for r in range(side):
        for c in range(side):
            value = values[side * r + c]
            cell = sheet.ws.cell(row=top + r, column=left + c, value=value)
            fill = colour(value)
            if fill not in palette:
                palette[fill] = f"picture {fill}"
                wb.add_named_style(NamedStyle(name=palette[fill], fill=solid(fill),
                                              number_format=HIDDEN))
            cell.style = palette[fill]


def picture_grid(sheet: Sheet, count: int, side: int,
                 draw_one: Callable[[int, int, int], None]) -> None:
    """Lay out `count` pictures, PICTURES_PER_ROW to a row, from the sheet's next free row.

    draw_one(n, top, left) draws picture n with its captions starting at
    (top, left): CAPTION_ROWS rows of captions, then side rows of cells.
    A page break after every BANDS_PER_PAGE rows of pictures keeps a
    printed (or PDF) page from cutting a picture in two.
    """
    stride = side + 1                                  # one blank column between pictures
    height = CAPTION_ROWS + side + 1                   # one blank row under each band
    first = sheet.row
    for n in range(count):
        band, place = divmod(n, PICTURES_PER_ROW)
        top = first + band * height
        draw_one(n, top, 2 + place * stride)
        for r in range(top + CAPTION_ROWS, top + CAPTION_ROWS + side):
            sheet.ws.row_dimensions[r].height = PIXEL_HEIGHT
    bands = (count + PICTURES_PER_ROW - 1) // PICTURES_PER_ROW
    for band in range(BANDS_PER_PAGE, bands, BANDS_PER_PAGE):
        page_break(sheet, first + band * height - 1)
    for col in range(2, 2 + min(count, PICTURES_PER_ROW) * stride):
        sheet.set_width(col, PIXEL_WIDTH)
    sheet.row = first + bands * height


def page_break(sheet: Sheet, after_row: int) -> None:
    """Start a new printed page after this row."""
    sheet.ws.row_breaks.append(Break(id=after_row))


