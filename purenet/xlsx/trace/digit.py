"""digit_trace.xlsx: a real MNIST digit through one training step of a 49-8-10 network.

    Start        what it is, how to read it, the names, the network as cells
    Digit        the 28 x 28 pixels (square cells), x as a 7 x 7 picture, the predicted
                 digit and a bar chart of p
    Tiles        x and each row of W1 and dW1 as 7 x 7 tiles: z1_i = SUMPRODUCT(tile_i, x)
    Parameters   x (49 inputs, formulas of the picture), y, lr, W1, b1, W2, b2
    Forward, Short form, Update   as in forward_and_short_form.xlsx
    Check, Nudges                 live central differences of the entries that fit:
                                  every b1_i, every b2_k, the row of W2 of the true digit,
                                  and W1[i, j*] for every hidden unit i, j* the brightest input

Classes are labelled by their digit: the class of digit d is column d + 1
(y(digit 7) is INDEX(y,8)).
"""

from typing import Dict, List, Sequence, Tuple

from ...matrix import argmax
from ...network import he_init, one_hot
from ..book import Book, Sheet
from ..cells import GRADIENT, INPUT, INTEGER, INTERMEDIATE, PARAMETER, Block, Formula, Ref
from .checks import write_checks
from .numbers import (DIGIT_HIDDEN, DIGIT_SIDE, N_CLASSES, POOL, POOLED_SIDE, Digit, Settings,
                      average_pool, take_step)
from .one_step import forward_sheet, parameters_sheet, short_form_sheet, update_sheet
from .start import link_in_order, network_diagram, write_start

NAMES = [("x", "x (49 inputs) and x_tile (7 x 7)", "Parameters, Digit"),
         ("y", "y", "Parameters"), ("W1", "W_1; row i as a tile: W_1_row1 ...", "Parameters, Tiles"),
         ("b1, W2, b2, lr", "b_1, W_2, b_2, lr", "Parameters"),
         ("z1, h, z2, p, L", "z_1, h, z_2, p, L", "Forward"),
         ("dz2, dh, dz1", "dz_2, dh, dz_1", "Short form"),
         ("dW1", "dW_1; row i as a tile: dW_1_row1 ...", "Short form, Tiles"),
         ("eps, tol", "eps, tol", "Check")]


PIXEL = (2.7, 19.0)     # a pixel cell's width (in characters) and height (in points): square
TILE = (6.0, 44.0)      # a tile cell's: square, with room for "-0.28"


def digit_sheet(book: Book, digit: Digit, x: List[float]) -> Tuple[Sheet, List]:
    """The pixels as square cells, and under them x: each 4 x 4 square of pixels one cell
    (four columns merged, one row as tall as four)."""
    sheet = book.sheet("Digit")
    sheet.header(f"Digit: MNIST test image {digit.index}, labelled {digit.label}",
                 "Top: the pixels, 0 (paper) to 255 (ink).  Below: x, the mean of each 4 x 4 "
                 "square scaled to [0, 1].  Right: what the network makes of it.", home="Start")
    pixels = sheet.block(
        "pixel", "the 28 x 28 pixels, 0 .. 255 (click a cell for its value)",
        "The raw image from t10k-images-idx3-ubyte.gz, one grey level 0..255 per cell, row r "
        "and column c counted from 1.", INPUT,
        [str(i + 1) for i in range(DIGIT_SIDE)], [str(j + 1) for j in range(DIGIT_SIDE)],
        lambda i, j: digit.image[i * DIGIT_SIDE + j], fmt=";;;", name="pixel")
    sheet.grey_scale(pixels.area(), 0, 255)
    sheet.square_cells(pixels.top, DIGIT_SIDE, pixels.left, DIGIT_SIDE, *PIXEL)
    square = POOL * POOL * 255
    top = pixels.top + DIGIT_SIDE + 1
    sheet.text(top, 1, "x (7 x 7)", bold=True, fill=INTERMEDIATE.tint)
    sheet.text(top, 2, f"x_(7(r-1)+c) = SUM(the 4 x 4 pixels above it) / (16 * 255 = {square}); "
               "x on sheet Parameters refers to these cells", italic=True, fits=False)
    cells = []
    for r in range(POOLED_SIDE):
        row = top + 1 + r
        sheet.ws.row_dimensions[row].height = POOL * PIXEL[1]
        sheet.text(row, 1, f"r={r + 1}", bold=True)
        for c in range(POOLED_SIDE):
            first = pixels.ref(POOL * r, POOL * c)
            last = pixels.ref(POOL * r + POOL - 1, POOL * c + POOL - 1)
            col = pixels.left + POOL * c
            ref = sheet.put(row, col, Formula(f"=SUM({first.a1}:{last.a1})/{square}",
                                              x[POOLED_SIDE * r + c]), INTERMEDIATE, "0.00",
                            structural=True)       # centred
            sheet.ws.merge_cells(start_row=row, start_column=col, end_row=row,
                                 end_column=col + POOL - 1)
            cells.append(ref)
    sheet.grey_scale(" ".join(ref.a1 for ref in cells), 0, 1, white_text_above=0.5)
    sheet.row = top + POOLED_SIDE + 2
    return sheet, cells


