"""The conventions every purenet workbook shares, on top of openpyxl.

A sheet is a column of *blocks*.  A block is one named quantity - a vector,
a matrix, a scalar - laid out as

    row r     | name           | title: its equation, shape, what an entry means
    row r+1   | corner         | column label 1 | column label 2 | ...
    row r+2   | row label 1    | entry (1, 1)   | entry (1, 2)   | ...
    ...       | ...            | ...            | ...            | ...

and ``Sheet.block`` returns a ``Block`` that knows where every entry landed,
so the next block's formulas can refer to them: ``W1.at(i, j)`` is the cell
of W1[i][j] (0-based, like the Python lists), ``W1.row(i)`` the range of
row i.  A ``Ref`` or ``Area`` prints itself relative to the sheet that
mentions it, ``sheet.ref(W1.at(0, 2))`` -> ``D7`` on W1's own sheet and
``Parameters!D7`` elsewhere.

Every entry is a constant (an input, a starting weight, a value Python
computed for comparison) or a ``Formula``: the text that computes the entry
from other cells, and the value Python computed for the same quantity.
openpyxl saves formulas without a result, so ``Book.to_bytes`` writes each
Python value into the saved sheet XML as the formula's cached result: a
viewer that never recalculates (a preview, Protected View, openpyxl's
``data_only=True``) shows the numbers, and a spreadsheet that does
recalculate can be checked against them (``tests/xlsx_recalc.py`` does,
with LibreOffice).

Formulas use only what Excel 2010+ and LibreOffice both evaluate the same
way without array entry (``ALLOWED_FUNCTIONS``): + - * /, SUM, MAX, EXP,
LN, IF, and SUMPRODUCT of two ranges of the same shape and orientation.
A scalar function of a range (``SUM(EXP(A1:A3))``) is never written: it
means different things in the two programs.  No defined names either:
``W1`` and ``b1`` are cell addresses to a spreadsheet.

Conventions, so that every workbook reads the same:

    one fill colour per kind of cell   ``KINDS``: input, parameter,
                                       intermediate, Jacobian, gradient,
                                       update, check; a block's name and
                                       labels carry its kind's stronger tint
    numbers                            6 significant digits (``0.00000E+00``),
                                       0 as 0, whole numbers as whole numbers
    matrices                           a blue-white-red colour scale centred
                                       on 0 (it replaces the fill colour)
    notes                              each block's name cell has a note
                                       with its equation
    panes                              rows 1-3 (sheet title, back link) and
                                       column A (labels) frozen
    widths                             each column as wide as its widest
                                       label or number

Saving is byte-reproducible: ``Book.to_bytes`` pins the dates in
docProps/core.xml to ``FIXED_TIME``, and rewrites the zip with every entry
dated ``ZIP_TIME`` and compressed the same way, so the same cells give the
same bytes on every run and every Python 3.9-3.13 (whether the numbers in
them are the same is up to the code that computed them).  That holds for
the pinned ``OPENPYXL_VERSION`` with openpyxl's standard-library XML writer
(lxml serialises differently, so the package's ``__init__`` turns it off
before openpyxl is imported).

A workbook that needs other kinds of cell than ``KINDS`` makes its own
``Kind``; everything else here is independent of what the numbers mean.
"""

import datetime
import io
import math
import re
import zipfile
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..atomic import write_bytes_atomic
from . import AUTHOR

import openpyxl
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.comments import Comment
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.page import PageMargins

if openpyxl.LXML:
    # openpyxl was imported before this package could choose its writer (see __init__).
    raise ImportError("openpyxl was imported before purenet.xlsx and chose lxml's XML writer, "
                      "whose bytes differ; import purenet.xlsx first (or set OPENPYXL_LXML=False)")

FIXED_TIME = datetime.datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)          # the earliest date a zip entry can carry
ZIP_LEVEL = 6                             # zlib's default level, fixed explicitly

ALLOWED_FUNCTIONS = frozenset({"SUM", "SUMPRODUCT", "MAX", "EXP", "LN", "IF"})

