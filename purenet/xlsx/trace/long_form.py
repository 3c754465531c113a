"""long_form.xlsx: the chain rule as matrices, each product laid out beside its two factors.

    Start        what it is, how to read it, the names
    Parameters   one example's x, y, and W1, b1, W2, b2
    Forward      z1, h, z2, m, e, s, p, L
    Jacobians    every Jacobian of jacobian.py as a block: a row per entry of the numerator,
                 a column per entry of the denominator (corner: d(row) / d(column));
                 dp/dz2 built visibly as diag(p) - p p^T, with its column sums (all 0)
    Chain        each product as on paper (Falk's scheme): the matrix on top, the row vector
                 to the left of the result, each result entry under the column it uses,
                 and beside it the difference from the short form; one matrix x matrix
                 product, dp/dh = dp/dz2 . dz2/dh, and the other bracketing of dL/dh
    Short form   the same gradients the short way
    Gradients    the long form's gradients reshaped to the parameters' shapes, and
                 |long - short|

Every number is jacobian.long_form_one's (the Jacobians and the products
it chains), or the product of two of its matrices by matrix.matmul (dp/dh).
Matrices are flattened row by row: column (a, j) of dz1/dW1 is W1[a,j].
"""

from typing import Callable, Dict, List, Optional, Tuple

from ...jacobian import long_form_one
from ...matrix import matmul
from ..book import Book, Sheet
from ..cells import CHECK, INTEGER, JACOBIAN, SMALL, VALUE, Block, Formula, Ref
from .layout import numbered, write_data, write_parameters
from .numbers import PARAM_NAMES, Settings, take_step, tiny_example
from .one_step import forward_sheet, settings_rows, short_form_sheet
from .start import diagram, link_in_order, write_start

NAMES = [("x, y, W1, b1, W2, b2", "x, y, W_1, b_1, W_2, b_2", "Parameters"),
         ("z1, h, z2, p, L", "z_1, h, z_2, p, L", "Forward"),
         ("dL/dp, dp/dz2, dz2/dW2 ...", "dL_dp, dp_dz2, dz2_dW2, dz2_db2, dz2_dh, dh_dz1, "
          "dz1_dW1, dz1_db1", "Jacobians"),
         ("diag(p), p p^T", "diag_p, ppT", "Jacobians"),
         ("dL/dz2, dL/dW2, ...", "dL_dz2, dL_dW2, dL_db2, dL_dh, dL_dz1, dL_dW1, dL_db1", "Chain"),
         ("dp/dh", "dp_dh", "Chain"), ("dz2, dW2, ... (short)", "dz_2, dW_2, ...", "Short form")]


def flat(name: str, rows: int, cols: int) -> List[str]:
    return [f"{name}[{a + 1},{j + 1}]" for a in range(rows) for j in range(cols)]


