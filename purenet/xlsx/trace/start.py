"""The first sheet of a trace workbook, and the links that lead through the rest.

Start says what the workbook shows, how to read it (indices count from 1;
dA means dL/dA; the defined names of the symbols), the settings that made
it, the colours, a small diagram of the network (cells as nodes, live
formulas of the first example) and the contents.  Every other sheet links
back to Start and to the sheets before and after it in reading order.
"""

from typing import Optional, Sequence, Tuple

from ..book import Book, Sheet
from ..cells import INTERMEDIATE, INPUT, KINDS, PASS_FILL, Block, Formula

CONVENTIONS = (
    "Indices count from 1, as in the maths: W1[2,3] is row 2, column 3 of W1; x_1 is the "
    "first input; INDEX(x,b,0) is example b's x (one row per example).",
    "dA means dL/dA, the slope of the loss in A: dW1 is dL/dW1.",
    "Each symbol's block has a defined name, used by the formulas: a symbol with a digit "
    "takes an underscore (W1 is a cell address to a spreadsheet, so its name is W_1; "
    "z1 -> z_1, dW2 -> dW_2, new W1 -> new_W_1); x, y, h, p, L, lr, mu keep theirs.",
    "Click a cell to read its formula; every block's label (column A) has a note with its "
    "equation and name.  Plain decimals are values; 1.0E-11 style numbers are differences "
    "that are zero up to rounding.",
)


def write_start(book: Book, title: str, subtitle: str, paragraphs: Sequence[str],
                settings: Sequence[Tuple[str, str]], names: Sequence[Tuple[str, str, str]],
                contents: Sequence[Tuple[str, str]], extra: Sequence[str] = ()) -> Sheet:
    """The Start sheet; `names` lists (symbol, defined name, sheet), `contents` (sheet, what)."""
    start = book.sheet("Start")
    start.header(title, subtitle)
    start.row = 4
    for paragraph in paragraphs:
        start.line(paragraph)
    start.skip()
    start.heading("How to read it", col=1)
    for line in (*CONVENTIONS, *extra):
        start.line(line)
    start.skip()
    start.heading("Names: symbol, defined name, sheet", col=1)
    for i in range(0, len(names), 5):
        start.line("     ".join(f"{symbol}: {name} ({where})" for symbol, name, where
                                in names[i:i + 5]))
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
    start.text(start.row, 1, "PASS", bold=True, fill=PASS_FILL)
    start.text(start.row, 2, "a live check that holds (red FAIL, amber KINK otherwise)", fits=False)
    start.row += 2
    start.heading("Contents, in reading order (each sheet links to the next in row 3)", col=1)
    for sheet_title, meaning in contents:
        start.link(start.row, 1, sheet_title, sheet_title)
        start.text(start.row, 2, meaning, fits=False)
        start.row += 1
    start.skip()
    prose = [title, *paragraphs, *CONVENTIONS, *extra, *(v for _, v in settings),
             *(k.meaning for k in KINDS), *(m for _, m in contents)]
    start.set_width(2, min(max(len(text) for text in prose) + 2, 110))
    start.fit_to_page(wide=1, tall=0, landscape=False)
    return start


def diagram(start: Sheet, layers: Sequence[Tuple[str, Block, Sequence[float]]],
            edges: Sequence[str]) -> None:
    """The network as cells: one column of nodes per layer (live values of example 1),
    an arrow column between layers naming the weights on its edges.

    `layers` lists (symbol, block, example 1's values); a layer of more
    than 10 units shows its first 10 and a count.
    """
    start.heading("The network, example 1: each cell a node (its live value), each arrow a "
                  "layer of weights", col=1)
    top = start.row
    tallest = max(min(len(v), 10) for _, _, v in layers)
    here = start.title
    col = 1
    for index, (symbol, block, values) in enumerate(layers):
        n = len(values)
        shown = min(n, 10)
        first = top + 1 + (tallest - shown) // 2
        start.text(top, col + 1, f"{symbol} ({n})", bold=True, centre=True)
        for i in range(shown):
            row = first + i
            kind = INPUT if index == 0 else INTERMEDIATE
            start.text(row, col, f"{symbol}_{i + 1}", bold=True)
            start.put(row, col + 1, Formula(f"={block.at(here, 0, i)}", values[i]), kind)
        if n > shown:
            start.text(first + shown, col + 1, f"... {n - shown} more", italic=True)
        if index < len(edges):
            middle = top + 1 + tallest // 2
            start.text(middle, col + 2, "  ==>", bold=True, fits=False)
            start.text(middle + 1, col + 2, edges[index], italic=True, fits=False)
        col += 4
    start.row = top + tallest + 3


def link_in_order(book: Book, order: Optional[Sequence[str]] = None) -> None:
    """Row 3 of each sheet after Start: '<- previous' and 'Next: ... ->' in reading order."""
    titles = list(order or [s.title for s in book.sheets])
    for sheet in book.sheets:
        if sheet.title not in titles or sheet.title == "Start":
            continue
        at = titles.index(sheet.title)
        sheet.navigation(titles[at - 1], titles[at + 1] if at + 1 < len(titles) else None)
    start = next(s for s in book.sheets if s.title == "Start")
    start.navigation(None, titles[1] if len(titles) > 1 else None)
