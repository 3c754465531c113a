"""The first sheet of a trace workbook, and the links that lead through the rest.

Start says what the workbook shows, lists its sheets in reading order,
draws the network as cells (one cell per unit with its live value for
example 1, the weight matrices between the layers: W1[i,j] sits on the
edge from x_j to z1_i), and says how to read the rest: indices count from
1, dA means dL/dA, the defined names of the symbols, the colours, the
settings that made the workbook.  Every other sheet links back to Start
and to the sheets before and after it in reading order (row 3).

Start is made first (it is the first tab) and written last, when the
blocks it shows exist: ``book.sheet("Start")``, then the other sheets,
then ``write_start``.
"""

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from ..book import Book, Sheet
from ..cells import (INPUT, INTERMEDIATE, KINDS, PARAMETER, PASS_FILL, Area, Block, Formula,
                     text_width)

CONVENTIONS = (
    "Indices count from 1, as spreadsheets do (the textbook and Python count from 0): W1[2,3] is row 2, column 3 of W1; x_1 is the "
    "first input; INDEX(x,b,0) is example b's x (each example is one row of its block).",
    "dA means dL/dA, the slope of the loss in A: dW1 is dL/dW1, dz2 is dL/dz2.  A Jacobian "
    "is written with both parts: dz2_1/dW2[1,3] is how z2_1 moves with W2[1,3].",
    "Each symbol's block has a defined name, and the formulas use it: a symbol with a digit "
    "takes an underscore, because W1 is a cell address to a spreadsheet (W1 -> W_1, "
    "z1 -> z_1, dW2 -> dW_2, new W1 -> new_W_1); x, y, h, p, L, lr, mu keep theirs.  So "
    "z1_2 reads =SUMPRODUCT(INDEX(W_1,2,0),x)+INDEX(b_1,2): row 2 of W1 times x, plus b1_2.",
    "Click a cell to read its formula; each block's label (its first cell, coloured) has a "
    "note with its equation and its name.  Values are plain decimals; numbers like 1.2E-12 "
    "are differences that are zero up to rounding.",
)
MAX_NODES = 10          # a layer of more units shows its first 10 and a count
MAX_GRID = 10           # a weight matrix with more rows or columns is named, not drawn


@dataclass
class Layer:
    """One layer of the diagram: its symbol, the block that holds it, example 1's values."""
    symbol: str
    caption: str
    block: Block
    values: Sequence[float]
    labels: Optional[Sequence[str]] = None    # default: symbol_1, symbol_2, ...
    shown: Optional[Sequence[int]] = None     # the units drawn (default: the first MAX_NODES)
    column: bool = False                      # the block holds the layer as a column

    def units(self) -> Sequence[int]:
        return self.shown if self.shown is not None else range(min(len(self.values), MAX_NODES))

    def entry(self, here: str, i: int) -> str:
        """Unit i of example 1, as a formula on sheet `here` refers to it."""
        return self.block.at(here, i, 0) if self.column else self.block.at(here, 0, i)


@dataclass
class Edges:
    """The weights between two layers: W[i,j] on the edge from unit j to unit i."""
    symbol: str
    block: Block
    values: Sequence[Sequence[float]]
    into: str                 # the pre-activation the weights feed: "z1"


def write_start(start: Sheet, title: str, subtitle: str, paragraphs: Sequence[str],
                contents: Sequence[Tuple[str, str]], layers: Sequence[Layer],
                edges: Sequence[Edges], loss: Layer, names: Sequence[Tuple[str, str, str]],
                settings: Sequence[Tuple[str, str]], extra: Sequence[str] = (),
                checks: bool = True) -> None:
    """Fill the Start sheet; `names` lists (symbol, defined name, sheet), `contents`
    (sheet, what it shows) in reading order; checks=False: the workbook has no PASS cells."""
    start.header(title, subtitle)
    start.row = 5
    for paragraph in paragraphs:
        start.paragraph(paragraph)
    start.skip()
    start.heading("Contents, in reading order (row 3 of each sheet links to the next)", col=1)
    for sheet_title, meaning in contents:
        start.link(start.row, 1, sheet_title, sheet_title)
        start.text(start.row, 2, meaning, fits=False)
        start.row += 1
    start.skip()
    diagram(start, layers, edges, loss)
    start.heading("How to read it", col=1)
    for line in (*CONVENTIONS, *extra):
        start.paragraph(line)
    start.skip()
    start.heading("Names: the symbol, its defined name and its sheet", col=1)
    for symbol, name, where in names:
        start.text(start.row, 1, symbol, bold=True)
        start.text(start.row, 2, f"{name}   (sheet {where})", fits=False)
        start.row += 1
    start.skip()
    start.heading("Colours: one per kind of cell", col=1)
    for kind in KINDS:
        start.text(start.row, 1, kind.name, bold=True, fill=kind.fill)
        start.text(start.row, 2, kind.meaning, fits=False)
        start.row += 1
    if checks:
        start.text(start.row, 1, "PASS", bold=True, fill=PASS_FILL)
        start.text(start.row, 2, "a live check that holds (red FAIL, amber KINK otherwise)",
                   fits=False)
        start.row += 1
    start.row += 1
    start.heading("Settings", col=1)
    for label, value in settings:
        start.text(start.row, 1, label, bold=True)
        start.text(start.row, 2, value, fits=False)
        start.row += 1
    start.fit_to_page(wide=1, tall=0, landscape=False)


