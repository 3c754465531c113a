"""forward_and_short_form.xlsx: one training step of the tiny network, every number a formula.

    Start        what it is, how to read it, the names, the network as cells
    Parameters   x, y, W1, b1, W2, b2, lr
    Forward      z1, h, z2, m, e, s, p, L, and the mini-batch's L
    Short form   dz2, dW2, W2^T, dh, [z1 > 0], dz1, dW1 (each example), then the means
    One weight   dL/dW1[2,1] followed by hand, factor by factor (Matt Mazur's way)
    Update       new W1, b1, W2, b2, and the loss again with them
    Check        backprop against central differences, live (checks.py)
    Nudges       the forward passes the central differences need
"""

from typing import List, Tuple

from ..book import Book
from ...network import relu_step
from ..cells import (CHECK, GRADIENT, INTEGER, INTERMEDIATE, PARAMETER, UPDATE, Block, Formula,
                     SMALL, VALUE)
from .checks import every_entry, write_checks
from .layout import (ForwardBlocks, ParamBlocks, ShortFormBlocks, write_data, write_forward,
                     write_lr, write_parameters, write_short_form, write_update)
from .numbers import Settings, Step, take_step, tiny_example
from .start import link_in_order, network_diagram, write_start

TRACED = (1, 0)      # W1[2,1] in the labels: the weight the One weight sheet follows

NAMES = [("x", "x", "Parameters"), ("y", "y", "Parameters"), ("W1", "W_1", "Parameters"),
         ("b1", "b_1", "Parameters"), ("W2", "W_2", "Parameters"), ("b2", "b_2", "Parameters"),
         ("lr", "lr", "Parameters"), ("z1", "z_1", "Forward"), ("h", "h", "Forward"),
         ("z2", "z_2", "Forward"), ("m, e, s", "m, e, s", "Forward"), ("p", "p", "Forward"),
         ("L", "L (each example), L_batch", "Forward"), ("dz2", "dz_2", "Short form"),
         ("W2^T", "W_2T", "Short form"), ("dh", "dh", "Short form"),
         ("[z1 > 0]", "mask", "Short form"), ("dz1", "dz_1", "Short form"),
         ("dW1, db1, dW2, db2", "dW_1, db_1, dW_2, db_2 (dW_1_ex1: example 1's)", "Short form"),
         ("new W1 ...", "new_W_1, new_b_1, new_W_2, new_b_2", "Update"),
         ("eps, tol", "eps, tol", "Check")]


def settings_rows(settings: Settings, batch: int) -> List[Tuple[str, str]]:
    n_in, n_hidden, n_out = settings.sizes
    return [("network", f"{n_in}-{n_hidden}-{n_out} (n_in - n_hidden - n_out), ReLU hidden "
                        "layer, softmax output, cross-entropy loss"),
            ("mini-batch", f"{batch} example{'s' if batch > 1 else ''}, example b of class b"),
            ("seed", f"{settings.seed} (network.he_init; inputs from gradcheck.kink_free_batch)"),
            ("lr", repr(settings.lr)),
            ("regenerate", settings.command())]


def parameters_sheet(book: Book, step: Step, lr: float, digits: bool = False, x_source=None
                     ) -> Tuple[ParamBlocks, Block, Block, Block]:
    sheet = book.sheet("Parameters")
    sheet.header("Parameters: the examples and the network's weights",
                 "Inputs (yellow) and parameters (blue): the only cells that are not formulas. "
                 "Type over any of them.", home="Start")
    Xb, Yb = write_data(sheet, step.X, step.Y, digits, x_source)
    lr_block = write_lr(sheet, lr)
    P = write_parameters(sheet, step.params, digits=digits)
    return P, Xb, Yb, lr_block


def forward_sheet(book: Book, P, Xb, Yb, step: Step, digits: bool = False) -> ForwardBlocks:
    sheet = book.sheet("Forward")
    sheet.header("Forward pass: z1 = W1 x + b1, h = relu(z1), z2 = W2 h + b2, p = softmax(z2), L",
                 "One row per example.", home="Start")
    return write_forward(sheet, P, Xb, Yb, step.traces, step.loss, digits=digits)


def short_form_sheet(book: Book, P, Xb, Yb, F, step: Step, digits: bool = False
                     ) -> ShortFormBlocks:
    sheet = book.sheet("Short form")
    sheet.header("Short form: dz2 = p - y, dW2 = dz2 h^T, dh = W2^T dz2, dz1 = dh * [z1 > 0], "
                 "dW1 = dz1 x^T", "dA is dL/dA.  Click a cell to follow its formula back to L.",
                 home="Start")
    sheet.fit_to_page(wide=1, tall=0, landscape=False)
    return write_short_form(sheet, P, Xb, Yb, F, step, digits=digits)


