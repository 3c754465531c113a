"""A workbook being written: sheets of labelled blocks, defined names, charts, saving.

``Book`` owns the openpyxl workbook, the defined names and the cached value
of every formula; ``Sheet`` writes one worksheet top to bottom (``row`` is
the next free row): labels, notes, links, blocks (cells.py), colour rules,
charts.  Everything here is independent of what the numbers mean: the
trace workbooks and the report are built on it.

Conventions, so that every workbook reads the same:

    one fill colour per kind of cell   cells.KINDS; a block's label carries
                                       its kind's stronger tint
    numbers                            plain decimals (cells.VALUE), scientific
                                       only for differences near zero
    matrices                           heatmap=True: blue-white-red, centred on 0
    notes                              each block's label has a note with its
                                       equation and its defined name
    panes                              rows 1-3 (title, links) and column A frozen
    navigation                         row 3: "<- previous" and "next ->" links,
                                       in reading order; A1 goes back to the start
"""

import io
import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import openpyxl
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, NamedStyle
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.page import PageMargins

from ..atomic import write_bytes_atomic
from . import AUTHOR
from .cells import (BOX, CENTRE, DEFAULT_WIDTH, FAIL_FILL, HEAT_HIGH, HEAT_LOW, HEAT_MID,
                    KINK_FILL, LINE_HEIGHT, LINK_BLUE, MIDDLE, PASS_FILL, TEXT, VALUE, Area, Block,
                    Entry, Formula, Kind, Ref, check_formula, check_name, font, number_width,
                    quote_sheet, solid, text_width)
from .save import FIXED_TIME, Cached, check_cached, needs_17_digits, reproducible_zip

if openpyxl.LXML:
    # openpyxl was imported before this package could choose its writer (see __init__).
    raise ImportError("openpyxl was imported before purenet.xlsx and chose lxml's XML writer, "
                      "whose bytes differ; import purenet.xlsx first (or set OPENPYXL_LXML=False)")

MAX_WIDTH = 40
FIRST_BLOCK_ROW = 5                       # rows 1-3: title, subtitle, links
CM_WIDTH, CM_ROWS = 4.05, 1.9             # one centimetre of a chart in width units and rows
PARAGRAPH_WIDTH = 90                      # prose lines of about 110 characters


