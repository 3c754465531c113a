"""draw_a_digit.xlsx: the whole trained network, and a grid to draw a digit on.

    Start        what it is, the model's test accuracy, the network drawn as cells
    Draw         the 28 x 28 grid (grey levels 0..255, pre-filled with an MNIST test
                 digit), the label, the predicted digit and a bar chart of p
    Parameters   x (one row of 784 formulas of the grid), W1, b1, W2, b2: every number
                 of the model file, exactly
    Forward      z1 and h (one row per hidden unit), W2^T beside them, z2, m, e, s, p, L
    Short form   for the label: dz2, db2, dW2, dh, the ReLU mask, dz1, db1
    dW1          dW1 = dz1 x^T, every one of its n_hidden x 784 entries

The hidden layer's vectors are columns (row i is hidden unit i); x and the
ten-entry vectors are rows.  Each derived cell is a formula of named blocks:

    x_j      = pixel_j / 255             x_(28(r-1)+c) = INDEX(pixel,r,c)/255
    z1_i     = SUMPRODUCT(INDEX(W_1,i,0),x)+INDEX(b_1,i)
    h_i      = MAX(0,INDEX(z_1,i))
    W2^T     W2^T[j,k] = INDEX(W_2,k,j)  (formulas: W2 turned to stand beside h)
    z2_k     = SUMPRODUCT(INDEX(W_2T,0,k),h)+INDEX(b_2,k)
    m, e, s, p, L                        as in the trace workbooks (trace/layout.py)
    y_k      = IF(label=k-1,1,0)         one-hot of the digit typed as the label
    dz2_k    = INDEX(p,k)-INDEX(y,k)     db2 = dz2,  dW2[k,j] = INDEX(dz_2,k)*INDEX(h,j)
    dh_j     = SUMPRODUCT(INDEX(W_2T,j,0),dz_2)
    [z1 > 0] = IF(INDEX(z_1,i)>0,1,0)    dz1_i = INDEX(dh,i)*INDEX(mask,i),  db1 = dz1
    dW1[i,j] = INDEX(dz_1,i)*INDEX(x,j)

Why W2^T: SUMPRODUCT multiplies two ranges of the same shape, and h is a
column while a row of W2 is a row; column k of W2^T is row k of W2 standing
beside h.  It serves dh = W2^T dz2 too, row by row against the row dz2.

dW1 is written whole, as formulas, although only the columns of lit pixels
(x_j > 0) hold anything but 0: a learner who draws ink where the pre-filled
digit had none then still sees every column of dW1 change.  For a 784-512-10
network that is 401,408 formulas, measured at 2.3 MB of the 8.1 MB file and
9 of the 13.4 s LibreOffice takes to load, recalculate and save it (README).

Every cached value is what network.py computed for the pre-filled digit
(``Drawn``: forward_one and backward_one, softmax_parts, relu_step); the
weights are the model file's numbers, written as the shortest decimal that
reads back as the same double.
"""

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..matrix import transpose
from ..model_io import Model
from ..network import (Backward, Params, Trace, backward_one, forward_one, one_hot, relu_step,
                       softmax_parts, to_vector)
from .book import Book, Sheet
from .cells import (GRADIENT, INPUT, INTEGER, INTERMEDIATE, PARAMETER, Block, Formula, font,
                    symbol_name)
from .trace.digit import predicted_digit
from .trace.layout import MEANING, corner, numbered, weight_labels
from .trace.numbers import DIGIT_SIDE, N_CLASSES
from .trace.start import Edges, Layer, link_in_order, write_start

N_PIXELS = DIGIT_SIDE * DIGIT_SIDE
PIXEL = (3.6, 22.0)        # a grid cell's width (characters) and height (points): square
PIXEL_FORMAT = '0;-0;""'   # the paper (0) stays blank, the ink shows its grey level
PIXEL_FONT = 9
SHOWN_UNITS = 10           # the diagram draws the 10 brightest pixels and the 10 busiest units
RIGHT = DIGIT_SIDE + 3     # the first column right of the grid on sheet Draw