def diagram(start: Sheet, layers: Sequence[Layer], edges: Sequence[Edges], loss: Layer) -> None:
    """The network as cells: a column of units per layer (live values of example 1), the
    weight matrix between two layers drawn with row i beside unit i of the layer it feeds,
    and L at the end."""
    here = start.title
    start.heading("The network, example 1: each unit a cell (its live value); between two "
                  "layers, the weights on the edges", col=1)
    top = start.row
    first = top + 2                                   # the first row of units
    tallest = max(len(layer.units()) for layer in layers)
    col = 2

    def rows_of(n: int) -> int:
        return first + (tallest - min(n, MAX_NODES)) // 2

    for index, layer in enumerate(layers):
        n, units = len(layer.values), layer.units()
        at = rows_of(len(units))
        start.text(top, col, layer.caption, bold=True, fits=False)
        kind = INPUT if index == 0 else INTERMEDIATE
        labels = layer.labels or [f"{layer.symbol}_{i + 1}" for i in range(n)]
        for r, i in enumerate(units):
            start.text(at + r, col, labels[i], bold=True)
            start.put(at + r, col + 1, Formula(f"={layer.entry(here, i)}", layer.values[i]), kind)
        if n > len(units):
            start.text(at + len(units), col, f"... and {n - len(units)} more", italic=True,
                       fits=False)
        start.set_width(col, max(6.0, text_width(labels[units[0]], bold=True) + 1.5))
        start.set_width(col + 1, 10.5)
        col += 2
        if index < len(edges):
            col = weights(start, edges[index], layer, layers[index + 1], top, rows_of, col)
    start.text(top, col, "the loss", bold=True, fits=False)
    start.text(first, col, loss.symbol, bold=True)
    start.put(first, col + 1, Formula(f"={loss.block.at(here, 0, 0)}", loss.values[0]),
              INTERMEDIATE)
    start.text(first + 1, col, "L = -ln p_true", italic=True, fits=False)
    start.set_width(col, 6)
    start.set_width(col + 1, 10.5)
    start.row = first + tallest + 2


def weights(start: Sheet, edges: Edges, source: Layer, target: Layer, top: int, rows_of,
            col: int) -> int:
    """The matrix between two layers, or its name when it is too big to draw; returns the
    next free column."""
    here = start.title
    n_out, n_in = len(edges.values), len(edges.values[0])
    if n_out > MAX_GRID or n_in > MAX_GRID:
        at = rows_of(n_out)
        for r, line in enumerate((f"{edges.symbol}: {n_out} x {n_in}", "weights, on sheet",
                                  "Parameters", f"{edges.into} = {edges.symbol} "
                                  f"{source.symbol} + b")):
            start.text(at + r, col, line, italic=r > 0)
        start.set_width(col, 20)
        return col + 1
    start.text(top, col, f"{edges.symbol}[i,j]: on the edge {source.symbol}_j -> "
                         f"{edges.into}_i", bold=True, fits=False)
    at = rows_of(n_out)
    for j in range(n_in):
        start.text(top + 1, col + j, f"{source.symbol}_{j + 1}", italic=True, centre=True)
        start.set_width(col + j, 10)
        for i in range(n_out):
            start.put(at + i, col + j, Formula(f"={edges.block.at(here, i, j)}",
                                               edges.values[i][j]), PARAMETER)
    start.heatmap(Area(here, at, col, at + n_out - 1, col + n_in - 1),
                  max(abs(v) for row in edges.values for v in row))
    return col + n_in


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


def network_diagram(Xb: Block, P, F, t, params) -> Tuple[list, list, Layer]:
    """The layers, edges and loss of the diagram for blocks x, W1, W2 (ParamBlocks P) and
    the forward pass F, with example 1's numbers from trace t."""
    n_in, n_hidden, n_out = params.sizes
    layers = [Layer("x", f"x: {n_in} inputs", Xb, t.x), Layer("h", "h = relu(z1)", F.h, t.h),
              Layer("p", "p = softmax(z2)", F.p, t.p)]
    edges = [Edges("W1", P.W1, params.W1, "z1"), Edges("W2", P.W2, params.W2, "z2")]
    return layers, edges, Layer("L", "", F.L, [t.L])
