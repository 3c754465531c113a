"""The cell layer: where a number sits, what it is, how a formula names it.

A sheet is built from *blocks*.  A block is one quantity - a vector, a
matrix, a scalar - laid out as

    row r     | label          | title: its equation, shape, what an entry means
    row r+1   | corner         | column label 1 | column label 2 | ...
    row r+2   | row label 1    | entry (1, 1)   | entry (1, 2)   | ...

and carries a *defined name* (``W_1`` for W1: ``W1`` itself is a cell
address to a spreadsheet, so a symbol with a digit gets an underscore;
``x``, ``h``, ``p``, ``L``, ``lr``, ``mu`` stay as they are).  Formulas
refer to blocks through their names and INDEX, counted from 1 as the
labels are:

    INDEX(W_1,2,3)      W1[2,3]           (a matrix: row, column)
    INDEX(b_1,2)        b1_2              (a vector laid out as one row)
    INDEX(W_1,2,0)      row 2 of W1       (0: the whole row)
    x                   all of x

so  z1_2 = SUMPRODUCT(INDEX(W_1,2,0),x)+INDEX(b_1,2)  reads as the maths.
``Ref``/``Area`` are plain addresses, for the few cells that have no name.

Every computed cell is a ``Formula``: its text and the value Python
computed for it (a number, or a word such as "PASS").  The book writes
that value into the saved file as the formula's cached result (save.py).

Formulas use only ``ALLOWED_FUNCTIONS``, which Excel 2010+ and LibreOffice
evaluate alike without array entry; a scalar function of a range
(``SUM(EXP(A1:A3))``) is never written.

Numbers are shown as plain decimals (``VALUE``, 6 places; ``PRECISE``, 10
places, for the nudged losses of the central differences, which differ in
the 7th); only differences that are zero up to rounding use scientific
notation (``SMALL``).
"""

import re
from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

ALLOWED_FUNCTIONS = frozenset({"SUM", "SUMPRODUCT", "MAX", "MIN", "EXP", "LN", "IF", "ABS",
                               "INDEX", "COUNTIF", "AND", "OR"})

VALUE = "0.000000;-0.000000;0"      # an exact 0 (a structural zero, a dead unit) shows as 0
SMALL = "0.0E+00;-0.0E+00;0"        # differences that are zero up to rounding
PRECISE = "0.0000000000"            # losses a nudge of 1e-5 moves in the 7th place
INTEGER = "0"
PERCENT = "0.00%"
TEXT = "@"


# --- kinds of cell -------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """What a cell holds, shown by its colour: ``fill`` for entries, ``tint`` for labels."""
    name: str
    fill: str
    tint: str
    meaning: str


INPUT = Kind("input", "FFF2CC", "FFD966",
             "the data: an example's x and y (type over them to try another)")
PARAMETER = Kind("parameter", "DDEBF7", "9BC2E6",
                 "W1, b1, W2, b2, the learning rate lr (and mu): edit them too")
INTERMEDIATE = Kind("intermediate", "E2EFDA", "A9D08E",
                    "the forward pass: z1, h, z2, the softmax helpers m, e, s, p, L")
JACOBIAN = Kind("Jacobian", "EADFF2", "C9B3E3",
                "a Jacobian dA/dB or a product of Jacobians (long form)")
GRADIENT = Kind("gradient", "FCE4D6", "F4B084",
                "backpropagation: dA means dL/dA, the slope of the loss in A")
UPDATE = Kind("update", "D5F0EC", "8CD3C7",
              "new parameters: old value - lr * gradient (or - lr * v with momentum)")
CHECK = Kind("check", "EDEDED", "C9C9C9",
             "checks: central differences computed by formulas, and PASS / FAIL")
KINDS = (INPUT, PARAMETER, INTERMEDIATE, JACOBIAN, GRADIENT, UPDATE, CHECK)