NAMES = [("pixel", "pixel", "Draw"), ("label, y", "label, y", "Draw"),
         ("x", "x", "Parameters"), ("W1, b1, W2, b2", "W_1, b_1, W_2, b_2", "Parameters"),
         ("z1, h, W2^T", "z_1, h, W_2T", "Forward"),
         ("z2, m, e, s, p, L", "z_2, m, e, s, p, L", "Forward"),
         ("dz2, db2, dW2", "dz_2, db_2, dW_2", "Short form"),
         ("dh, [z1 > 0], dz1, db1", "dh, mask, dz_1, db_1", "Short form"),
         ("dW1", "dW_1", "dW1"), ("p (a copy), L (a copy)", "p_bars, L_copy", "Draw")]

CONTENTS = [("Draw", "the grid to draw on, the label, the predicted digit and a bar chart of p"),
            ("Parameters", "x = pixel / 255, and the trained W1, b1, W2, b2"),
            ("Forward", "z1, h (one row per hidden unit), W2^T, z2, m, e, s, p, L"),
            ("Short form", "dz2, db2, dW2, dh, the ReLU mask, dz1, db1, for the label"),
            ("dW1", "dW1 = dz1 x^T, every entry")]


def recorded_accuracy(hyperparameters: Dict[str, Any]) -> Optional[float]:
    """The model file's hyperparameters.test.accuracy, or None if it holds no such fraction."""
    test = hyperparameters.get("test")
    accuracy = test.get("accuracy") if isinstance(test, dict) else None
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) \
            and 0.0 <= accuracy <= 1.0:
        return float(accuracy)
    return None


@dataclass(frozen=True)
class Drawn:
    """The pre-filled digit through the trained network: every number the workbook caches."""
    params: Params
    image: bytes              # the 784 grey levels of the grid
    label: int
    index: int                # which MNIST test image
    accuracy: Optional[float]
    trace: Trace              # network.forward_one
    back: Backward            # network.backward_one

    @property
    def finite(self) -> bool:
        """False if the weights are so large that a number of the passes overflows."""
        t, g = self.trace, self.back
        return all(math.isfinite(v) for v in (*t.z1, *t.z2, *t.p, t.L, *g.dh, *g.dz1))


def drawn(model: Model, image: bytes, label: int, index: int) -> Drawn:
    """forward_one and backward_one on the image (x = pixel / 255) with y = one_hot(label)."""
    params = model.params
    x, y = to_vector(image), one_hot(label, params.sizes[2])
    trace = forward_one(params, x, y)
    return Drawn(params, bytes(image), label, index, recorded_accuracy(model.hyperparameters),
                 trace, backward_one(params, trace))


def parameter_count(params: Params) -> int:
    """The entries of W1, b1, W2 and b2: n_hidden (n_in + 1) + n_out (n_hidden + 1)."""
    n_in, n_hidden, n_out = params.sizes
    return n_hidden * (n_in + 1) + n_out * (n_hidden + 1)


def accuracy_text(accuracy: Optional[float]) -> str:
    if accuracy is None:
        return "not recorded in the model file (hyperparameters.test.accuracy)"
    return (f"{accuracy:.2%} of the 10,000 MNIST test images classified correctly "
            "(the model file's hyperparameters.test.accuracy)")


# --- the sheets ------------------------------------------------------------------------------