def update_sheet(book: Book, P, S: ShortFormBlocks, lr, Xb, Yb, step: Step,
                 digits: bool = False) -> Tuple[ParamBlocks, ForwardBlocks]:
    sheet = book.sheet("Update")
    sheet.header("Update: each parameter takes a step against its gradient, and the loss again",
                 "new theta = theta - lr * dL/dtheta (network.sgd_step)", home="Start")
    new = write_update(sheet, P, S.grads, lr, step.new_params, digits=digits)
    sheet.heading("The forward pass again with the new parameters: the loss after the step")
    after = write_forward(sheet, new, Xb, Yb, step.after, step.loss_after, suffix=" after",
                          digits=digits)
    return new, after


def one_weight_sheet(book: Book, P: ParamBlocks, Xb, Yb, F: ForwardBlocks, S: ShortFormBlocks,
                     lr: Block, lr_value: float, after: ForwardBlocks, step: Step,
                     traced: Tuple[int, int] = TRACED) -> None:
    """dL/dW1[i,j] = mean over examples of (sum_k (p_k - y_k) W2[k,i]) [z1_i > 0] x_j."""
    sheet = book.sheet("One weight")
    i, j = traced
    I, J = i + 1, j + 1
    here = sheet.title
    sheet.header(f"One weight by hand: dL/dW1[{I},{J}], factor by factor",
                 f"dL/dW1[{I},{J}] = sum_k (p_k - y_k) W2[k,{I}] . [z1_{I} > 0] . x_{J} for each "
                 "example, then their mean; then one step, and the loss before and after.",
                 home="Start")
    B = len(step.traces)
    n_out = len(step.traces[0].p)
    g = step.per_example
    sheet.row = 5
    cols = [f"example {b + 1}" for b in range(B)]
    sheet.text(sheet.row, 2, "quantity", bold=True)
    for b, c in enumerate(cols):
        sheet.text(sheet.row, 3 + b, c, bold=True, centre=True)
    sheet.text(sheet.row, 3 + B, "where it comes from", bold=True)
    sheet.row += 1
    refs = {}

    def put(label: str, where: str, texts, values, kind=GRADIENT, fmt=VALUE, source=None):
        """One row: the quantity, its value for each example, and where it comes from (a
        link to that cell, for example 1, when it comes from another sheet)."""
        sheet.text(sheet.row, 2, label, bold=True)
        cells = []
        for b in range(B):
            cells.append(sheet.put(sheet.row, 3 + b, Formula(texts[b], values[b]), kind, fmt).a1)
        if source is None:
            sheet.text(sheet.row, 3 + B, where, italic=True, fits=False)
        else:
            sheet.link(sheet.row, 3 + B, where, source.sheet, source.a1, fits=False)
        sheet.row += 1
        refs[label] = cells
        return cells

    products = []
    for k in range(n_out):
        K = k + 1
        pk = put(f"p_{K}", f"p_{K}: sheet Forward, block p",
                 [f"={F.p.at(here, b, k)}" for b in range(B)],
                 [step.traces[b].p[k] for b in range(B)], INTERMEDIATE, source=F.p.ref(0, k))
        yk = put(f"y_{K}", f"y_{K}: sheet Parameters, block y",
                 [f"={Yb.at(here, b, k)}" for b in range(B)],
                 [step.Y[b][k] for b in range(B)], INTERMEDIATE, INTEGER, source=Yb.ref(0, k))
        dz = put(f"dz2_{K} = p_{K} - y_{K}", "the two rows above",
                 [f"={pk[b]}-{yk[b]}" for b in range(B)], [g[b].dz2[k] for b in range(B)])
        w = put(f"W2[{K},{I}]", f"W2[{K},{I}]: sheet Parameters, block W2",
                [f"={P.W2.at(here, k, i)}" for b in range(B)],
                [step.params.W2[k][i]] * B, INTERMEDIATE, source=P.W2.ref(k, i))
        products.append(put(f"dz2_{K} * W2[{K},{I}]", "the two rows above",
                            [f"={dz[b]}*{w[b]}" for b in range(B)],
                            [g[b].dz2[k] * step.params.W2[k][i] for b in range(B)]))
    dh = put(f"dh_{I} = sum of the {n_out} products", f"the same as dh_{I} on sheet Short form",
             ["=" + "+".join(p[b] for p in products) for b in range(B)],
             [g[b].dh[i] for b in range(B)], source=S.dh.ref(0, i))
    z1 = put(f"z1_{I}", f"z1_{I}: sheet Forward, block z1",
             [f"={F.z1.at(here, b, i)}" for b in range(B)],
             [step.traces[b].z1[i] for b in range(B)], INTERMEDIATE, source=F.z1.ref(0, i))
    mask = put(f"[z1_{I} > 0]", "1 if the unit is active, 0 if not",
               [f"=IF({z1[b]}>0,1,0)" for b in range(B)],
               [relu_step(step.traces[b].z1)[i] for b in range(B)], fmt=INTEGER)
    dz1 = put(f"dz1_{I} = dh_{I} * [z1_{I} > 0]", f"the same as dz1_{I} on sheet Short form",
              [f"={dh[b]}*{mask[b]}" for b in range(B)], [g[b].dz1[i] for b in range(B)],
              source=S.dz1.ref(0, i))
    x = put(f"x_{J}", f"x_{J}: sheet Parameters, block x",
            [f"={Xb.at(here, b, j)}" for b in range(B)],
            [step.X[b][j] for b in range(B)], INTERMEDIATE, source=Xb.ref(0, j))
    each = put(f"dW1[{I},{J}] = dz1_{I} * x_{J}", "this example's gradient",
               [f"={dz1[b]}*{x[b]}" for b in range(B)], [g[b].dW1[i][j] for b in range(B)])
    sheet.skip()
    grad = step.grads.W1[i][j]
    at = {}

    def fact(key: str, label: str, text: str, value, kind=INTERMEDIATE, fmt=VALUE) -> None:
        sheet.text(sheet.row, 2, label, bold=True)
        at[key] = sheet.put(sheet.row, 3, Formula(text.format(**at), value), kind, fmt).a1
        sheet.row += 1

    fact("mean", f"dL/dW1[{I},{J}]: the mean over the {B} examples",
         f"=SUM({each[0]}:{each[-1]})/{B}", grad, GRADIENT)
    fact("short", f"Short form's dW1[{I},{J}]", f"={S.grads.W1.at(here, i, j)}", grad, GRADIENT)
    fact("diff", "difference (0: the same number)", "={mean}-{short}", 0.0, CHECK, SMALL)
    fact("old", f"W1[{I},{J}] before the step", f"={P.W1.at(here, i, j)}", step.params.W1[i][j])
    fact("lr", "lr, the learning rate", f"={lr.whole(here)}", lr_value, PARAMETER)
    fact("new", f"new W1[{I},{J}] = W1[{I},{J}] - lr * dW1[{I},{J}]", "={old}-{lr}*{mean}",
         step.new_params.W1[i][j], UPDATE)
    fact("before", "L before the step (the mini-batch's)", f"={F.loss.at(here, 0)}", step.loss)
    fact("after", "L after the step (sheet Update)", f"={after.loss.at(here, 0)}",
         step.loss_after)
    sheet.set_width(2, 44)
    sheet.fit_to_page(wide=1, tall=1, landscape=False)


