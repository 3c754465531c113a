"""long_form.xlsx: the chain rule as matrices, each product laid out beside its two factors.

    Start        what it is, the network as cells, how to read it, the names
    Parameters   one example's x, y, and W1, b1, W2, b2
    Forward      z1, h, z2, m, e, s, p, L
    Jacobians    every Jacobian of jacobian.py as a block: a row per entry of the numerator,
                 a column per entry of the denominator (row z2_1, column W2[1,3]: the entry
                 is dz2_1/dW2[1,3]); dp/dz2 built visibly as diag(p) - p p^T, with its
                 column sums (all 0); structural 0s and 1s white
    Chain        each product as on paper (Falk's scheme): the matrix on top, the row vector
                 to the left of the result, each result entry under the column it uses,
                 and under it the difference from the short form; one matrix x matrix
                 product, dp/dh = dp/dz2 . dz2/dh, and dL/dh again as dL/dp . dp/dh
    Short form   the same gradients the short way
    Gradients    the long form's gradients reshaped to the parameters' shapes, and
                 |long - short|

Every number is jacobian.long_form_one's (the Jacobians, the products it
chains, and the other bracketing dp/dh); diag(p) and p p^T are
matrix.diag's and matrix.outer's.  Matrices are flattened row by row:
column W2[a,j] of dz2/dW2 is the entry in row a, column j of W2, number
n_hidden (a - 1) + j counting from 1.
"""

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ...jacobian import long_form_one
from ...matrix import diag, msub, outer
from ..book import Book, Sheet
from ..cells import CHECK, INTEGER, JACOBIAN, SMALL, VALUE, Block, Formula, Ref
from .layout import corner, numbered, param_labels, write_data, write_parameters
from .numbers import PARAM_NAMES, Settings, as_rows, take_step, tiny_example
from .one_step import forward_sheet, settings_rows, short_form_sheet
from .start import link_in_order, network_diagram, write_start

NAMES = [("x, y, W1, b1, W2, b2", "x, y, W_1, b_1, W_2, b_2", "Parameters"),
         ("z1, h, z2, p, L", "z_1, h, z_2, p, L", "Forward"),
         ("dL/dp, dp/dz2, dz2/dW2, ...", "dL_dp, dp_dz2, dz2_dW2, dz2_db2, dz2_dh, dh_dz1, "
          "dz1_dW1, dz1_db1", "Jacobians"),
         ("diag(p), p p^T", "diag_p, ppT (and dp_dz2_sums)", "Jacobians"),
         ("dL/dz2, dL/dW2, ...", "dL_dz2, dL_dW2, dL_db2, dL_dh, dL_dz1, dL_dW1, dL_db1", "Chain"),
         ("dp/dh, dL/dp . dp/dh", "dp_dh, dL_dh_other", "Chain"),
         ("the factors' copies", "dL_dp_in_dL_dz2, dp_dz2_in_dL_dz2, ... (A_in_product)",
          "Chain"),
         ("long - short", "dL_dz2_minus_short, ...", "Chain"),
         ("dz2, dW2, ... (short)", "dz_2, dW_2, ...", "Short form"),
         ("dW1 long, |dW1 diff|", "dW_1_long, dW_1_diff, ..., largest_diff", "Gradients")]


def flat(name: str, rows: int, cols: int) -> List[str]:
    return [f"{name}[{a + 1},{j + 1}]" for a in range(rows) for j in range(cols)]


@dataclass
class Shown:
    """A Jacobian block and how its entries look: which are structural 0s and 1s (white,
    constants) and the number format."""
    block: Block
    structural: Callable[[int, int], bool]
    fmt: str = VALUE


def result_of(key: str) -> str:
    """What a product is: dL/dp . dp/dh is dL/dh, bracketed the other way."""
    return "dL/dh" if key == "dL/dp . dp/dh" else key


def name_of(key: str) -> str:
    """The defined name of a Jacobian or product: dz2/dW2 -> dz2_dW2."""
    return {"diag(p)": "diag_p", "p p^T": "ppT",
            "dL/dp . dp/dh": "dL_dh_other"}.get(key, key.replace("/", "_"))