def draw_sheet(book: Book, d: Drawn) -> Tuple[Sheet, Block, Block]:
    """The grid (block pixel) and, right of it, the label and y (blocks label, y)."""
    sheet = book.sheet("Draw")
    sheet.header("Draw a digit: type grey levels 0 (paper) to 255 (ink) over the grid",
                 f"Pre-filled with MNIST test image {d.index} (a {d.label}).  Every number of "
                 "the network recomputes: the prediction and the bars of p on the right.",
                 home="Start")
    pixels = sheet.block(
        "pixel", "the 28 x 28 grid: grey levels 0 (paper) .. 255 (ink), row r and column c "
        "from 1", "Type a whole number 0..255 into any cell; the cells shade from white (0) to "
        "black (255).  To start from a blank page, select the grid and press Delete: an empty "
        "cell counts as 0.  Pixel (r, c) becomes x_(28(r-1)+c) = pixel / 255 on sheet "
        "Parameters.", INPUT, [str(r + 1) for r in range(DIGIT_SIDE)],
        [str(c + 1) for c in range(DIGIT_SIDE)], lambda r, c: d.image[r * DIGIT_SIDE + c],
        name="pixel", fmt=PIXEL_FORMAT, origin=(5, 1))
    for r in range(DIGIT_SIDE):          # small digits, so that 255 fits a square cell
        for c in range(DIGIT_SIDE):
            sheet.ws.cell(row=pixels.top + r, column=pixels.left + c).font = font(size=PIXEL_FONT)
    sheet.grey_scale(pixels.area(), 0, 255, white_text_above=127)
    sheet.square_cells(pixels.top, DIGIT_SIDE, pixels.left, DIGIT_SIDE, *PIXEL)
    label = sheet.block(
        "label", "label: the digit you meant, 0..9 (type another)",
        "The backward pass on sheets Short form and dW1 is for this digit: y is its one-hot "
        "vector, and every gradient says how the loss L = -ln p(label) changes with a weight.",
        INPUT, ["label"], ["digit"], lambda i, j: d.label, name="label", fmt=INTEGER,
        origin=(5, RIGHT))
    y = sheet.block(
        "y", "y: the label one-hot, y(digit k) = 1 for k = label, else 0",
        "y_k = IF(label = k - 1, 1, 0): the classes are numbered from 1, the digits from 0.",
        INPUT, ["y"], numbered("y", N_CLASSES, digits=True),
        lambda i, k: Formula(f"=IF({label.whole(sheet.title)}={k},1,0)", d.trace.y[k]),
        name="y", fmt=INTEGER, origin=(9, RIGHT))
    return sheet, pixels, y


def parameters_sheet(book: Book, d: Drawn, pixels: Block) -> Tuple[Block, Dict[str, Block]]:
    """x (formulas of the grid), then the model's W1, b1, W2, b2."""
    sheet = book.sheet("Parameters")
    here = sheet.title
    n_in, n_hidden, n_out = d.params.sizes
    sheet.header(f"Parameters: the trained network's {parameter_count(d.params):,} numbers, "
                 "and x", "x_j sits above column j of W1, so z1_i = SUMPRODUCT(row i of "
                 "W1, x) + b1_i multiplies a row by the row at the top.", home="Start")
    x = sheet.block(
        "x", "x = pixel / 255: the input, one row of 784 (x_(28(r-1)+c) is pixel (r, c) of the grid)",
        "x_j = pixel_j / 255, as network.to_vector scales MNIST's grey levels: each cell is a "
        "formula of the grid on sheet Draw.", INPUT, ["x"], numbered("x", n_in),
        lambda i, j: Formula(f"={pixels.at(here, *divmod(j, DIGIT_SIDE))}/255", d.trace.x[j]),
        name="x")
    blocks = {}
    for name in ("W1", "b1", "W2", "b2"):
        values = getattr(d.params, name)
        rows = values if isinstance(values[0], list) else [values]
        if name in ("W1", "W2"):
            row_labels, col_labels = weight_labels(name, d.params.sizes, digits=True)
        else:
            row_labels = [name]
            col_labels = numbered(name, len(values), digits=name == "b2")
        title, note, _ = MEANING[name]
        blocks[name] = sheet.block(
            name, title.format(i=n_in, h=n_hidden, o=n_out),
            note + "\nThe trained value: the model file's number, exactly.", PARAMETER,
            row_labels, col_labels, lambda i, j, rows=rows: rows[i][j],
            name=symbol_name(name), heatmap=name in ("W1", "W2"), corner=corner(name),
            named_style=True)
    return x, blocks