class Sheet:
    """One worksheet, filled top to bottom; ``row`` is the next free row."""

    def __init__(self, book: "Book", ws) -> None:
        self.book = book
        self.ws = ws
        self.title: str = ws.title
        self.row = FIRST_BLOCK_ROW
        self._widths: Dict[int, float] = {}
        self._pinned: set = set()                            # columns whose width is forced
        self._reach: List[Tuple[int, int, float]] = []      # (row, col, width) of long texts
        self._paragraphs: List[Tuple[int, int, float, str]] = []  # (row, col, width, text)
        self._bottom = 0                                     # the lowest row a chart covers

    def ref(self, where) -> str:
        """A Ref or Area as a formula on this sheet writes it: D7, or Parameters!D7 elsewhere."""
        return where.on(self.title)

    # single cells

    def _widen(self, col: int, width: float) -> None:
        if col not in self._pinned:
            self._widths[col] = max(self._widths.get(col, 0.0), min(width, MAX_WIDTH))

    def put(self, row: int, col: int, entry: Entry, kind: Kind, fmt: str = VALUE,
            structural: bool = False, named_style: bool = False) -> Ref:
        """One number, word or formula with its kind's fill; returns its Ref.

        structural=True: a constant that is 0 or 1 by the shape of the
        equation (a Jacobian's zeros, an identity's ones): white, centred.
        named_style=True: a number takes its look as one named style
        (Book.named_style), the same look written many times faster.
        """
        cell = self.ws.cell(row=row, column=col)
        if isinstance(entry, Formula):
            check_formula(entry.text)
            cell.value = entry.text
            self.book._cache(self.title, cell.coordinate, entry.value, entry.tolerance)
            shown = entry.value
        else:
            if not isinstance(entry, str):
                check_cached(entry)            # refuses NaN and infinities
                if self.book.exact_numbers and needs_17_digits(entry):
                    self.book._exact[self.title][cell.coordinate] = float(entry)
            cell.value = entry
            shown = entry
        if named_style and not structural and not isinstance(shown, str):
            cell.style = self.book.named_style(kind, fmt)
            self._widen(col, number_width(shown, fmt))
            return Ref(self.title, row, col)
        cell.fill = solid("FFFFFF" if structural else kind.fill)
        cell.border = BOX
        cell.number_format = TEXT if isinstance(shown, str) else fmt
        cell.alignment = CENTRE if structural or isinstance(shown, str) else MIDDLE
        self._widen(col, len(shown) + 2 if isinstance(shown, str) else number_width(shown, fmt))
        return Ref(self.title, row, col)

    def text(self, row: int, col: int, text: str, *, bold: bool = False, italic: bool = False,
             size: Optional[float] = None, fill: Optional[str] = None, fits: bool = True,
             centre: bool = False, colour: Optional[str] = None) -> Ref:
        """A label.  fits=False: long text that may run over the cells to its right."""
        if text.startswith("="):
            raise ValueError(f"a label cannot start with '=' (it would be a formula): {text!r}")
        cell = self.ws.cell(row=row, column=col, value=text)
        cell.font = font(bold, italic, size, colour)
        if fill:
            cell.fill = solid(fill)
            cell.border = BOX
        cell.alignment = CENTRE if centre else MIDDLE
        if fits:
            self._widen(col, text_width(text, bold, size) + 2)
        else:
            self._reach.append((row, col, text_width(text, bold, size) + 2))
        return Ref(self.title, row, col)

    def paragraph(self, text: str, col: int = 2, width: float = PARAGRAPH_WIDTH,
                  italic: bool = False) -> Ref:
        """Prose at the next free row, wrapped in cells merged across about `width` units
        (the columns and the row's height are settled by finish, once widths are known)."""
        row = self.row
        cell = self.ws.cell(row=row, column=col, value=text)
        cell.font = font(italic=italic)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        self._paragraphs.append((row, col, width, text))
        self.row += 1
        return Ref(self.title, row, col)

    def note(self, ref: Ref, text: str) -> None:
        """A note (comment) on a cell, sized to its text."""
        lines = sum(max(1, math.ceil(len(line) / 60)) for line in text.split("\n"))
        self.ws[ref.a1].comment = Comment(text, AUTHOR, height=18 * lines + 16, width=380)

    def link(self, row: int, col: int, text: str, target: str, cell: str = "A1",
             fits: bool = True) -> Ref:
        """A hyperlink inside the workbook, to `cell` of sheet `target`."""
        c = self.ws.cell(row=row, column=col, value=text)
        c.hyperlink = Hyperlink(ref=c.coordinate, location=f"{quote_sheet(target)}!{cell}",
                                display=text)
        c.font = font(colour=LINK_BLUE, underline="single")
        if fits:
            self._widen(col, text_width(text) + 2)
        else:
            self._reach.append((row, col, text_width(text) + 1))
        return Ref(self.title, row, col)

    # the page

    def header(self, title: str, subtitle: str, home: Optional[str] = None) -> None:
        """Rows 1-2: title and subtitle; A1 links back to `home`; panes frozen below row 3."""
        self.text(1, 2, title, bold=True, size=14, fits=False)
        self.text(2, 2, subtitle, italic=True, fits=False)
        self.fit_to_page()
        if home is not None:
            self.link(1, 1, f"<- {home}", home)
            self.ws.freeze_panes = "B4"

    def navigation(self, previous: Optional[str], following: Optional[str]) -> None:
        """Row 3: links to the sheets before and after this one in reading order."""
        if previous is not None:
            self.link(3, 2, f"<- {previous}", previous, fits=False)
        if following is not None:
            self.link(3, 5, f"Next: {following} ->", following, fits=False)

    def heading(self, text: str, col: int = 2) -> None:
        """A section heading at the next free row (column B: column A is a frozen pane)."""
        self.text(self.row, col, text, bold=True, size=12, fits=False)
        self.row += 2

    def line(self, text: str, col: int = 2, bold: bool = False) -> None:
        self.text(self.row, col, text, bold=bold, fits=False)
        self.row += 1

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    # blocks

    def block(self, label: str, title: str, note: str, kind: Kind,
              row_labels: Sequence[str], col_labels: Sequence[str],
              entry: Callable[[int, int], Entry], *, name: Optional[str] = None,
              local: bool = False, corner: str = "", heatmap: bool = False,
              fmt: Union[str, Sequence[str]] = VALUE, origin: Optional[Tuple[int, int]] = None,
              structural: Callable[[int, int], bool] = lambda i, j: False,
              named_style: bool = False) -> Block:
        """Write a labelled block of len(row_labels) x len(col_labels) entries.

        entry(i, j) gives entry (i, j) (0-based): a number, a word or a
        Formula; `fmt` is one number format, or one per column.  `name` defines a name for the entries (scoped to this
        sheet if local=True); the label's note gives the title, `note`
        and the name.  heatmap=True colours the entries blue (-M) - white
        (0) - red (+M), M the largest |entry| Python computed.  The block
        starts at the next free row in column A, or at origin=(row, col).
        named_style=True styles each number by name (see ``put``): for
        blocks of hundreds of thousands of entries, such as a trained W1.
        """
        top, label_col = origin if origin is not None else (self.row, 1)
        rows, cols = len(row_labels), len(col_labels)
        block = Block(label, self.title, top + 2, label_col + 1, tuple(row_labels),
                      tuple(col_labels), name, local, title)
        label_ref = self.text(top, label_col, label, bold=True, fill=kind.tint)
        said = f"{title}\n\n{note}"
        if name is not None:
            self.book.define(name, block.area(), self if local else None)
            said += f"\n\nDefined name: {name}" + (" (on this sheet)" if local else "")
        self.note(label_ref, said)
        self.text(top, label_col + 1, title, italic=True, fits=False)
        self.text(top + 1, label_col, corner, fill=kind.tint, italic=True)
        for j, col_label in enumerate(col_labels):
            self.text(top + 1, label_col + 1 + j, col_label, bold=True, fill=kind.tint,
                      centre=True)
        largest = 0.0
        for i, row_label in enumerate(row_labels):
            self.text(top + 2 + i, label_col, row_label, bold=True, fill=kind.tint)
            for j in range(cols):
                value = entry(i, j)
                self.put(top + 2 + i, label_col + 1 + j, value, kind,
                         fmt if isinstance(fmt, str) else fmt[j], structural(i, j), named_style)
                shown = value.value if isinstance(value, Formula) else value
                if not isinstance(shown, str):
                    largest = max(largest, abs(shown))
        if heatmap and largest > 0.0:
            self.heatmap(block.area(), largest)
        self.row = max(self.row, top + 2 + rows + 1)
        return block

    def heatmap(self, area: Area, largest: float) -> None:
        """Blue (-largest) - white (0) - red (+largest): 0 is white and a sign is a colour."""
        self.ws.conditional_formatting.add(area.a1, ColorScaleRule(
            start_type="num", start_value=-largest, start_color=HEAT_LOW,
            mid_type="num", mid_value=0, mid_color=HEAT_MID,
            end_type="num", end_value=largest, end_color=HEAT_HIGH))

    def grey_scale(self, area, lo: float, hi: float,
                   white_text_above: Optional[float] = None) -> None:
        """White (lo) to black (hi) over an Area or "A1 B2 ..." cells: a live picture; with
        white_text_above, the numbers of dark cells are written in white."""
        where = area if isinstance(area, str) else area.a1
        self.ws.conditional_formatting.add(where, ColorScaleRule(
            start_type="num", start_value=lo, start_color="FFFFFF",
            end_type="num", end_value=hi, end_color="000000"))
        if white_text_above is not None:
            self.ws.conditional_formatting.add(where, CellIsRule(
                operator="greaterThan", formula=[repr(white_text_above)],
                font=font(colour="FFFFFF")))

    def verdict_colours(self, area: Area) -> None:
        """PASS green, FAIL red, KINK amber: recoloured whenever the cells recompute."""
        for word, colour in (("PASS", PASS_FILL), ("FAIL", FAIL_FILL), ("KINK", KINK_FILL)):
            self.ws.conditional_formatting.add(area.a1, CellIsRule(
                operator="equal", formula=[f'"{word}"'], fill=solid(colour),
                font=font(bold=True)))

    def square_cells(self, first_row: int, rows: int, first_col: int, cols: int,
                     width: float = 2.7, height: float = 16.0) -> None:
        """Make a rectangle of cells square (about 20 x 20 pixels by default)."""
        for r in range(first_row, first_row + rows):
            self.ws.row_dimensions[r].height = height
        for c in range(first_col, first_col + cols):
            self.set_width(c, width)

    # charts: one helper for every chart in purenet

    def chart(self, anchor: str, title: str, x_title: str, y_title: str, categories: Area,
              series: Sequence[Tuple[Area, str]], bar: bool = False,
              y_format: Optional[str] = None, y_max: Optional[float] = None,
              size: Tuple[float, float] = (16, 8)) -> None:
        """A line (or bar) chart of one or more ranges against `categories`, axes titled."""
        chart = BarChart() if bar else LineChart()
        chart.title = title
        chart.x_axis.title = x_title
        chart.y_axis.title = y_title
        # openpyxl 3.1 leaves the axes' "delete" unset, which newer Excel reads as hidden.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.y_axis.number_format = y_format or "General"
        if y_max is not None:
            chart.y_axis.scaling.max = y_max
        if bar:
            chart.y_axis.scaling.min = 0
        for values, label in series:
            chart.add_data(Reference(self.ws, min_col=values.left, min_row=values.top,
                                     max_col=values.right, max_row=values.bottom),
                           from_rows=values.top == values.bottom and values.left != values.right)
            chart.series[-1].tx = SeriesLabel(v=label)
            if not bar:
                chart.series[-1].smooth = False   # straight segments: the values, not a fit
        chart.set_categories(Reference(self.ws, min_col=categories.left, min_row=categories.top,
                                       max_col=categories.right, max_row=categories.bottom))
        if len(series) == 1:
            chart.legend = None
        else:
            chart.legend.position = "b"
        chart.width, chart.height = size
        self.ws.add_chart(chart, anchor)
        col, row = coordinate_from_string(anchor)
        self._reach.append((row, column_index_from_string(col), size[0] * CM_WIDTH))
        self._bottom = max(self._bottom, row + math.ceil(size[1] * CM_ROWS))

    # widths and printing

    def fit_to_page(self, wide: int = 1, tall: int = 0, landscape: bool = True) -> None:
        """Print (and export to PDF) `wide` pages across and `tall` down (0: as many as needed)."""
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth = wide
        self.ws.page_setup.fitToHeight = tall
        self.ws.page_setup.orientation = "landscape" if landscape else "portrait"
        self.ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)

    def set_width(self, col: int, width: float) -> None:
        """Force a column's width (e.g. narrow columns for a picture): later cells do not
        widen it."""
        self._widths[col] = width
        self._pinned.add(col)

    def width(self, col: int) -> float:
        return self._widths.get(col, DEFAULT_WIDTH)

    def finish(self) -> None:
        """Column widths, paragraph heights, and the sheet's extent (see ``mark_extent``)."""
        for col, width in sorted(self._widths.items()):
            self.ws.column_dimensions[get_column_letter(col)].width = width
        for row, col, width, text in self._paragraphs:
            end, room = col, self.width(col)
            while room < width:
                end += 1
                room += self.width(end)
            self.ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=end)
            room -= 2
            # words do not fill a line to the last character: count 90% of the room
            lines = sum(max(1, math.ceil(text_width(line) / (0.9 * room)))
                        for line in text.split("\n"))
            self.ws.row_dimensions[row].height = LINE_HEIGHT * lines
        self.mark_extent()

    def mark_extent(self) -> None:
        """Make the sheet's used area cover the text that runs past its last cell, and charts.

        A viewer that prints a sheet as one page (LibreOffice's whole-sheet
        PDF export, the gallery) cuts it at the last cell that holds
        something; a title longer than its cell would be cut off.  So a
        cell holding one space marks the bottom-right corner they reach.
        """
        right = self.ws.max_column
        for row, col, width in self._reach:
            end, left = col, width - self.width(col)
            while left > 0:
                end += 1
                left -= self.width(end)
            right = max(right, end)
        bottom = max(self.ws.max_row, self._bottom)
        if (bottom, right) != (self.ws.max_row, self.ws.max_column):
            self.ws.cell(row=bottom, column=right, value=" ")