# 6 significant digits whatever the size; an exact 0 (or -0, which a product
# like -0.3 * 0 gives) shows as a plain 0.
REAL_FORMAT = "0.00000E+00;-0.00000E+00;0"
INTEGER_FORMAT = "0"
REAL_WIDTH = 13                           # "-1.23457E-01" and a margin
MAX_WIDTH = 40
FIRST_BLOCK_ROW = 5                       # rows 1-3: title, subtitle, back link


# --- kinds of cell -------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """What a cell holds, shown by its colour.

    ``fill`` colours the entries, ``tint`` (stronger) the block's name and
    labels.  ``derived`` kinds are computed from other cells, so a constant
    in such a block is structural (a Jacobian's zeros) and is greyed out.
    """
    name: str
    fill: str
    tint: str
    meaning: str
    derived: bool


INPUT = Kind("input", "FFF2CC", "FFD966",
             "the data: an example's x and y (type over them to try another)", False)
PARAMETER = Kind("parameter", "DDEBF7", "9BC2E6",
                 "W1, b1, W2, b2 and the learning rate lr (edit them too)", False)
INTERMEDIATE = Kind("intermediate", "E2EFDA", "A9D08E",
                    "the forward pass: z1, h, z2, the softmax helpers, p, L", True)
JACOBIAN = Kind("Jacobian", "EADFF2", "C9B3E3",
                "a Jacobian dA/dB or a product of Jacobians (long form)", True)
GRADIENT = Kind("gradient", "FCE4D6", "F4B084",
                "backpropagation: dL/d(something), written d(something)", True)
UPDATE = Kind("update", "D5F0EC", "8CD3C7",
              "new parameters: old value - lr * gradient", True)
CHECK = Kind("check", "EDEDED", "C9C9C9",
             "values computed in Python to compare with, and the comparisons", False)
KINDS = (INPUT, PARAMETER, INTERMEDIATE, JACOBIAN, GRADIENT, UPDATE, CHECK)

HEAT_LOW, HEAT_MID, HEAT_HIGH = "5A8AC6", "FFFFFF", "F8696B"   # negative, 0, positive
GREY_TEXT = "A6A6A6"
LINK_BLUE = "0563C1"

_THIN = Side(style="thin", color="BFBFBF")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center")


def _fill(colour: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


# --- addresses -----------------------------------------------------------------------

_PLAIN_SHEET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOKS_LIKE_A_CELL = re.compile(r"[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*")


def quote_sheet(title: str) -> str:
    """The sheet name as a formula writes it: 'Short form', but Forward."""
    if _PLAIN_SHEET_NAME.fullmatch(title) and not _LOOKS_LIKE_A_CELL.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Ref:
    """One cell: its sheet, row and column (1-based, as the spreadsheet counts)."""
    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        return f"{get_column_letter(self.col)}{self.row}"

    def on(self, here: str) -> str:
        """How a formula on sheet `here` refers to this cell."""
        return self.a1 if here == self.sheet else f"{quote_sheet(self.sheet)}!{self.a1}"


@dataclass(frozen=True)
class Area:
    """A rectangle of cells, top-left to bottom-right inclusive."""
    sheet: str
    top: int
    left: int
    bottom: int
    right: int

    @property
    def a1(self) -> str:
        first = f"{get_column_letter(self.left)}{self.top}"
        last = f"{get_column_letter(self.right)}{self.bottom}"
        return first if first == last else f"{first}:{last}"

    def on(self, here: str) -> str:
        return self.a1 if here == self.sheet else f"{quote_sheet(self.sheet)}!{self.a1}"


@dataclass(frozen=True)
class Block:
    """Where a block's entries are: entry (i, j) at row top + i, column left + j."""
    name: str
    sheet: str
    top: int
    left: int
    row_labels: Tuple[str, ...]
    col_labels: Tuple[str, ...]

    @property
    def rows(self) -> int:
        return len(self.row_labels)

    @property
    def cols(self) -> int:
        return len(self.col_labels)

    def at(self, i: int, j: int = 0) -> Ref:
        if not (0 <= i < self.rows and 0 <= j < self.cols):
            raise IndexError(f"{self.name}: entry ({i}, {j}) is outside {self.rows} x {self.cols}")
        return Ref(self.sheet, self.top + i, self.left + j)

    def row(self, i: int) -> Area:
        self.at(i, 0)
        return Area(self.sheet, self.top + i, self.left, self.top + i, self.left + self.cols - 1)

    def column(self, j: int) -> Area:
        self.at(0, j)
        return Area(self.sheet, self.top, self.left + j, self.top + self.rows - 1, self.left + j)

    def area(self) -> Area:
        return Area(self.sheet, self.top, self.left,
                    self.top + self.rows - 1, self.left + self.cols - 1)


# --- entries -------------------------------------------------------------------------

@dataclass(frozen=True)
class Formula:
    """A formula (text starting with "=") and the value Python computed for it."""
    text: str
    value: float


Entry = Union[float, int, Formula]


def functions_used(formula: str) -> List[str]:
    """The function names a formula calls, e.g. ["SUMPRODUCT", "MAX"]."""
    return re.findall(r"([A-Z][A-Z0-9.]*)\(", formula)


def _check_formula(text: str) -> None:
    if not text.startswith("="):
        raise ValueError(f"a formula starts with '=': {text!r}")
    bad = sorted(set(functions_used(text)) - ALLOWED_FUNCTIONS)
    if bad:
        raise ValueError(f"{text!r} calls {', '.join(bad)}, outside {sorted(ALLOWED_FUNCTIONS)}")


def _number_text(value: float) -> str:
    """The shortest text that reads back as exactly this double (repr)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"a cached value must be finite, not {value}")
    return repr(value)


# --- sheets --------------------------------------------------------------------------

class Sheet:
    """One worksheet, filled top to bottom; ``row`` is the next free row."""

    def __init__(self, book: "Book", ws) -> None:
        self.book = book
        self.ws = ws
        self.title: str = ws.title
        self.row = FIRST_BLOCK_ROW
        self._widths: Dict[int, float] = {}

    # references and single cells

    def ref(self, where: Union[Ref, Area]) -> str:
        """`where` as a formula on this sheet writes it."""
        return where.on(self.title)

    def _widen(self, col: int, width: float) -> None:
        self._widths[col] = max(self._widths.get(col, 0.0), min(width, MAX_WIDTH))

    def put(self, row: int, col: int, entry: Entry, kind: Kind, *,
            integer: bool = False, quiet: bool = False) -> Ref:
        """Write one number or formula with its kind's fill; returns its Ref."""
        cell = self.ws.cell(row=row, column=col)
        if isinstance(entry, Formula):
            _check_formula(entry.text)
            cell.value = entry.text
            self.book._cache(self.title, cell.coordinate, entry.value)
            shown = entry.value
        else:
            _number_text(entry)   # refuses NaN and infinities
            cell.value = entry
            shown = entry
        cell.fill = _fill(kind.fill)
        cell.border = _BOX
        cell.number_format = INTEGER_FORMAT if integer else REAL_FORMAT
        if quiet:
            cell.font = Font(color=GREY_TEXT)
        self._widen(col, len(str(int(shown))) + 2 if integer else REAL_WIDTH)
        return Ref(self.title, row, col)

    def text(self, row: int, col: int, text: str, *, bold: bool = False,
             italic: bool = False, size: Optional[float] = None,
             fill: Optional[str] = None, fits: bool = True, centre: bool = False) -> Ref:
        """Write a label.  fits=False: long text that may run over the cells to its right."""
        cell = self.ws.cell(row=row, column=col, value=text)
        if bold or italic or size:
            cell.font = Font(bold=bold, italic=italic, size=size)
        if fill:
            cell.fill = _fill(fill)
            cell.border = _BOX
        if centre:
            cell.alignment = _CENTRE
        if fits:
            self._widen(col, len(text) + 2)
        return Ref(self.title, row, col)

    def note(self, ref: Ref, text: str) -> None:
        """Attach a note (a comment) to a cell, sized to its text."""
        lines = sum(max(1, math.ceil(len(line) / 60)) for line in text.split("\n"))
        self.ws[ref.a1].comment = Comment(text, AUTHOR, height=18 * lines + 16, width=380)

    def link(self, row: int, col: int, text: str, target: str, cell: str = "A1") -> Ref:
        """A hyperlink inside the workbook, to `cell` of sheet `target`."""
        c = self.ws.cell(row=row, column=col, value=text)
        c.hyperlink = Hyperlink(ref=c.coordinate, location=f"{quote_sheet(target)}!{cell}",
                                display=text)
        c.font = Font(color=LINK_BLUE, underline="single")
        self._widen(col, len(text) + 2)
        return Ref(self.title, row, col)

    # the page

    def header(self, title: str, subtitle: str, back_to: Optional[str] = None) -> None:
        """Rows 1-3: title, subtitle, a link back to the first sheet; freeze them and column A."""
        self.text(1, 2, title, bold=True, size=14, fits=False)
        self.text(2, 2, subtitle, italic=True, fits=False)
        self.fit_to_page()
        if back_to is not None:
            self.link(1, 1, f"<- {back_to}", back_to)
            self.ws.freeze_panes = "B4"

    def heading(self, text: str, col: int = 2) -> None:
        """A section heading at the next free row.

        It goes in column B by default: text running over from the frozen
        column A would be cut at the pane's edge.
        """
        self.text(self.row, col, text, bold=True, size=12, fits=False)
        self.row += 2

    def line(self, text: str, col: int = 2, bold: bool = False) -> None:
        """A line of prose at the next free row."""
        self.text(self.row, col, text, bold=bold, fits=False)
        self.row += 1

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    # blocks

    def block(self, name: str, title: str, note: str, kind: Kind,
              row_labels: Sequence[str], col_labels: Sequence[str],
              entry: Callable[[int, int], Entry], *, corner: str = "",
              heatmap: bool = False, integer: bool = False,
              scale: Optional[Tuple[float, float]] = None,
              origin: Optional[Tuple[int, int]] = None) -> Block:
        """Write a labelled block of len(row_labels) x len(col_labels) entries.

        entry(i, j) gives entry (i, j): a number, or a Formula.  The name
        cell gets a note: the title (its equation) and then `note`.  heatmap=True colours the
        entries blue (-M) - white (0) - red (+M), M the largest |entry| as
        Python computed it; scale=(lo, hi)
        instead shades them white (lo) to black (hi), for a picture.  The
        block starts at the next free row in column A, or at
        origin=(row, col) for a block placed beside another.
        """
        top, label_col = origin if origin is not None else (self.row, 1)
        rows, cols = len(row_labels), len(col_labels)
        name_ref = self.text(top, label_col, name, bold=True, fill=kind.tint)
        self.note(name_ref, f"{title}\n\n{note}")
        self.text(top, label_col + 1, title, italic=True, fits=False)
        self.text(top + 1, label_col, corner, fill=kind.tint, italic=True)
        for j, label in enumerate(col_labels):
            self.text(top + 1, label_col + 1 + j, label, bold=True, fill=kind.tint, centre=True)
        largest = 0.0
        for i, label in enumerate(row_labels):
            self.text(top + 2 + i, label_col, label, bold=True, fill=kind.tint)
            for j in range(cols):
                value = entry(i, j)
                quiet = kind.derived and not isinstance(value, Formula)
                self.put(top + 2 + i, label_col + 1 + j, value, kind,
                         integer=integer, quiet=quiet)
                largest = max(largest, abs(value.value if isinstance(value, Formula) else value))
        block = Block(name, self.title, top + 2, label_col + 1,
                      tuple(row_labels), tuple(col_labels))
        if heatmap and largest > 0.0:
            # Symmetric about 0, so that 0 is white and a sign is a colour.
            self.ws.conditional_formatting.add(block.area().a1, ColorScaleRule(
                start_type="num", start_value=-largest, start_color=HEAT_LOW,
                mid_type="num", mid_value=0, mid_color=HEAT_MID,
                end_type="num", end_value=largest, end_color=HEAT_HIGH))
        if scale is not None:
            lo, hi = scale
            self.ws.conditional_formatting.add(block.area().a1, ColorScaleRule(
                start_type="num", start_value=lo, start_color="FFFFFF",
                end_type="num", end_value=hi, end_color="000000"))
            for i in range(rows):
                for j in range(cols):
                    self.ws[block.at(i, j).a1].font = Font(color="808080", size=8)
        self.row = max(self.row, top + 2 + rows + 1)
        return block

    def line_chart(self, anchor: str, title: str, x_title: str, y_title: str,
                   categories: Area, values: Area, series_title: str) -> None:
        """A line chart of one column of values against one column of categories."""
        chart = LineChart()
        chart.title = title
        chart.x_axis.title = x_title
        chart.y_axis.title = y_title
        # openpyxl 3.1 leaves the axes' "delete" unset, which newer Excel reads as hidden.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.legend = None
        chart.y_axis.number_format = "General"
        chart.add_data(Reference(self.ws, min_col=values.left, min_row=values.top,
                                 max_col=values.right, max_row=values.bottom))
        chart.series[0].tx = SeriesLabel(v=series_title)
        chart.series[0].smooth = False      # straight segments: the values, not a curve fit
        chart.set_categories(Reference(self.ws, min_col=categories.left, min_row=categories.top,
                                       max_col=categories.right, max_row=categories.bottom))
        chart.width, chart.height = 18, 9
        self.ws.add_chart(chart, anchor)

    def fit_to_page(self, wide: int = 1, tall: int = 0, landscape: bool = True) -> None:
        """Print (and export to PDF) `wide` pages across and `tall` down (0: as many as needed)."""
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth = wide
        self.ws.page_setup.fitToHeight = tall
        self.ws.page_setup.orientation = "landscape" if landscape else "portrait"
        self.ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)

    def finish(self) -> None:
        """Set the column widths measured while writing."""
        for col, width in sorted(self._widths.items()):
            self.ws.column_dimensions[get_column_letter(col)].width = width

    def set_width(self, col: int, width: float) -> None:
        """Force a column's width (e.g. narrow columns for a picture)."""
        self._widths[col] = width