def forward_sheet(book: Book, d: Drawn, x: Block, P: Dict[str, Block], y: Block
                  ) -> Dict[str, Block]:
    """z1, h and W2^T as columns (one row per hidden unit), then z2, m, e, s, p, L."""
    sheet = book.sheet("Forward")
    here = sheet.title
    t = d.trace
    n_hidden = len(t.z1)
    m, e, s = softmax_parts(t.z2)
    sheet.header("Forward pass: z1 = W1 x + b1, h = relu(z1), z2 = W2 h + b2, p = softmax(z2), L",
                 "Row i of the columns on the left is hidden unit i.  On the right, the ten "
                 "classes.", home="Start")
    units = [f"i={i + 1}" for i in range(n_hidden)]
    F: Dict[str, Block] = {}
    F["z1"] = sheet.block(
        "z1", "z1 = W1 x + b1",
        "The hidden layer's pre-activations: z1_i = sum_j W1[i,j] x_j + b1_i, "
        "SUMPRODUCT(row i of W1, x) + b1_i (network.forward_one).", INTERMEDIATE, units, ["z1_i"],
        lambda i, _: Formula(f"=SUMPRODUCT({P['W1'].row(here, i)},{x.whole(here)})"
                             f"+{P['b1'].at(here, 0, i)}", t.z1[i]), name="z_1", origin=(5, 1))
    F["h"] = sheet.block(
        "h", "h = relu(z1)",
        "h_i = max(0, z1_i): negative pre-activations become 0; positive ones pass unchanged.",
        INTERMEDIATE, units, ["h_i"],
        lambda i, _: Formula(f"=MAX(0,{F['z1'].at(here, i, 0)})", t.h[i]), name="h",
        origin=(5, 4))
    W2T = transpose(d.params.W2)
    F["W2T"] = sheet.block(
        "W2^T", "W2^T: W2 turned, so that row j holds the weights out of h_j",
        "W2^T[j,k] = W2[k,j].  Column k is row k of W2 standing beside h, so "
        "z2_k = SUMPRODUCT(column k of W2^T, h) + b2_k; row j gives dh_j on sheet Short form.",
        PARAMETER, [f"j={j + 1} (h_{j + 1})" for j in range(n_hidden)],
        [f"k={k + 1} (digit {k})" for k in range(N_CLASSES)],
        lambda j, k: Formula(f"={P['W2'].at(here, k, j)}", W2T[j][k]), name="W_2T",
        corner="W2^T[j,k]", heatmap=True, origin=(5, 7))
    right = 7 + N_CLASSES + 2
    classes = numbered("z2", N_CLASSES, digits=True)

    def row(label, title, note, col_labels, formula, values, name, top, fmt=None):
        return sheet.block(label, title, note, INTERMEDIATE, [label], col_labels,
                           lambda _, k: Formula(formula(k), values[k]), name=name,
                           origin=(top, right), **({"fmt": fmt} if fmt else {}))

    F["z2"] = row("z2", "z2 = W2 h + b2: the logits, one per digit",
                  "z2_k = sum_j W2[k,j] h_j + b2_k: SUMPRODUCT(column k of W2^T, h) + b2_k.",
                  classes, lambda k: f"=SUMPRODUCT({F['W2T'].column(here, k)},{F['h'].whole(here)})"
                                     f"+{P['b2'].at(here, 0, k)}", t.z2, "z_2", 5)
    F["m"] = row("m", "m = max(z2): the shift that keeps exp from overflowing",
                 "softmax(z2) = softmax(z2 - m): the factor exp(-m) cancels.", ["m"],
                 lambda _: f"=MAX({F['z2'].whole(here)})", [m], "m", 9)
    F["e"] = row("e", "e_k = exp(z2_k - m)", "Each e_k is between 0 and 1, the largest exactly 1.",
                 numbered("e", N_CLASSES, digits=True),
                 lambda k: f"=EXP({F['z2'].at(here, 0, k)}-{F['m'].whole(here)})", e, "e", 13)
    F["s"] = row("s", "s = e_1 + ... + e_10: the softmax's normaliser", "s = SUM(e).", ["s"],
                 lambda _: f"=SUM({F['e'].whole(here)})", [s], "s", 17)
    F["p"] = row("p", "p = softmax(z2): p_k = e_k / s, the probability of each digit",
                 "p_k = exp(z2_k) / sum_j exp(z2_j) = e_k / s: positive, and they sum to 1.",
                 numbered("p", N_CLASSES, digits=True),
                 lambda k: f"={F['e'].at(here, 0, k)}/{F['s'].whole(here)}", t.p, "p", 21)
    F["L"] = row("L", "L = m + ln(s) - y . z2 = -ln p(label): the cross-entropy",
                 "With y one-hot, L = -ln p_label, written as network.cross_entropy computes it: "
                 "logsumexp(z2) - y . z2.", ["L"],
                 lambda _: f"={F['m'].whole(here)}+LN({F['s'].whole(here)})"
                           f"-SUMPRODUCT({y.whole(here)},{F['z2'].whole(here)})", [t.L], "L", 25)
    return F