def forward_and_short_form(settings: Settings) -> Book:
    params, X, Y = tiny_example(settings)
    step = take_step(params, X, Y, settings.lr)
    book = Book("purenet: one training step, forward pass and short-form backprop")
    start = book.sheet("Start")
    P, Xb, Yb, lr = parameters_sheet(book, step, settings.lr)
    F = forward_sheet(book, P, Xb, Yb, step)
    S = short_form_sheet(book, P, Xb, Yb, F, step)
    weight_sheet_at = len(book.sheets)
    _, after = update_sheet(book, P, S, lr, Xb, Yb, step)
    one_weight_sheet(book, P, Xb, Yb, F, S, lr, settings.lr, after, step)
    # reading order: One weight before Update
    book.wb.move_sheet("One weight", offset=-1)
    book.sheets.insert(weight_sheet_at, book.sheets.pop())
    write_checks(book, P, Xb, Yb, F, S.grads, step, every_entry(step))
    contents = [
        ("Parameters", "x, y, lr, W1, b1, W2, b2: the cells to edit"),
        ("Forward", "z1, h, z2, the softmax helpers m, e, s, p, and the loss L"),
        ("Short form", "dz2, dW2, W2^T, dh, the ReLU mask, dz1, dW1 (and db1, db2): backprop"),
        ("One weight", f"dL/dW1[{TRACED[0] + 1},{TRACED[1] + 1}] factor by factor, and the "
                       "loss before and after the step"),
        ("Update", "new W1, b1, W2, b2 = old - lr * gradient, and the loss with them"),
        ("Check", "backprop against central differences computed by formulas: PASS / FAIL"),
        ("Nudges", "the forward passes behind the central differences"),
    ]
    write_start(
        start, "One training step of a tiny network, every number a formula",
        "purenet: forward_and_short_form.xlsx",
        ["Follow one step of training: the forward pass from x to the loss L, backpropagation "
         "(the short form) from L back to every weight, and the update.",
         "Every computed cell is a formula of the cells it comes from.  Edit x, y, a weight or "
         "lr on sheet Parameters and the whole step recomputes - and so do the central "
         "differences on sheet Check, so every check still reads PASS.",
         "The numbers shown before any recalculation are the ones purenet computed in Python; "
         "tests/xlsx_recalc.py checks that LibreOffice recomputes the same."],
        contents, *network_diagram(Xb, P, F, step.traces[0], params), NAMES,
        settings_rows(settings, settings.batch))
    link_in_order(book)
    return book