# --- the workbook --------------------------------------------------------------------

class Book:
    """A workbook being written: its sheets, and the cached value of every formula."""

    def __init__(self, title: str) -> None:
        self.wb = openpyxl.Workbook()
        self.wb.remove(self.wb.active)
        self.title = title
        self.sheets: List[Sheet] = []
        self._cached: Dict[str, Dict[str, float]] = {}

    def sheet(self, title: str) -> Sheet:
        if title in self._cached:
            raise ValueError(f"there is already a sheet called {title!r}")
        sheet = Sheet(self, self.wb.create_sheet(title))
        self._cached[title] = {}
        self.sheets.append(sheet)
        return sheet

    def _cache(self, sheet_title: str, coordinate: str, value: float) -> None:
        _number_text(value)
        self._cached[sheet_title][coordinate] = float(value)

    @property
    def formula_count(self) -> int:
        return sum(len(cells) for cells in self._cached.values())

    def cached_values(self) -> Dict[Tuple[str, str], float]:
        """(sheet, cell) -> the value Python computed, for every formula cell."""
        return {(sheet, coord): value for sheet, cells in self._cached.items()
                for coord, value in cells.items()}

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
        return reproducible_zip(raw.getvalue(), by_path)

    def save(self, path: str) -> None:
        """Write the file whole or not at all: a failure leaves an older file intact."""
        write_bytes_atomic(path, self.to_bytes())