def write_jacobians(sheet: Sheet, P, Xb, Yb, F, J, sizes, probs) -> Dict[str, Block]:
    here = sheet.title
    n_in, n_hidden, n_out = sizes
    p = F.p
    blocks: Dict[str, Block] = {}

    def jac(key, title, note, rows, cols, formula, structural=None, fmt=VALUE, values=None):
        values = values if values is not None else J[key]
        structural = structural or (lambda i, j: False)

        def entry(i, j):
            if structural(i, j):
                return values[i][j]
            return Formula(formula(i, j), values[i][j])
        shape = f"{len(rows)} x {len(cols)}"
        blocks[key] = sheet.block(key, f"{key}  ({shape}): {title}", note, JACOBIAN, rows, cols,
                                  entry, name={"diag(p)": "diag_p", "p p^T": "ppT"}.get(key, key.replace("/", "_")),
                                  corner="d(row) / d(column)", structural=structural, fmt=fmt)
        return blocks[key]

    jac("dL/dp", "dL/dp_i = -y_i / p_i (0 where y_i = 0)", "L = -sum_i y_i ln p_i, so only the "
        "true class's entry is not 0.", ["L"], numbered("p", n_out),
        lambda _, i: f"=IF({Yb.at(here, 0, i)}=0,0,-{Yb.at(here, 0, i)}/{p.at(here, 0, i)})")
    diag_values = [[probs[i] if i == j else 0.0 for j in range(n_out)] for i in range(n_out)]
    outer_values = [[probs[i] * probs[j] for j in range(n_out)] for i in range(n_out)]
    sheet.heading("dp/dz2 = diag(p) - p p^T, built in three blocks")
    jac("diag(p)", "p on the diagonal, 0 elsewhere", "diag(p)[i,j] = p_i if i = j, else 0.",
        numbered("p", n_out), numbered("z2", n_out), lambda i, j: f"={p.at(here, 0, i)}",
        structural=lambda i, j: i != j, values=diag_values)
    jac("p p^T", "the outer product: p_i p_j", "(p p^T)[i,j] = p_i p_j.", numbered("p", n_out),
        numbered("z2", n_out), lambda i, j: f"={p.at(here, 0, i)}*{p.at(here, 0, j)}",
        values=outer_values)
    blocks["ppT"] = blocks.pop("p p^T")
    jac("dp/dz2", "diag(p) - p p^T: dp_i / dz2_j = p_i (delta_ij - p_j)",
        "The softmax Jacobian: raising z2_j raises p_j and takes probability from the others.",
        numbered("p", n_out), numbered("z2", n_out),
        lambda i, j: f"={blocks['diag(p)'].at(here, i, j)}-{blocks['ppT'].at(here, i, j)}")
    sums = [sum(J["dp/dz2"][i][j] for i in range(n_out)) for j in range(n_out)]
    col_sums = sheet.block(
        "column sums", "each column of dp/dz2 sums to 0: the p_i always sum to 1",
        "SUM of each column: 0 up to rounding (the PASS row checks |sum| <= 1e-12).", CHECK,
        ["sum", "check"], numbered("z2", n_out),
        lambda i, j: (Formula(f"=SUM({blocks['dp/dz2'].column(here, j)})", sums[j])
                      if i == 0 else Formula(f'=IF(ABS({Ref(here, sheet.row + 2, 2 + j).a1})'
                                             f'<=1E-12,"PASS","FAIL")',
                                             "PASS" if abs(sums[j]) <= 1e-12 else "FAIL")),
        fmt=SMALL)
    sheet.verdict_colours(col_sums.row_area(1))
    sheet.heading("The linear layers' Jacobians: mostly structural 0s and 1s (white)")
    jac("dz2/dW2", "dz2_k / dW2[a,j] = h_j if a = k, else 0", "z2_k depends on row k of W2 "
        "only.  W2 is flattened row by row.", numbered("z2", n_out), flat("W2", n_out, n_hidden),
        lambda k, c: f"={F.h.at(here, 0, c % n_hidden)}",
        structural=lambda k, c: c // n_hidden != k)
    jac("dz2/db2", "the identity: z2_k = ... + b2_k", "1 where the row and column match.",
        numbered("z2", n_out), numbered("b2", n_out), None, structural=lambda i, j: True,
        fmt=INTEGER)
    jac("dz2/dh", "dz2_k / dh_j = W2[k,j]: W2 itself", "z2 = W2 h + b2.", numbered("z2", n_out),
        numbered("h", n_hidden), lambda k, j: f"={P.W2.at(here, k, j)}")
    jac("dh/dz1", "diag([z1 > 0]): dh_i / dz1_i = 1 if z1_i > 0, else 0",
        "h_i = max(0, z1_i) depends on z1_i only.", numbered("h", n_hidden),
        numbered("z1", n_hidden), lambda i, j: f"=IF({F.z1.at(here, 0, i)}>0,1,0)",
        structural=lambda i, j: i != j, fmt=INTEGER)
    jac("dz1/dW1", "dz1_i / dW1[a,j] = x_j if a = i, else 0", "Mostly zeros: this is why the "
        "long form is slow.", numbered("z1", n_hidden), flat("W1", n_hidden, n_in),
        lambda i, c: f"={Xb.at(here, 0, c % n_in)}", structural=lambda i, c: c // n_in != i)
    jac("dz1/db1", "the identity: z1_i = ... + b1_i", "1 where the row and column match.",
        numbered("z1", n_hidden), numbered("b1", n_hidden), None,
        structural=lambda i, j: True, fmt=INTEGER)
    return blocks


def falk(sheet: Sheet, label: str, left: Block, right: Block, values, name: str,
         short: Optional[Callable[[int, int], Tuple[str, float]]] = None,
         left_values=None, right_values=None) -> Block:
    """result = left . right laid out as on paper: right (copied) on top, left (copied) to the
    left of the result, result entry (i, j) under column j and beside row i.

    Each result entry is written out, sum_k left[i,k] right[k,j], from the copies on this
    sheet; short(i, j) gives the short form's cell and value to subtract, if any.
    """
    here = sheet.title
    n, m, q = left.rows, left.cols, right.cols
    top = sheet.row
    c0 = m + 2                                     # the matrix's label column
    sheet.text(top, 2, f"{label} = {left.label} . {right.label}", bold=True, size=12,
               fits=False)
    top += 1
    R = sheet.block(right.label, f"{right.label}, copied from sheet {right.sheet}",
                    "Each cell is INDEX of the block on its sheet.", JACOBIAN,
                    right.row_labels, right.col_labels,
                    lambda k, j: (Formula(f"={right.at(here, k, j)}", right_values[k][j])),
                    corner="d(row) / d(column)", origin=(top, c0))
    bottom = top + 2 + right.rows + 1
    L = sheet.block(left.label, f"{left.label}, copied", "The left factor.", JACOBIAN,
                    left.row_labels, left.col_labels,
                    lambda i, k: Formula(f"={left.at(here, i, k)}", left_values[i][k]),
                    corner=left.row_labels[0] if n == 1 else "", origin=(bottom, 1))

    def entry(i: int, j: int) -> Formula:
        terms = [f"{L.ref(i, k).a1}*{R.ref(k, j).a1}" for k in range(m)]
        return Formula("=" + "+".join(terms), values[i][j])

    result = sheet.block(label, f"{label} = {left.label} . {right.label}  ({n} x {q}): "
                         "entry (i, j) = sum_k left[i,k] right[k,j], under column j",
                         f"{label}: each entry is row i of the left factor times column j "
                         "of the matrix above it (jacobian.long_form_one).", JACOBIAN,
                         left.row_labels, right.col_labels, entry, name=name,
                         corner="d(row) / d(column)", origin=(bottom, c0))
    if short is not None:
        diffs = [[values[i][j] - short(i, j)[1] for j in range(q)] for i in range(n)]
        sheet.block("long - short", "minus the short form (sheet Short form): 0",
                    "The long form and the short form add the same products; the difference "
                    "is 0, or 1e-17 where they round differently.", CHECK, left.row_labels,
                    right.col_labels,
                    lambda i, j: Formula(f"={result.ref(i, j).a1}-{short(i, j)[0]}", diffs[i][j]),
                    fmt=SMALL, origin=(bottom + 2 + n + 1, c0))
    sheet.row = max(sheet.row, bottom + 2 + n + 2) + 1
    return result


def long_form(settings: Settings) -> Book:
    params, X, Y = tiny_example(settings)
    step = take_step(params, X[:1], Y[:1], settings.lr)
    t = step.traces[0]
    lf = long_form_one(params, t)
    J = dict(lf.jacobians)
    J["dp/dh"] = matmul(J["dp/dz2"], J["dz2/dh"])
    J["dL/dh via dp/dh"] = matmul(J["dL/dp"], J["dp/dh"])
    book = Book("purenet: backpropagation, long form")
    contents = [("Parameters", "x, y, W1, b1, W2, b2 of one example"),
                ("Forward", "z1, h, z2, m, e, s, p, L"),
                ("Jacobians", "dL/dp, dp/dz2 = diag(p) - p p^T, dz2/dW2, dz2/db2, dz2/dh, "
                              "dh/dz1, dz1/dW1, dz1/db1"),
                ("Chain", "each product beside its factors, and its difference from the short "
                          "form"),
                ("Short form", "the same gradients the short way"),
                ("Gradients", "the long form's gradients reshaped, and |long - short|")]
    start = write_start(
        book, "Backpropagation the long way: every Jacobian, multiplied out",
        "purenet: long_form.xlsx",
        ["The chain rule as matrices: each Jacobian dA/dB (one row per entry of A, one column "
         "per entry of B) is built in full, then chained by products from dL/dp down to "
         "dL/dW1, each laid out as on paper.",
         "It gives exactly the short form's gradients, at the cost of huge, mostly-zero "
         "matrices (dz1/dW1 has n_hidden x n_hidden x n_in entries).",
         "One example: the first of forward_and_short_form.xlsx's mini-batch.  Matrices are "
         "flattened row by row: column W1[a,j] of dz1/dW1 is the entry in row a, column j."],
        settings_rows(settings, 1), NAMES, contents,
        extra=["In a Jacobian block the row label is the numerator and the column label the "
               "denominator: row z2_1, column W2[1,3] holds d z2_1 / d W2[1,3].  White 0s and "
               "1s are structural: they hold whatever the numbers are."])
    sheet = book.sheet("Parameters")
    sheet.header("Parameters: one example and the network's weights",
                 "Inputs (yellow) and parameters (blue): type over any of them.", home="Start")
    Xb, Yb = write_data(sheet, step.X, step.Y)
    P = write_parameters(sheet, params)
    F = forward_sheet(book, P, Xb, Yb, step)
    sheet = book.sheet("Jacobians")
    sheet.header("Jacobians: dA/dB has one row per entry of A, one column per entry of B",
                 "Row z2_1 and column W2[1,3]: the entry is d z2_1 / d W2[1,3].", home="Start")
    Jb = write_jacobians(sheet, P, Xb, Yb, F, J, params.sizes, t.p)
    chain_sheet = book.sheet("Chain")
    S = short_form_sheet(book, P, Xb, Yb, F, step)
    here = chain_sheet.title
    chain_sheet.header("Chain: each product beside its two factors, as on paper",
                       "The matrix on top, the row vector to the left of the result: result "
                       "entry j is the row vector times the column above it.", home="Start")
    n_in, n_hidden, n_out = params.sizes
    g = step.per_example[0]
    short = {
        "dL/dz2": lambda i, j: (S.dz2.at(here, 0, j), g.dz2[j]),
        "dL/dW2": lambda i, j: (S.grads.W2.at(here, j // n_hidden, j % n_hidden),
                                g.dW2[j // n_hidden][j % n_hidden]),
        "dL/db2": lambda i, j: (S.grads.b2.at(here, 0, j), g.db2[j]),
        "dL/dh": lambda i, j: (S.dh.at(here, 0, j), g.dh[j]),
        "dL/dz1": lambda i, j: (S.dz1.at(here, 0, j), g.dz1[j]),
        "dL/dW1": lambda i, j: (S.grads.W1.at(here, j // n_in, j % n_in), g.dW1[j // n_in][j % n_in]),
        "dL/db1": lambda i, j: (S.grads.b1.at(here, 0, j), g.db1[j]),
    }
    chain: Dict[str, Block] = dict(Jb)
    products = [("dL/dz2", "dL/dp", "dp/dz2"), ("dL/dW2", "dL/dz2", "dz2/dW2"),
                ("dL/db2", "dL/dz2", "dz2/db2"), ("dL/dh", "dL/dz2", "dz2/dh"),
                ("dp/dh", "dp/dz2", "dz2/dh"), ("dL/dh via dp/dh", "dL/dp", "dp/dh"),
                ("dL/dz1", "dL/dh", "dh/dz1"), ("dL/dW1", "dL/dz1", "dz1/dW1"),
                ("dL/db1", "dL/dz1", "dz1/db1")]
    for label, left, right in products:
        name = label.split(" ")[0].replace("/", "_") + ("_2" if "via" in label else "")
        if label == "dp/dh":
            chain_sheet.line("The same chain bracketed the other way: a matrix x matrix product "
                             "first, dp/dh = dp/dz2 . dz2/dh, then dL/dh = dL/dp . dp/dh.")
            chain_sheet.skip()
        fn = short.get(label) or (short["dL/dh"] if "via" in label else None)
        chain[label] = falk(chain_sheet, label, chain[left], chain[right], J[label], name, fn,
                            J[left], J[right])
    chain_sheet.fit_to_page(wide=1, tall=0, landscape=False)
    gradients_sheet(book, chain, S, lf, step)
    diagram(start, [("x", Xb, t.x), ("h", F.h, t.h), ("p", F.p, t.p)],
            ["W1, b1: z1 = W1 x + b1, h = relu(z1)", "W2, b2: z2 = W2 h + b2, p = softmax(z2)"])
    link_in_order(book)
    return book


def gradients_sheet(book: Book, chain, S, lf, step) -> None:
    sheet = book.sheet("Gradients")
    here = sheet.title
    sheet.header("Gradients: the long form reshaped to the parameters, and |long - short|",
                 "dW1[i,j] is entry n_in (i - 1) + j of dL/dW1 (flattened row by row, from 1).",
                 home="Start")
    from .layout import corner, param_labels
    from .numbers import as_rows
    diffs_all, diff_blocks = [], []
    for name in PARAM_NAMES:
        values = as_rows(getattr(lf.grads, name))
        cols = len(values[0])
        rows, col_labels = param_labels(name, step.params.sizes, f"d{name}")
        flat_block = chain[f"dL/d{name}"]
        long_block = sheet.block(
            f"d{name} long", f"dL/d{name} reshaped to the shape of {name}",
            f"Entry (i, j) is entry {cols} (i - 1) + j of the 1-row dL/d{name} (Chain).",
            JACOBIAN, rows, col_labels,
            lambda i, j, fb=flat_block, cols=cols, values=values:
                Formula(f"={fb.at(here, 0, i * cols + j)}", values[i][j]),
            corner=corner(name, "d"), heatmap=name in ("W1", "W2"))
        short = as_rows(getattr(step.grads, name))
        diffs = [[abs(a - b) for a, b in zip(ra, rb)] for ra, rb in zip(values, short)]
        diffs_all.append(max(max(r) for r in diffs))
        diff_blocks.append(sheet.block(
            f"|d{name} diff|", f"|long form - short form| for d{name}", "0 up to rounding.",
            CHECK, rows, col_labels,
            lambda i, j, lb=long_block, name=name, diffs=diffs: Formula(
                f"=ABS({lb.at(here, i, j)}-{S.grads.get(name).at(here, i, j)})", diffs[i][j]),
            corner=corner(name, "d"), fmt=SMALL))
    largest = max(diffs_all)
    block = sheet.block("max", "the largest |long form - short form|, and the check",
                        "PASS when it is at most 1e-12.", CHECK, ["largest"], ["value", "check"],
                        lambda i, j: [Formula("=MAX(" + ",".join(
                            b.area().a1 for b in diff_blocks) + ")", largest),
                            Formula(f'=IF(B{sheet.row + 2}<=1E-12,"PASS","FAIL")',
                                    "PASS" if largest <= 1e-12 else "FAIL")][j],
                        fmt=SMALL)
    sheet.verdict_colours(block.column_area(1))