def prediction(sheet: Sheet, F, step, digit: Digit, at_row: int, left: int) -> None:
    """The predicted digit (the k with the largest p_k, minus 1) and a bar chart of p."""
    predicted_digit(sheet, F.p, step.traces[0].p, at_row, left)
    sheet.text(at_row + 4, left + 2, f"(true: {digit.label})", italic=True, fits=False)


def predicted_digit(sheet: Sheet, p: Block, p_values: Sequence[float], at_row: int,
                    left: int) -> Ref:
    """From (at_row, left): p copied as block p_bars, the predicted digit (the first k
    whose p_k is the largest, as matrix.argmax picks it) and a bar chart of p.  Returns
    the predicted digit's cell."""
    here = sheet.title
    guess = argmax(p_values)
    bars = sheet.block("p", f"p: the probability of each digit (sheet {p.sheet})",
                       f"Each cell refers to p on sheet {p.sheet}.", INTERMEDIATE, ["p"],
                       [str(k) for k in range(N_CLASSES)],
                       lambda i, k: Formula(f"={p.at(here, 0, k)}", p_values[k]), name="p_bars",
                       corner="digit",
                       origin=(at_row, left), fmt="0.000")
    sheet.text(at_row + 4, left, "predicted", bold=True)
    terms = "".join(f"IF({p.at(here, 0, k)}=MAX({p.whole(here)}),{k}," for k in range(N_CLASSES))
    cell = sheet.put(at_row + 4, left + 1, Formula("=" + terms + "-1" + ")" * N_CLASSES,
                                                  float(guess)), INTERMEDIATE, INTEGER)
    sheet.chart(f"{_col(left)}{at_row + 6}", "p: the network's probability of each digit",
                "digit", "p", _header(bars), [(bars.row_area(0), "p")], bar=True, size=(16, 8))
    return cell