def short_form_sheet(book: Book, d: Drawn, F: Dict[str, Block], y: Block) -> Dict[str, Block]:
    """dh, the mask, dz1, db1 as columns; dz2, db2 and dW2 on the right."""
    sheet = book.sheet("Short form")
    here = sheet.title
    t, g = d.trace, d.back
    n_hidden = len(t.z1)
    sheet.header("Short form, for the label: dz2 = p - y, dW2 = dz2 h^T, dh = W2^T dz2, "
                 "dz1 = dh * [z1 > 0], db1 = dz1", "dA is dL/dA: how the loss of this one "
                 "example moves with A.  Row i on the left is hidden unit i.", home="Start")
    units = [f"i={i + 1}" for i in range(n_hidden)]
    S: Dict[str, Block] = {}

    def column(label, title, note, col_label, formula, values, name, at, fmt=None):
        return sheet.block(label, title, note, GRADIENT, units, [col_label],
                           lambda i, _: Formula(formula(i), values[i]), name=name,
                           origin=(5, at), **({"fmt": fmt} if fmt else {}))

    right = 13
    S["dz2"] = sheet.block(
        "dz2", "dz2 = p - y: dL/dz2, softmax and cross-entropy together",
        "dz2_k = p_k - y_k: the probability of each wrong digit pushes its logit down, the "
        "label's 1 - p pushes its logit up.", GRADIENT, ["dz2"],
        numbered("dz2", N_CLASSES, digits=True),
        lambda _, k: Formula(f"={F['p'].at(here, 0, k)}-{y.at(here, 0, k)}", g.dz2[k]),
        name="dz_2", origin=(5, right))
    S["db2"] = sheet.block(
        "db2", "db2 = dz2", "db2 = dL/db2 = dz2: b2_k enters z2_k with slope 1.", GRADIENT,
        ["db2"], numbered("db2", N_CLASSES, digits=True),
        lambda _, k: Formula(f"={S['dz2'].at(here, 0, k)}", g.db2[k]), name="db_2",
        origin=(9, right))
    W2_rows, W2_cols = weight_labels("W2", d.params.sizes, digits=True)
    S["dW2"] = sheet.block(
        "dW2", "dW2 = dz2 h^T: dW2[k,j] = dz2_k h_j",
        "dW2 is dL/dW2, the outer product dz2 h^T: W2[k,j] enters z2_k multiplied by h_j, so "
        "a unit that is off (h_j = 0) leaves its column at 0.", GRADIENT, W2_rows, W2_cols,
        lambda k, j: Formula(f"={S['dz2'].at(here, 0, k)}*{F['h'].at(here, j, 0)}", g.dW2[k][j]),
        name="dW_2", corner="dW2[k,j]", heatmap=True, origin=(13, right), named_style=True)
    S["dh"] = column("dh", "dh = W2^T dz2",
                     "dh is dL/dh: dh_j = sum_k W2[k,j] dz2_k, since h_j feeds every z2_k "
                     "through W2[k,j].  Each entry is SUMPRODUCT(row j of W2^T, dz2) "
                     "(network.backward_one).", "dh_i",
                     lambda j: f"=SUMPRODUCT({F['W2T'].row(here, j)},{S['dz2'].whole(here)})",
                     g.dh, "dh", 1)
    S["mask"] = column("[z1 > 0]", "the ReLU mask",
                       "[z1 > 0]: 1 where z1_i > 0, else 0.  The derivative of relu "
                       "(network.relu_step), taken as 0 at z1_i = 0.",
                       "mask_i", lambda i: f"=IF({F['z1'].at(here, i, 0)}>0,1,0)",
                       relu_step(t.z1), "mask", 4, INTEGER)
    S["dz1"] = column("dz1", "dz1 = dh * [z1 > 0]",
                      "dz1 is dL/dz1: dh times the mask, entry by entry, so the gradient passes "
                      "only where the unit is on.", "dz1_i",
                      lambda i: f"={S['dh'].at(here, i, 0)}*{S['mask'].at(here, i, 0)}",
                      g.dz1, "dz_1", 7)
    S["db1"] = column("db1", "db1 = dz1", "db1 = dL/db1 = dz1: b1_i enters z1_i with slope 1.",
                      "db1_i", lambda i: f"={S['dz1'].at(here, i, 0)}", g.db1, "db_1", 10)
    return S