# --- the saved file ------------------------------------------------------------------

# openpyxl's standard-library writer saves a formula cell as
#   <c r="B7" s="3"><f>SUM(B2:B6)</f><v /></c>
# (the formula text is XML-escaped, so it holds no "<").
_FORMULA_CELL = re.compile(rb'(<c r="([A-Z]+[0-9]+)"[^>]*><f>[^<]*</f>)<v />')
_CORE_DATE = re.compile(rb"(<dcterms:(created|modified) [^>]*>)[^<]*(</dcterms:\2>)")


def inject_cached_values(sheet_xml: bytes, values: Dict[str, float]) -> bytes:
    """Fill each formula cell's empty <v /> with its value; every formula must have one."""
    filled = set()

    def fill(match: "re.Match[bytes]") -> bytes:
        coordinate = match.group(2).decode("ascii")
        if coordinate not in values:
            raise ValueError(f"formula cell {coordinate} has no cached value")
        filled.add(coordinate)
        return match.group(1) + b"<v>" + _number_text(values[coordinate]).encode("ascii") + b"</v>"

    out = _FORMULA_CELL.sub(fill, sheet_xml)
    missing = sorted(set(values) - filled)
    if missing:
        raise ValueError(f"cached values for cells that hold no formula: {', '.join(missing[:5])}")
    return out