def _col(col: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(col)


def _header(block):
    from ..cells import Area
    return Area(block.sheet, block.top - 1, block.left, block.top - 1, block.left + block.cols - 1)


def tiles_sheet(book: Book, P, S, Xb, step) -> None:
    """x, each row of W1 and each row of dW1 as 7 x 7 tiles, with z1_i = SUMPRODUCT(tile, x)."""
    sheet = book.sheet("Tiles")
    here = sheet.title
    sheet.header("Tiles: each row of W1 (and of dW1) as a 7 x 7 picture beside x",
                 "z1_i = SUMPRODUCT(W1 row i as a tile, x as a tile) + b1_i: the tile says which "
                 "pixels push unit i up (red) or down (blue).", home="Start")
    n = POOLED_SIDE
    W1, dW1 = step.params.W1, step.grads.W1
    labels = [str(c + 1) for c in range(n)]
    picture = sheet.block("x (7 x 7)", "x as a 7 x 7 tile: x_(7(r-1)+c)",
                          "Each cell refers to x on sheet Parameters.", INTERMEDIATE,
                          [str(r + 1) for r in range(n)], labels,
                          lambda r, c: Formula(f"={Xb.at(here, 0, n * r + c)}", step.X[0][n * r + c]),
                          name="x_tile", origin=(5, 1), fmt="0.00")
    sheet.grey_scale(picture.area(), 0, 1, white_text_above=0.5)
    sheet.square_cells(picture.top, n, picture.left, n, *TILE)
    sheet.row = 5 + n + 3
    for i in range(DIGIT_HIDDEN):
        top = sheet.row
        w = sheet.block(f"W1 row {i + 1}", f"W1[{i + 1}, 7(r-1)+c]",
                        f"Row {i + 1} of W1 (sheet Parameters) laid out as the picture.",
                        PARAMETER, [str(r + 1) for r in range(n)], labels,
                        lambda r, c, i=i: Formula(f"={P.W1.at(here, i, n * r + c)}", W1[i][n * r + c]),
                        name=f"W_1_row{i + 1}", heatmap=True, origin=(top, 1), fmt="0.00")
        sheet.block(f"dW1 row {i + 1}", f"dW1[{i + 1}, 7(r-1)+c]",
                        f"Row {i + 1} of dW1 (sheet Short form) laid out as the picture: "
                        f"dz1_{i + 1} times x, so it is x's picture, scaled.",
                        GRADIENT, [str(r + 1) for r in range(n)], labels,
                        lambda r, c, i=i: Formula(f"={S.grads.W1.at(here, i, n * r + c)}",
                                                  dW1[i][n * r + c]),
                        name=f"dW_1_row{i + 1}", heatmap=True, origin=(top, n + 2), fmt="0.000")
        sheet.square_cells(top + 2, n, 2, n, *TILE)
        sheet.square_cells(top + 2, n, n + 3, n, *TILE)
        sheet.block(f"z1_{i + 1}", f"z1_{i + 1} = SUMPRODUCT(W1 row {i + 1}, x) + b1_{i + 1}",
                        "The same number as block z1 on sheet Forward, from the tiles.",
                        INTERMEDIATE, ["z1"], ["value"],
                        lambda _, __, i=i: Formula(f"=SUMPRODUCT({w.whole(here)},"
                                                   f"{picture.whole(here)})+{P.b1.at(here, 0, i)}",
                                                   step.traces[0].z1[i]),
                        name=f"z_1_tile{i + 1}", origin=(top, 2 * n + 3))
        sheet.row = top + n + 3
    sheet.fit_to_page(wide=1, tall=0, landscape=False)


def checked_entries(label: int, x) -> Dict[str, List[Tuple[int, int]]]:
    """The entries the Check sheet checks: every b1_i and b2_k, the row of W2 into the
    true digit's logit, and W1[i, j*] for every unit i, j* the brightest input."""
    brightest = max(range(len(x)), key=lambda j: x[j])
    return {"W1": [(i, brightest) for i in range(DIGIT_HIDDEN)],
            "b1": [(i, 0) for i in range(DIGIT_HIDDEN)],
            "W2": [(label, j) for j in range(DIGIT_HIDDEN)],
            "b2": [(k, 0) for k in range(N_CLASSES)]}


def digit_trace(settings: Settings, digit: Digit) -> Book:
    x = average_pool(digit.image)
    y = one_hot(digit.label, N_CLASSES)
    sizes = (len(x), DIGIT_HIDDEN, N_CLASSES)
    params = he_init(sizes, settings.seed)
    step = take_step(params, [x], [y], settings.lr)
    chosen = checked_entries(digit.label, x)
    j_star = chosen["W1"][0][1]
    book = Book("purenet: an MNIST digit traced through one training step")
    start = book.sheet("Start")
    sheet, x_cells = digit_sheet(book, digit, x)
    tiles_at = len(book.sheets)
    P, Xb, Yb, lr = parameters_sheet(
        book, step, settings.lr, digits=True,
        x_source=lambda _, j: x_cells[j].on("Parameters"))
    F = forward_sheet(book, P, Xb, Yb, step, digits=True)
    prediction(sheet, F, step, digit, 5, DIGIT_SIDE + 3)
    S = short_form_sheet(book, P, Xb, Yb, F, step, digits=True)
    tiles_sheet(book, P, S, Xb, step)
    book.wb.move_sheet("Tiles", offset=tiles_at - len(book.sheets) + 1)
    book.sheets.insert(tiles_at, book.sheets.pop())
    update_sheet(book, P, S, lr, Xb, Yb, step, digits=True)
    write_checks(book, P, Xb, Yb, F, S.grads, step, chosen, digits=True)
    contents = [("Digit", "the 28 x 28 pixels, their 7 x 7 average x, the prediction and p"),
                ("Tiles", "x and each row of W1 and dW1 as 7 x 7 pictures"),
                ("Parameters", "x (49 inputs), y, lr, W1, b1, W2, b2"),
                ("Forward", "z1, h, z2, m, e, s, p, L"),
                ("Short form", "dz2, dW2, W2^T, dh, the ReLU mask, dz1, dW1, db1, db2"),
                ("Update", "new W1, b1, W2, b2, and the loss with them"),
                ("Check", "central differences by formulas against backprop, PASS / FAIL"),
                ("Nudges", "the forward passes behind the central differences")]
    layers, edges, loss = network_diagram(Xb, P, F, step.traces[0], params)
    layers[2].labels = [f"p(digit {k})" for k in range(N_CLASSES)]
    write_start(
        start, f"A real digit, traced: MNIST test image {digit.index} (a {digit.label})",
        "purenet: digit_trace.xlsx",
        ["A handwritten digit from the MNIST test set, averaged down to 7 x 7 = 49 inputs, "
         "goes through a 49-8-10 network for one training step.",
         "Edit a pixel on sheet Digit, and x, the prediction, every gradient and every check "
         "recompute.",
         f"Checked by central differences (the entries that fit on a sheet): every b1_i and "
         f"b2_k, the 8 weights W2[{digit.label + 1},j] into the true digit's logit, and the 8 "
         f"weights W1[i,{j_star + 1}] from the brightest input x_{j_star + 1}."],
        contents, layers, edges, loss, NAMES,
        [("network", f"{sizes[0]}-{sizes[1]}-{sizes[2]}, ReLU hidden layer, softmax output, "
                     "cross-entropy loss"),
         ("digit", f"MNIST test image {digit.index}, label {digit.label}"),
         ("seed", f"{settings.seed} (network.he_init)"), ("lr", repr(settings.lr)),
         ("regenerate", settings.command())],
        extra=["The 10 classes are labelled by their digit: the class of digit d is entry "
               "d + 1 (y(digit 7) is INDEX(y,8), p(digit 0) is INDEX(p,1))."])
    link_in_order(book)
    return book