def write_jacobians(sheet: Sheet, P, Xb, Yb, F, J, sizes, probs) -> Dict[str, Shown]:
    here = sheet.title
    n_in, n_hidden, n_out = sizes
    p = F.p
    shown: Dict[str, Shown] = {}

    def jac(key, title, example, note, rows, cols, formula, structural=None, fmt=VALUE,
            values=None):
        values = values if values is not None else J[key]
        structural = structural or (lambda i, j: False)

        def entry(i, j):
            if structural(i, j):
                return values[i][j]
            return Formula(formula(i, j), values[i][j])
        title = f"{key}  ({len(rows)} x {len(cols)}): {title}"
        where = f"\nRow {rows[0]}, column {cols[-1]}: the entry is {example}." if example else ""
        block = sheet.block(key, title, note + where, JACOBIAN, rows, cols, entry, name=name_of(key),
                            corner="d(row)/d(column)", structural=structural, fmt=fmt)
        shown[key] = Shown(block, structural, fmt)
        return block

    jac("dL/dp", "dL/dp_i = -y_i / p_i (0 where y_i = 0)", f"dL/dp_{n_out}",
        "L = -sum_i y_i ln p_i, so only the true class's entry is not 0.", ["L"],
        numbered("p", n_out),
        lambda _, i: f"=IF({Yb.at(here, 0, i)}=0,0,-{Yb.at(here, 0, i)}/{p.at(here, 0, i)})")
    sheet.heading("dp/dz2 = diag(p) - p p^T, built in three blocks")
    jac("diag(p)", "p on the diagonal, 0 elsewhere", "", "diag(p)[i,j] = p_i if i = j, else 0.",
        numbered("p", n_out), numbered("z2", n_out), lambda i, j: f"={p.at(here, 0, i)}",
        structural=lambda i, j: i != j, values=diag(probs))
    jac("p p^T", "the outer product: entry (i, j) is p_i p_j", "",
        "(p p^T)[i,j] = p_i p_j.", numbered("p", n_out), numbered("z2", n_out),
        lambda i, j: f"={p.at(here, 0, i)}*{p.at(here, 0, j)}", values=outer(probs, probs))
    D, O = shown["diag(p)"].block, shown["p p^T"].block
    dpdz2 = jac("dp/dz2", "diag(p) - p p^T: dp_i/dz2_j = p_i (delta_ij - p_j)",
                f"dp_1/dz2_{n_out}", "The softmax Jacobian: raising z2_j raises p_j and takes "
                "probability from the others.", numbered("p", n_out), numbered("z2", n_out),
                lambda i, j: f"={D.at(here, i, j)}-{O.at(here, i, j)}")
    sums = [sum(J["dp/dz2"][i][j] for i in range(n_out)) for j in range(n_out)]
    top = sheet.row
    col_sums = sheet.block(
        "column sums", "each column of dp/dz2 sums to 0: the p_i always sum to 1",
        "SUM of each column: 0 up to rounding (the check row reads PASS when |sum| <= 1e-12).",
        CHECK, ["sum", "check"], numbered("z2", n_out),
        lambda i, j: (Formula(f"=SUM({dpdz2.column(here, j)})", sums[j]) if i == 0 else
                      Formula(f'=IF(ABS({Ref(here, top + 2, 2 + j).a1})<=1E-12,"PASS","FAIL")',
                              "PASS" if abs(sums[j]) <= 1e-12 else "FAIL")),
        name="dp_dz2_sums", fmt=SMALL)
    sheet.verdict_colours(col_sums.row_area(1))
    sheet.heading("The linear layers' Jacobians: mostly structural 0s and 1s (white)")
    jac("dz2/dW2", "dz2_k/dW2[a,j] = h_j if a = k, else 0", f"dz2_1/dW2[{n_out},{n_hidden}]",
        "z2_k depends on row k of W2 only.  W2 is flattened row by row.",
        numbered("z2", n_out), flat("W2", n_out, n_hidden),
        lambda k, c: f"={F.h.at(here, 0, c % n_hidden)}",
        structural=lambda k, c: c // n_hidden != k)
    jac("dz2/db2", "the identity: z2_k = ... + b2_k", f"dz2_1/db2_{n_out}",
        "1 where the row and column match.", numbered("z2", n_out), numbered("b2", n_out),
        None, structural=lambda i, j: True, fmt=INTEGER)
    jac("dz2/dh", "dz2_k/dh_j = W2[k,j]: W2 itself", f"dz2_1/dh_{n_hidden}", "z2 = W2 h + b2.",
        numbered("z2", n_out), numbered("h", n_hidden), lambda k, j: f"={P.W2.at(here, k, j)}")
    jac("dh/dz1", "diag([z1 > 0]): dh_i/dz1_i = 1 if z1_i > 0, else 0", f"dh_1/dz1_{n_hidden}",
        "h_i = max(0, z1_i) depends on z1_i only.", numbered("h", n_hidden),
        numbered("z1", n_hidden), lambda i, j: f"=IF({F.z1.at(here, 0, i)}>0,1,0)",
        structural=lambda i, j: i != j, fmt=INTEGER)
    jac("dz1/dW1", "dz1_i/dW1[a,j] = x_j if a = i, else 0", f"dz1_1/dW1[{n_hidden},{n_in}]",
        "Mostly zeros: this is why the long form is slow.", numbered("z1", n_hidden),
        flat("W1", n_hidden, n_in), lambda i, c: f"={Xb.at(here, 0, c % n_in)}",
        structural=lambda i, c: c // n_in != i)
    jac("dz1/db1", "the identity: z1_i = ... + b1_i", f"dz1_1/db1_{n_hidden}",
        "1 where the row and column match.", numbered("z1", n_hidden),
        numbered("b1", n_hidden), None, structural=lambda i, j: True, fmt=INTEGER)
    return shown


def falk(sheet: Sheet, label: str, left: Shown, right: Shown, values, name: str,
         short: Optional[Callable[[int, int], Tuple[str, float]]],
         left_values, right_values) -> Shown:
    """result = left . right laid out as on paper: right (copied) on top, left (copied) to the
    left of the result, result entry (i, j) under column j and beside row i; under the
    result, its difference from the short form (short(i, j): its cell and value).

    Each result entry is written out, sum_k left[i,k] right[k,j], from the copies.
    """
    here = sheet.title
    L0, R0 = left.block, right.block
    n, m, q = L0.rows, L0.cols, R0.cols
    top = sheet.row
    c0 = m + 2                                     # the right factor's label column
    product = f"{result_of(label)} = {L0.label} . {R0.label}"
    sheet.text(top, 2, product, bold=True, size=12, fits=False)
    top += 1

    def copy(shown: Shown, values, origin, role):
        block = shown.block
        return sheet.block(
            block.label, f"the {role} factor, from sheet {block.sheet}",
            f"Each cell is INDEX of block {block.label} on sheet {block.sheet}.", JACOBIAN,
            block.row_labels, block.col_labels,
            lambda i, j: Formula(f"={block.at(here, i, j)}", values[i][j]),
            name=f"{name_of(block.label)}_in_{name}", corner="d(row)/d(column)",
            origin=origin, structural=shown.structural, fmt=shown.fmt)

    R = copy(right, right_values, (top, c0), "right")
    bottom = top + 2 + R0.rows + 1
    L = copy(left, left_values, (bottom, 1), "left")

    def entry(i: int, j: int) -> Formula:
        terms = [f"{L.ref(i, k).a1}*{R.ref(k, j).a1}" for k in range(m)]
        return Formula("=" + "+".join(terms), values[i][j])

    if n == 1:   # a row vector times a matrix: one index is enough
        rule, note = ("entry j = sum_k left[k] right[k,j]", "the row vector on the left")
    else:
        rule, note = ("entry (i, j) = sum_k left[i,k] right[k,j]", "row i of the left factor")
    result = sheet.block(label if label == result_of(label) else "dL/dh (other)",
                         f"{product}  ({n} x {q}): {rule}, under column j",
                         f"{label}: each entry is {note} times column j of the matrix above "
                         "it (jacobian.long_form_one).", JACOBIAN, L0.row_labels, R0.col_labels,
                         entry, name=name, corner="d(row)/d(column)", origin=(bottom, c0))
    if short is not None:
        diffs = [[values[i][j] - short(i, j)[1] for j in range(q)] for i in range(n)]
        sheet.block("long - short", "minus the short form (sheet Short form): 0 up to rounding",
                    "The long form reaches the same number another way (it multiplies by "
                    "structural 0s, and dL/dz2 is -y/p times p (delta - p), not p - y), so "
                    "the two agree up to rounding: with the default sizes and seed they differ "
                    "by at most 1.4e-17 (1.1e-16 in dL/dh (other), multiplied in another "
                    "order).", CHECK,
                    L0.row_labels, R0.col_labels,
                    lambda i, j: Formula(f"={result.ref(i, j).a1}-{short(i, j)[0]}", diffs[i][j]),
                    name=f"{name}_minus_short", fmt=SMALL, origin=(bottom + 2 + n + 1, c0))
    sheet.row = max(sheet.row, bottom + 2 + n + 2) + 1
    return Shown(result, lambda i, j: False)


def long_form(settings: Settings) -> Book:
    params, X, Y = tiny_example(settings)
    step = take_step(params, X[:1], Y[:1], settings.lr)
    t = step.traces[0]
    lf = long_form_one(params, t)
    J = lf.jacobians
    book = Book("purenet: backpropagation, long form")
    start = book.sheet("Start")
    sheet = book.sheet("Parameters")
    sheet.header("Parameters: one example and the network's weights",
                 "Inputs (yellow) and parameters (blue): type over any of them.", home="Start")
    Xb, Yb = write_data(sheet, step.X, step.Y)
    P = write_parameters(sheet, params)
    F = forward_sheet(book, P, Xb, Yb, step)
    sheet = book.sheet("Jacobians")
    sheet.header("Jacobians: dA/dB has one row per entry of A, one column per entry of B",
                 "Row z2_1 and column W2[1,3]: the entry is dz2_1/dW2[1,3], how z2_1 moves "
                 "with W2[1,3].  White 0s and 1s are structural.", home="Start")
    chain = write_jacobians(sheet, P, Xb, Yb, F, J, params.sizes, t.p)
    S = chain_sheet(book, P, Xb, Yb, F, step, J, chain)
    gradients_sheet(book, chain, S, lf, step)
    contents = [("Parameters", "x, y, W1, b1, W2, b2 of one example"),
                ("Forward", "z1, h, z2, m, e, s, p, L"),
                ("Jacobians", "dL/dp, dp/dz2 = diag(p) - p p^T, dz2/dW2, dz2/db2, dz2/dh, "
                              "dh/dz1, dz1/dW1, dz1/db1"),
                ("Chain", "each product beside its factors, and its difference from the short "
                          "form; dp/dh, a matrix times a matrix"),
                ("Short form", "the same gradients the short way"),
                ("Gradients", "the long form's gradients reshaped, and |long - short|")]
    write_start(
        start, "Backpropagation the long way: every Jacobian, multiplied out",
        "purenet: long_form.xlsx",
        ["The chain rule as matrices: each Jacobian dA/dB (one row per entry of A, one column "
         "per entry of B) is built in full on sheet Jacobians, then sheet Chain multiplies "
         "them from dL/dp down to dL/dW1, each product laid out as on paper: the matrix on "
         "top, the row vector to its left, the result under the matrix.",
         "It gives the short form's gradients (up to the last bits), at the cost of huge, "
         "mostly-zero matrices: dz1/dW1 has n_hidden x n_hidden n_in entries.",
         "One example: the first of forward_and_short_form.xlsx's mini-batch.  Edit x, y or a "
         "weight on sheet Parameters and every Jacobian and product recomputes."],
        contents, *network_diagram(Xb, P, F, t, params), NAMES, settings_rows(settings, 1),
        extra=["A matrix is flattened row by row: column W1[a,j] of dz1/dW1 is the entry in "
               "row a, column j of W1, number n_in (a - 1) + j counting from 1."])
    link_in_order(book)
    return book


def chain_sheet(book: Book, P, Xb, Yb, F, step, J, chain: Dict[str, Shown]):
    """Sheet Chain (each product of the chain, and the other bracketing), and sheet Short
    form after it; returns the short form's blocks."""
    sheet = book.sheet("Chain")
    S = short_form_sheet(book, P, Xb, Yb, F, step)
    here = sheet.title
    sheet.header("Chain: each product beside its two factors, as on paper",
                 "The matrix on top, the row vector to the left of the result: result entry j "
                 "is the row vector times the column above it.", home="Start")
    n_in, n_hidden, n_out = step.params.sizes
    g = step.per_example[0]
    short = {
        "dL/dz2": lambda i, j: (S.dz2.at(here, 0, j), g.dz2[j]),
        "dL/dW2": lambda i, j: (S.grads.W2.at(here, j // n_hidden, j % n_hidden),
                                g.dW2[j // n_hidden][j % n_hidden]),
        "dL/db2": lambda i, j: (S.grads.b2.at(here, 0, j), g.db2[j]),
        "dL/dh": lambda i, j: (S.dh.at(here, 0, j), g.dh[j]),
        "dL/dz1": lambda i, j: (S.dz1.at(here, 0, j), g.dz1[j]),
        "dL/dW1": lambda i, j: (S.grads.W1.at(here, j // n_in, j % n_in),
                                g.dW1[j // n_in][j % n_in]),
        "dL/db1": lambda i, j: (S.grads.b1.at(here, 0, j), g.db1[j]),
    }
    short["dL/dp . dp/dh"] = short["dL/dh"]
    products = [("dL/dz2", "dL/dp", "dp/dz2"), ("dL/dW2", "dL/dz2", "dz2/dW2"),
                ("dL/db2", "dL/dz2", "dz2/db2"), ("dL/dh", "dL/dz2", "dz2/dh"),
                ("dp/dh", "dp/dz2", "dz2/dh"), ("dL/dp . dp/dh", "dL/dp", "dp/dh"),
                ("dL/dz1", "dL/dh", "dh/dz1"), ("dL/dW1", "dL/dz1", "dz1/dW1"),
                ("dL/db1", "dL/dz1", "dz1/db1")]
    for label, left, right in products:
        if label == "dp/dh":
            sheet.line("The same chain bracketed the other way: a matrix times a matrix first, "
                       "dp/dh = dp/dz2 . dz2/dh, then dL/dp . dp/dh is dL/dh again.")
            sheet.skip()
        chain[label] = falk(sheet, label, chain[left], chain[right], J[label], name_of(label),
                            short.get(label), J[left], J[right])
    sheet.fit_to_page(wide=1, tall=0, landscape=False)
    return S


def gradients_sheet(book: Book, chain, S, lf, step) -> None:
    sheet = book.sheet("Gradients")
    here = sheet.title
    sheet.header("Gradients: the long form reshaped to the parameters, and |long - short|",
                 "dW1[i,j] is entry n_in (i - 1) + j of dL/dW1 (flattened row by row, from 1).",
                 home="Start")
    diffs_all, diff_blocks = [], []
    for name in PARAM_NAMES:
        values = as_rows(getattr(lf.grads, name))
        cols = len(values[0])
        rows, col_labels = param_labels(name, step.params.sizes, f"d{name}")
        flat_block = chain[f"dL/d{name}"].block
        long_block = sheet.block(
            f"d{name} long", f"dL/d{name} reshaped to the shape of {name}",
            f"Entry (i, j) is entry {cols} (i - 1) + j of the 1-row dL/d{name} (Chain)."
            if len(values) > 1 else f"The 1-row dL/d{name} of sheet Chain, entry by entry.",
            JACOBIAN, rows, col_labels,
            lambda i, j, fb=flat_block, cols=cols, values=values:
                Formula(f"={fb.at(here, 0, i * cols + j)}", values[i][j]),
            name=f"d{name[0]}_{name[1]}_long", corner=corner(name, "d"),
            heatmap=name in ("W1", "W2"))
        short = as_rows(getattr(step.grads, name))
        diffs = [[abs(d) for d in row] for row in msub(values, short)]   # msub: shapes agree
        diffs_all.append(max(max(r) for r in diffs))
        diff_blocks.append(sheet.block(
            f"|d{name} diff|", f"|long form - short form| for d{name}", "0 up to rounding.",
            CHECK, rows, col_labels,
            lambda i, j, lb=long_block, name=name, diffs=diffs: Formula(
                f"=ABS({lb.at(here, i, j)}-{S.grads.get(name).at(here, i, j)})", diffs[i][j]),
            name=f"d{name[0]}_{name[1]}_diff", corner=corner(name, "d"), fmt=SMALL))
    largest = max(diffs_all)
    block = sheet.block("max", "the largest |long form - short form|, and the check",
                        "PASS when it is at most 1e-12.", CHECK, ["largest"], ["value", "check"],
                        lambda i, j: [Formula("=MAX(" + ",".join(
                            b.area().a1 for b in diff_blocks) + ")", largest),
                            Formula(f'=IF(B{sheet.row + 2}<=1E-12,"PASS","FAIL")',
                                    "PASS" if largest <= 1e-12 else "FAIL")][j],
                        name="largest_diff", fmt=SMALL)
    sheet.verdict_colours(block.column_area(1))