PASS_FILL, FAIL_FILL, KINK_FILL = "C6EFCE", "FFC7CE", "FFEB9C"
HEAT_LOW, HEAT_MID, HEAT_HIGH = "5A8AC6", "FFFFFF", "F8696B"   # negative, 0, positive
LINK_BLUE = "0563C1"


# --- the look of a cell: fonts, fills, widths --------------------------------------------

DEFAULT_WIDTH = 8.43                      # a column whose width is not set
FONT_NAME, FONT_SIZE = "Calibri", 11      # every cell names its font (else viewers pick a serif)
LINE_HEIGHT = 15.0                        # points per line of 11-point text
# Column widths count characters of the default font's digits; a character of text takes
# about 0.85 of one (measured in LibreOffice, whose stand-in font is wider than Calibri).
TEXT_WIDTH = 0.85

_THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
CENTRE = Alignment(horizontal="center", vertical="center")
MIDDLE = Alignment(vertical="center")       # numbers and labels sit in the middle of tall rows


def solid(colour: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def font(bold: bool = False, italic: bool = False, size: Optional[float] = None,
         colour: Optional[str] = None, underline: Optional[str] = None) -> Font:
    """The workbooks' font: Calibri 11 unless told otherwise."""
    return Font(name=FONT_NAME, size=size or FONT_SIZE, bold=bold, italic=italic, color=colour,
                underline=underline)


def number_width(value: float, fmt: str) -> float:
    """The column width a number needs in a format: its integer digits, the decimals the
    format shows, a sign, a point and a margin (11 for -0.123456 in cells.VALUE)."""
    shown = fmt.split(";")[0]
    if "E" in shown:
        return 10.0
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return len(str(int(abs(value)))) + decimals + (4 if decimals else 3)


def text_width(text: str, bold: bool = False, size: Optional[float] = None) -> float:
    """About how many column-width units one line of `text` covers."""
    return len(text) * TEXT_WIDTH * (size or FONT_SIZE) / FONT_SIZE * (1.12 if bold else 1.0)


# --- names ---------------------------------------------------------------------------

_LOOKS_LIKE_A_CELL = re.compile(r"[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc]?[0-9]*|[Cc][0-9]*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_name(name: str) -> str:
    """A defined name both programs accept: not a cell address (W1), not R or C."""
    if not _NAME.fullmatch(name) or _LOOKS_LIKE_A_CELL.fullmatch(name):
        raise ValueError(f"{name!r} cannot be a defined name (it reads as a cell or is not a word)")
    return name


def symbol_name(symbol: str) -> str:
    """The defined name of a symbol: W1 -> W_1, dz2 -> dz_2, 'new W1' -> new_W_1, x -> x."""
    return check_name(re.sub(r"([A-Za-z])([0-9])", r"\1_\2", symbol).replace(" ", "_"))


_PLAIN_SHEET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote_sheet(title: str) -> str:
    """The sheet name as a formula writes it: 'Short form', but Forward."""
    if _PLAIN_SHEET_NAME.fullmatch(title) and not _LOOKS_LIKE_A_CELL.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


# --- addresses -----------------------------------------------------------------------

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

    @property
    def absolute(self) -> str:
        first = f"${get_column_letter(self.left)}${self.top}"
        last = f"${get_column_letter(self.right)}${self.bottom}"
        return first if first == last else f"{first}:{last}"

    def on(self, here: str) -> str:
        return self.a1 if here == self.sheet else f"{quote_sheet(self.sheet)}!{self.a1}"


@dataclass(frozen=True)
class Block:
    """Where a block's entries are (entry (i, j), 0-based in Python, at row top + i,
    column left + j) and the defined name formulas call it by."""
    label: str
    sheet: str
    top: int
    left: int
    row_labels: Tuple[str, ...]
    col_labels: Tuple[str, ...]
    name: Optional[str] = None
    local: bool = False            # the name is scoped to its sheet
    title: str = field(default="", compare=False)

    @property
    def rows(self) -> int:
        return len(self.row_labels)

    @property
    def cols(self) -> int:
        return len(self.col_labels)

    def ref(self, i: int, j: int = 0) -> Ref:
        if not (0 <= i < self.rows and 0 <= j < self.cols):
            raise IndexError(f"{self.label}: entry ({i}, {j}) is outside {self.rows} x {self.cols}")
        return Ref(self.sheet, self.top + i, self.left + j)

    def row_area(self, i: int) -> Area:
        self.ref(i, 0)
        return Area(self.sheet, self.top + i, self.left, self.top + i, self.left + self.cols - 1)

    def column_area(self, j: int) -> Area:
        self.ref(0, j)
        return Area(self.sheet, self.top, self.left + j, self.top + self.rows - 1, self.left + j)

    def area(self) -> Area:
        return Area(self.sheet, self.top, self.left,
                    self.top + self.rows - 1, self.left + self.cols - 1)

    # How a formula on sheet `here` writes this block, its entries, rows and columns.

    def whole(self, here: str) -> str:
        if self.name is None:
            return self.area().on(here)
        if self.local and here != self.sheet:
            return f"{quote_sheet(self.sheet)}!{self.name}"
        return self.name

    def at(self, here: str, i: int, j: int = 0) -> str:
        """Entry (i, j) (0-based here, 1-based in the text): INDEX(W_1,2,3), INDEX(b_1,2), lr."""
        self.ref(i, j)
        if self.name is None:
            return self.ref(i, j).on(here)
        if self.rows == 1 and self.cols == 1:
            return self.whole(here)
        if self.rows == 1:
            return f"INDEX({self.whole(here)},{j + 1})"
        if self.cols == 1:
            return f"INDEX({self.whole(here)},{i + 1})"
        return f"INDEX({self.whole(here)},{i + 1},{j + 1})"

    def row(self, here: str, i: int) -> str:
        """Row i: the name itself for a one-row block, else INDEX(name,i,0)."""
        if self.name is None:
            return self.row_area(i).on(here)
        if self.rows == 1:
            return self.whole(here)
        return f"INDEX({self.whole(here)},{i + 1},0)"

    def column(self, here: str, j: int) -> str:
        if self.name is None:
            return self.column_area(j).on(here)
        if self.cols == 1:
            return self.whole(here)
        return f"INDEX({self.whole(here)},0,{j + 1})"


# --- entries -------------------------------------------------------------------------

@dataclass(frozen=True)
class Formula:
    """A formula (text starting with "=") and the value Python computed for it.

    ``tolerance`` marks a cell whose value is a central difference: it
    divides a difference of two nearly equal losses by 2 eps, so a spreadsheet
    that rounds EXP, LN or a sum in the last bit differently gives a number
    that differs by about 1e-11, not 1e-16.  The recalculation test compares
    such cells to this absolute tolerance instead of 1e-9 relative.
    """
    text: str
    value: Union[float, str]
    tolerance: Optional[float] = None


Entry = Union[float, int, str, Formula]


def functions_used(formula: str) -> list:
    """The function names a formula calls, e.g. ["SUMPRODUCT", "INDEX"]."""
    return re.findall(r"([A-Z][A-Z0-9.]*)\(", formula)


def check_formula(text: str) -> None:
    if not text.startswith("="):
        raise ValueError(f"a formula starts with '=': {text!r}")
    bad = sorted(set(functions_used(text)) - ALLOWED_FUNCTIONS)
    if bad:
        raise ValueError(f"{text!r} calls {', '.join(bad)}, outside {sorted(ALLOWED_FUNCTIONS)}")


def abs_diff(a: str, b: str) -> str:
    """|a - b| as a formula fragment."""
    return f"ABS({a}-{b})"


def pass_fail(difference: str, reference: str, tol: str, otherwise: str = '"FAIL"') -> str:
    """PASS when difference <= tol * max(1, |reference|), else `otherwise` (a formula fragment)."""
    return f'=IF({difference}<={tol}*MAX(1,ABS({reference})),"PASS",{otherwise})'