class Book:
    """A workbook being written: its sheets, defined names and the cached value of every formula.

    exact_numbers=True: every number cell reads back as exactly the double
    written (save.exact_values), not openpyxl's 16 digits of it.
    """

    def __init__(self, title: str, exact_numbers: bool = False) -> None:
        self.wb = openpyxl.Workbook()
        self.wb.remove(self.wb.active)
        self.title = title
        self.exact_numbers = exact_numbers
        self._exact: Dict[str, Dict[str, float]] = {}
        self.sheets: List[Sheet] = []
        self._cached: Dict[str, Dict[str, Cached]] = {}
        self._tolerance: Dict[Tuple[str, str], float] = {}
        self.names: Dict[Tuple[Optional[str], str], Area] = {}   # (sheet or None, name) -> area
        self._styles: Dict[Tuple[str, str], str] = {}              # (kind, format) -> style name

    def sheet(self, title: str) -> Sheet:
        if title in self._cached:
            raise ValueError(f"there is already a sheet called {title!r}")
        sheet = Sheet(self, self.wb.create_sheet(title))
        self._cached[title] = {}
        self.sheets.append(sheet)
        self._exact[title] = {}
        return sheet

    def define(self, name: str, area: Area, sheet: Optional[Sheet] = None) -> None:
        """A defined name for `area`: for the whole book, or only on `sheet`."""
        check_name(name)
        key = (sheet.title if sheet is not None else None, name)
        if key in self.names:
            raise ValueError(f"the name {name} is defined twice" +
                             (f" on sheet {sheet.title!r}" if sheet else ""))
        self.names[key] = area
        defined = DefinedName(name, attr_text=f"{quote_sheet(area.sheet)}!{area.absolute}")
        if sheet is None:
            self.wb.defined_names[name] = defined
        else:
            sheet.ws.defined_names[name] = defined

    def named_style(self, kind: Kind, fmt: str) -> str:
        """The name of the style of a `kind` number in format `fmt`, registered on first use.

        Setting a cell's fill, border, format and alignment one by one makes
        openpyxl look each up among all the workbook's styles: a minute for
        the 401,408 weights of a trained W1.  A cell takes a named style in
        one step, and a viewer sees the same cell (the style's name aside).
        """
        key = (kind.name, fmt)
        if key not in self._styles:
            self._styles[key] = f"purenet {kind.name}" + ("" if fmt == VALUE else f" {fmt}")
            self.wb.add_named_style(NamedStyle(name=self._styles[key], font=font(),
                                               fill=solid(kind.fill), border=BOX,
                                               number_format=fmt, alignment=MIDDLE))
        return self._styles[key]

    def _cache(self, sheet_title: str, coordinate: str, value: Cached,
               tolerance: Optional[float]) -> None:
        self._cached[sheet_title][coordinate] = check_cached(value)
        if tolerance is not None:
            self._tolerance[(sheet_title, coordinate)] = tolerance

    @property
    def formula_count(self) -> int:
        return sum(len(cells) for cells in self._cached.values())

    def cached_values(self) -> Dict[Tuple[str, str], Cached]:
        """(sheet, cell) -> the value Python computed, for every formula cell."""
        return {(sheet, coord): value for sheet, cells in self._cached.items()
                for coord, value in cells.items()}

    def tolerances(self) -> Dict[Tuple[str, str], float]:
        """(sheet, cell) -> absolute tolerance, for the central differences (cells.Formula)."""
        return dict(self._tolerance)

    def to_bytes(self) -> bytes:
        """The .xlsx file: cached values in, dates pinned, the same bytes every time."""
        for sheet in self.sheets:
            sheet.finish()
        props = self.wb.properties
        props.creator = AUTHOR
        props.title = self.title
        props.created = FIXED_TIME
        raw = io.BytesIO()
        self.wb.save(raw)     # assigns each worksheet its path inside the zip
        by_path = {ws.path.lstrip("/"): self._cached[ws.title] for ws in self.wb.worksheets}
        exact = {ws.path.lstrip("/"): self._exact[ws.title] for ws in self.wb.worksheets}
        return reproducible_zip(raw.getvalue(), by_path, exact)

    def save(self, path: str) -> None:
        """Write the file whole or not at all: a failure leaves an older file intact."""
        write_bytes_atomic(path, self.to_bytes())