def dW1_sheet(book: Book, d: Drawn, x: Block, S: Dict[str, Block]) -> Block:
    sheet = book.sheet("dW1")
    here = sheet.title
    sheet.header("dW1 = dz1 x^T: dW1[i,j] = dz1_i x_j, every entry",
                 "Row i is x scaled by dz1_i: the digit's picture, once per hidden unit that is "
                 "on.  Columns of pixels left blank (x_j = 0) stay 0.", home="Start")
    rows, cols = weight_labels("W1", d.params.sizes)
    return sheet.block(
        "dW1", "dW1 = dz1 x^T: dW1[i,j] = dz1_i x_j",
        "dW1 is dL/dW1, the outer product dz1 x^T: W1[i,j] enters z1_i multiplied by x_j.  "
        "Every entry is a formula, so ink drawn anywhere on the grid shows here.", GRADIENT,
        rows, cols, lambda i, j: Formula(f"={S['dz1'].at(here, i, 0)}*{x.at(here, 0, j)}",
                                         d.back.dW1[i][j]),
        name="dW_1", corner="dW1[i,j]", heatmap=True, origin=(5, 1), named_style=True)


def brightest(values: Sequence[float], n: int) -> List[int]:
    """The indices of the n largest values (the first on a tie), in increasing order."""
    return sorted(sorted(range(len(values)), key=lambda i: (-values[i], i))[:n])