def pin_core_dates(core_xml: bytes) -> bytes:
    """Set dcterms:created and dcterms:modified (openpyxl writes 'now') to FIXED_TIME."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    return _CORE_DATE.sub(lambda m: m.group(1) + stamp + m.group(3), core_xml)


def reproducible_zip(xlsx: bytes, cached: Dict[str, Dict[str, float]]) -> bytes:
    """Rewrite an .xlsx: cached values injected, dates pinned, fixed zip metadata.

    `cached` maps a worksheet's path in the zip (xl/worksheets/sheet1.xml)
    to {cell: value} for its formula cells.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in cached:
                data = inject_cached_values(data, cached[info.filename])
            elif info.filename == "docProps/core.xml":
                data = pin_core_dates(data)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3               # Unix, whichever system writes it
            entry.external_attr = 0o644 << 16     # rw-r--r--
            zout.writestr(entry, data, compresslevel=ZIP_LEVEL)
    return out.getvalue()


# --- a first sheet -------------------------------------------------------------------

LEGEND_EXTRAS = (
    ("heatmap", "matrices are shaded blue (negative) - white (0) - red (positive); "
                "their name and labels keep their kind's colour"),
    ("grey 0 or 1", "a constant that is 0 or 1 by the structure of the equation "
                    "(a Jacobian's zeros), not a computed number"),
)