def draw_a_digit(d: Drawn) -> Book:
    """The workbook of a trained 784-n_hidden-10 network and a pre-filled digit."""
    n_in, n_hidden, n_out = d.params.sizes
    if (n_in, n_out) != (N_PIXELS, N_CLASSES):
        raise ValueError(f"draw_a_digit needs a {N_PIXELS}-n-{N_CLASSES} network, "
                         f"not {n_in}-{n_hidden}-{n_out}")
    t = d.trace
    book = Book("purenet: draw a digit, and the trained network classifies it", exact_numbers=True)
    start = book.sheet("Start")
    sheet, pixels, y = draw_sheet(book, d)
    x, P = parameters_sheet(book, d, pixels)
    F = forward_sheet(book, d, x, P, y)
    predicted_digit(sheet, F["p"], t.p, 13, RIGHT)
    sheet.block("L", "L = -ln p(label) (sheet Forward)",
                "How surprised the network is by the label: 0 when it gives the label "
                "probability 1.  The cell refers to L on sheet Forward.", INTERMEDIATE, ["L"],
                ["value"], lambda i, j: Formula(f"={F['L'].whole(sheet.title)}", t.L),
                name="L_copy", origin=(5, RIGHT + 6))
    S = short_form_sheet(book, d, F, y)
    dW1_sheet(book, d, x, S)
    layers = [Layer("x", f"x: {n_in} inputs", x, t.x, shown=brightest(t.x, SHOWN_UNITS)),
              Layer("h", f"h = relu(z1): {n_hidden} units", F["h"], t.h,
                    shown=brightest(t.h, SHOWN_UNITS), column=True),
              Layer("p", "p = softmax(z2)", F["p"], t.p,
                    labels=[f"p(digit {k})" for k in range(N_CLASSES)])]
    edges = [Edges("W1", P["W1"], d.params.W1, "z1"), Edges("W2", P["W2"], d.params.W2, "z2")]
    write_start(
        start, f"Draw a digit: the trained {n_in}-{n_hidden}-{n_out} network classifies it, "
        "every number a formula", "purenet: draw_a_digit.xlsx",
        [f"The whole network that purenet train made: {n_in} inputs, {n_hidden} hidden units, "
         f"{n_out} outputs, all {parameter_count(d.params):,} weights and "
         "biases as the model file holds them.  It classifies "
         + (f"{d.accuracy:.2%} of the 10,000 MNIST test images correctly."
            if d.accuracy is not None else "(its test accuracy is not recorded in the model "
            "file)."),
         f"On sheet Draw, type grey levels 0 (paper) to 255 (ink) over the grid: it holds MNIST "
         f"test image {d.index} (a {d.label}) to begin with.  Draw your own digit - select the "
         "grid, press Delete, and type 255 into the cells of your strokes - and x, z1, h, z2, "
         "p, the predicted digit and the bar chart of p recompute.",
         "Type the digit you meant as the label: the short-form backward pass of this one "
         "example (dz2, dW2, dh, dz1, dW1, db1, db2) is recomputed for it: how each weight "
         "would move to make that digit more likely.",
         "The numbers shown before any recalculation are the ones purenet computed in Python "
         "(network.forward_one and backward_one); the tests check that LibreOffice recomputes "
         "the same."],
        CONTENTS, layers, edges, Layer("L", "", F["L"], [t.L]), NAMES,
        [("network", f"{n_in}-{n_hidden}-{n_out}, ReLU hidden layer, softmax output, "
                     "cross-entropy loss"),
         ("test accuracy", accuracy_text(d.accuracy)),
         ("digit", f"MNIST test image {d.index}, labelled {d.label}, pre-filled in the grid"),
         ("dW1", f"all {n_hidden} x {n_in} entries, as formulas"),
         ("regenerate", f"python3 -m purenet export-xlsx --model MODEL --digit {d.index}")],
        extra=["Here the hidden layer's vectors are columns: row i of z1, h, dh, the mask, dz1 "
               "and db1 is hidden unit i, and INDEX(z_1,i) is z1_i.  W2^T (W2 turned) stands "
               "beside h, so z2_k = SUMPRODUCT(INDEX(W_2T,0,k),h)+INDEX(b_2,k).",
               "The 10 classes are labelled by their digit: the class of digit d is entry d + 1 "
               "(p(digit 0) is INDEX(p,1)).  The diagram shows the 10 brightest pixels and the "
               "10 busiest hidden units of the pre-filled digit."],
        checks=False)
    link_in_order(book)
    return book