def write_start(book: Book, title: str, subtitle: str, paragraphs: Sequence[str],
                settings: Sequence[Tuple[str, str]],
                contents: Sequence[Tuple[str, str]]) -> Sheet:
    """The first sheet: what the workbook is, its settings, the colours, and links to each sheet.

    `contents` lists (sheet title, what it shows); the sheets need not exist yet.
    """
    start = book.sheet("Start")
    start.header(title, subtitle)
    start.row = 4
    for paragraph in paragraphs:
        start.line(paragraph)
    start.skip()
    start.heading("Settings", col=1)
    for label, value in settings:
        start.text(start.row, 1, label, bold=True)
        start.text(start.row, 2, value, fits=False)
        start.row += 1
    start.skip()
    start.heading("Colours: one per kind of cell", col=1)
    for kind in KINDS:
        start.text(start.row, 1, kind.name, bold=True, fill=kind.fill)
        start.text(start.row, 2, kind.meaning, fits=False)
        start.row += 1
    for label, meaning in LEGEND_EXTRAS:
        start.text(start.row, 1, label, bold=True)
        start.text(start.row, 2, meaning, fits=False)
        start.row += 1
    start.skip()
    start.heading("Contents (click a name)", col=1)
    for sheet_title, meaning in contents:
        start.link(start.row, 1, sheet_title, sheet_title)
        start.text(start.row, 2, meaning, fits=False)
        start.row += 1
    # Column B holds the prose: as wide as its longest line, so that it prints whole.
    prose = [title, *paragraphs, *(v for _, v in settings), *(k.meaning for k in KINDS),
             *(m for _, m in LEGEND_EXTRAS), *(m for _, m in contents)]
    start.set_width(2, min(max(len(text) for text in prose) + 2, 130))
    return start
