"""The blocks every trace workbook shares: data, parameters, forward pass, short form, update.

Each example's vectors are one row of their block, so a mini-batch of B
examples is a block of B rows, and INDEX(x,b,0) is example b's x.  The
parameters are laid out as the matrices they are, W1[i,j] in row i,
column j, counted from 1.  Every derived cell is a formula of named blocks:

    z1 = W1 x + b1      z1_i = SUMPRODUCT(INDEX(W_1,i,0),x) + INDEX(b_1,i)
    h = relu(z1)        h_i  = MAX(0,INDEX(z_1,i))
    z2 = W2 h + b2      z2_k = SUMPRODUCT(INDEX(W_2,k,0),h) + INDEX(b_2,k)
    p = softmax(z2)     m = MAX(z_2),  e_k = EXP(INDEX(z_2,k)-m),  s = SUM(e),  p_k = e_k/s
    L                   L = m + LN(s) - SUMPRODUCT(y,z_2)    (= -ln p_true, as network.py)
    dz2 = p - y         dW2[k,j] = dz2_k h_j,  db2 = dz2
    dh = W2^T dz2       W2^T written out (block W_2T), dh_j = SUMPRODUCT(INDEX(W_2T,j,0),dz_2)
    ReLU mask           [z1 > 0]_i = IF(z1_i>0,1,0)
    dz1 = dh * mask     dW1[i,j] = dz1_i x_j,  db1 = dz1
    batch mean          dW1 = (dW1 (ex. 1) + ... + dW1 (ex. B)) / B, and so on
    update              new W1 = W1 - lr * dW1, and so on

(with INDEX(...,b,...) for example b when B > 1).  The cached value of
every formula is the number network.py computed (numbers.py).
"""

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from ...matrix import transpose
from ...network import Params, Sizes, relu_step, softmax_parts
from ..book import Sheet
from ..cells import (GRADIENT, INPUT, INTEGER, INTERMEDIATE, PARAMETER, UPDATE, Block, Formula,
                     symbol_name)
from .numbers import PARAM_NAMES, Step, as_rows


# --- labels ------------------------------------------------------------------------------

def numbered(symbol: str, n: int, digits: bool = False) -> List[str]:
    """symbol_1 ... symbol_n, or for the 10 digit classes symbol(0) ... symbol(9)."""
    if digits:
        return [f"{symbol}(digit {k})" for k in range(n)]
    return [f"{symbol}_{k + 1}" for k in range(n)]


def examples(batch: int) -> List[str]:
    return [f"example {b + 1}" for b in range(batch)]


WEIGHT_INDICES = {"W1": ("i", "j"), "W2": ("k", "j")}


def weight_labels(name: str, sizes: Sizes, digits: bool = False) -> Tuple[List[str], List[str]]:
    """Row and column labels of W1 or W2 (and their gradients): 'i=2 (z1_2)', 'j=3 (x_3)'."""
    n_in, n_hidden, n_out = sizes
    into, source, rows, cols = (("z1", "x", n_hidden, n_in) if name == "W1"
                                else ("z2", "h", n_out, n_hidden))
    row, col = WEIGHT_INDICES[name]
    row_labels = [f"{row}={i + 1} ({into}_{i + 1})" for i in range(rows)]
    if digits and name == "W2":
        row_labels = [f"{row}={i + 1} (digit {i})" for i in range(rows)]
    return row_labels, [f"{col}={j + 1} ({source}_{j + 1})" for j in range(cols)]


def corner(name: str, prefix: str = "") -> str:
    if name not in WEIGHT_INDICES:
        return ""
    row, col = WEIGHT_INDICES[name]
    return f"{prefix}{name}[{row},{col}]"


def param_labels(name: str, sizes: Sizes, row: str, digits: bool = False
                 ) -> Tuple[List[str], List[str]]:
    if name in ("W1", "W2"):
        return weight_labels(name, sizes, digits)
    _, n_hidden, n_out = sizes
    if name == "b2":
        return [row], numbered("b2", n_out, digits)
    return [row], numbered("b1", n_hidden)


def copy_of(sheet: Sheet, block: Block, i: int, j: int, value: float) -> Formula:
    return Formula(f"={block.at(sheet.title, i, j)}", value)


# --- blocks ------------------------------------------------------------------------------

@dataclass
class ParamBlocks:
    W1: Block
    b1: Block
    W2: Block
    b2: Block

    def get(self, name: str) -> Block:
        return getattr(self, name)


@dataclass
class ForwardBlocks:
    z1: Block
    h: Block
    z2: Block
    m: Block
    e: Block
    s: Block
    p: Block
    L: Block
    loss: Block       # the mini-batch loss (L itself for one example)


@dataclass
class ShortFormBlocks:
    dz2: Block
    W2T: Block
    dh: Block
    mask: Block
    dz1: Block
    per_example: List[ParamBlocks]
    grads: ParamBlocks


def write_data(sheet: Sheet, X, Y, digits: bool = False,
               x_source: Optional[Callable[[int, int], str]] = None) -> Tuple[Block, Block]:
    """The x and y blocks (names x, y), one row per example; x_source makes x formulas."""
    B, n_in, n_out = len(X), len(X[0]), len(Y[0])

    def x_entry(b: int, j: int):
        return X[b][j] if x_source is None else Formula(f"={x_source(b, j)}", X[b][j])

    Xb = sheet.block("x", f"x: the input, {n_in} numbers per example (one row each)",
                     "The maths writes vectors as columns; here each example's vector is one "
                     "row: INDEX(x,b,0) is example b's x.\nType over an x to try another input: "
                     "every cell that depends on it recomputes, and the checks stay PASS.",
                     INPUT, examples(B), numbered("x", n_in), x_entry, name="x")
    Yb = sheet.block("y", "y: the target, one-hot: y_k = 1 for the true class k, 0 for the others",
                     "y enters the loss L and dz2 = p - y.  Move the 1 to change the class.",
                     INPUT, examples(B), numbered("y", n_out, digits), lambda b, k: Y[b][k],
                     name="y", fmt=INTEGER)
    return Xb, Yb


def write_scalar(sheet: Sheet, name: str, title: str, note: str, value: float,
                 origin: Optional[Tuple[int, int]] = None, local: bool = False) -> Block:
    return sheet.block(name, title, note, PARAMETER, [name], ["value"], lambda i, j: value,
                       name=name, origin=origin, local=local)


def write_lr(sheet: Sheet, lr: float) -> Block:
    return write_scalar(sheet, "lr", "lr: the learning rate, in  theta <- theta - lr * dL/dtheta",
                        "How far one step moves each parameter against its gradient.", lr)


MEANING = {
    "W1": ("W1: first-layer weights, n_hidden x n_in = {h} x {i}",
           "W1[i,j] is the weight from x_j into z1_i: z1_i = sum_j W1[i,j] x_j + b1_i.",
           "He initialisation: normal, mean 0, standard deviation sqrt(2 / n_in) "
           "(network.he_init)."),
    "b1": ("b1: first-layer biases, one per hidden unit", "b1_i is added to z1_i.",
           "0 (network.he_init)."),
    "W2": ("W2: second-layer weights, n_out x n_hidden = {o} x {h}",
           "W2[k,j] is the weight from h_j into z2_k: z2_k = sum_j W2[k,j] h_j + b2_k.",
           "He initialisation: normal, mean 0, standard deviation sqrt(2 / n_hidden) "
           "(network.he_init)."),
    "b2": ("b2: second-layer biases, one per class", "b2_k is added to z2_k.",
           "0 (network.he_init)."),
}


def write_parameters(sheet: Sheet, params: Params, source: Optional[ParamBlocks] = None,
                     source_name: str = "", local: bool = False, name_suffix: str = "",
                     digits: bool = False) -> ParamBlocks:
    """W1, b1, W2, b2 as values, or as copies of `source` (the step before's new parameters)."""
    n_in, n_hidden, n_out = params.sizes
    blocks = {}
    for name in PARAM_NAMES:
        values = as_rows(getattr(params, name))
        rows, cols = param_labels(name, params.sizes, name, digits)
        title, note, start = MEANING[name]
        title = title.format(i=n_in, h=n_hidden, o=n_out)
        if source is None:
            note += f"\nStarting value: {start}"
            entry = (lambda i, j, values=values: values[i][j])
        else:
            title += f", from {source_name}"
            note += f"\nEach cell is the new {name} of {source_name}."
            entry = (lambda i, j, name=name, values=values:
                     copy_of(sheet, source.get(name), i, j, values[i][j]))
        blocks[name] = sheet.block(name, title, note, PARAMETER, rows, cols, entry,
                                   name=symbol_name(name) + name_suffix,
                                   local=local, corner=corner(name),
                                   heatmap=name in ("W1", "W2"))
    return ParamBlocks(**blocks)


def write_forward(sheet: Sheet, P: ParamBlocks, Xb: Block, Yb: Block, traces, loss: float,
                  local: bool = False, suffix: str = "", digits: bool = False) -> ForwardBlocks:
    """z1, h, z2, m, e, s, p, L of each example, and the mini-batch's L."""
    here = sheet.title
    B = len(traces)
    n_hidden, n_out = len(traces[0].z1), len(traces[0].z2)
    parts = [softmax_parts(t.z2) for t in traces]
    rows = examples(B)
    tag = suffix.replace(" ", "_")

    def block(label, title, note, col_labels, formula, value, name):
        return sheet.block(label + suffix, title, note, INTERMEDIATE, rows, col_labels,
                           lambda b, k: Formula(formula(b, k), value(b, k)),
                           name=name + tag, local=local)

    z1 = block("z1", "z1 = W1 x + b1: the hidden layer's pre-activations",
               "z1_i = sum_j W1[i,j] x_j + b1_i: SUMPRODUCT(row i of W1, x) + b1_i "
               "(network.forward_one).", numbered("z1", n_hidden),
               lambda b, i: f"=SUMPRODUCT({P.W1.row(here, i)},{Xb.row(here, b)})"
                            f"+{P.b1.at(here, 0, i)}",
               lambda b, i: traces[b].z1[i], "z_1")
    h = block("h", "h = relu(z1): h_i = max(0, z1_i)",
              "Negative pre-activations become 0; positive ones pass unchanged.",
              numbered("h", n_hidden), lambda b, i: f"=MAX(0,{z1.at(here, b, i)})",
              lambda b, i: traces[b].h[i], "h")
    z2 = block("z2", "z2 = W2 h + b2: the logits, one per class",
               "z2_k = sum_j W2[k,j] h_j + b2_k: SUMPRODUCT(row k of W2, h) + b2_k.",
               numbered("z2", n_out, digits),
               lambda b, k: f"=SUMPRODUCT({P.W2.row(here, k)},{h.row(here, b)})"
                            f"+{P.b2.at(here, 0, k)}",
               lambda b, k: traces[b].z2[k], "z_2")
    m = block("m", "m = max(z2): the shift that keeps exp from overflowing",
              "softmax(z2) = softmax(z2 - m): the factor exp(-m) cancels, and exp never sees "
              "a large positive number.", ["m"], lambda b, _: f"=MAX({z2.row(here, b)})",
              lambda b, _: parts[b][0], "m")
    e = block("e", "e_k = exp(z2_k - m)", "Each e_k is between 0 and 1, the largest exactly 1.",
              numbered("e", n_out, digits), lambda b, k: f"=EXP({z2.at(here, b, k)}-{m.at(here, b)})",
              lambda b, k: parts[b][1][k], "e")
    s = block("s", "s = e_1 + ... + e_n: the softmax's normaliser", "s = SUM(e).", ["s"],
              lambda b, _: f"=SUM({e.row(here, b)})", lambda b, _: parts[b][2], "s")
    p = block("p", "p = softmax(z2): p_k = e_k / s, the probability of class k",
              "p_k = exp(z2_k) / sum_j exp(z2_j) = e_k / s: positive, and they sum to 1.",
              numbered("p", n_out, digits), lambda b, k: f"={e.at(here, b, k)}/{s.at(here, b)}",
              lambda b, k: traces[b].p[k], "p")
    L = block("L", "L = -sum_k y_k ln p_k = m + ln(s) - y . z2: the cross-entropy of each example",
              "With y one-hot, L = -ln p_true.  Written as network.cross_entropy computes it, "
              "logsumexp(z2) - y . z2 with logsumexp(z2) = m + ln(s): it never takes ln(0).",
              ["L"], lambda b, _: f"={m.at(here, b)}+LN({s.at(here, b)})"
                                  f"-SUMPRODUCT({Yb.row(here, b)},{z2.row(here, b)})",
              lambda b, _: traces[b].L, "L")
    mean = L
    if B > 1:
        mean = sheet.block(
            "L (batch)" + suffix, f"L of the mini-batch: the mean of its {B} examples' losses",
            f"L = (L(example 1) + ... + L(example {B})) / {B}: the number the gradients are "
            "the derivatives of (network.mean_loss).", INTERMEDIATE, ["batch"], ["L"],
            lambda i, j: Formula(f"=SUM({L.whole(here)})/{B}", loss),
            name="L_batch" + tag, local=local)
    return ForwardBlocks(z1, h, z2, m, e, s, p, L, mean)


def write_short_form(sheet: Sheet, P: ParamBlocks, Xb: Block, Yb: Block, F: ForwardBlocks,
                     step: Step, local: bool = False, digits: bool = False) -> ShortFormBlocks:
    """dz2, dW2, W2^T, dh, the mask, dz1, dW1 of each example (backward_one), then the means."""
    here = sheet.title
    B = len(step.traces)
    g = step.per_example
    sizes = step.params.sizes
    n_in, n_hidden, n_out = sizes
    rows = examples(B)

    def each(label: str, b: int) -> str:
        return label if B == 1 else f"{label} (ex. {b + 1})"

    def name_of(label: str, b: int) -> str:
        return symbol_name(label) + ("" if B == 1 else f"_ex{b + 1}")

    dz2 = sheet.block(
        "dz2", "dz2 = p - y: dL/dz2, softmax and cross-entropy together",
        "dz2 is dL/dz2.  The softmax Jacobian diag(p) - p p^T times dL/dp = -y / p "
        "collapses to this (long_form.xlsx multiplies it out).", GRADIENT, rows,
        numbered("dz2", n_out, digits),
        lambda b, k: Formula(f"={F.p.at(here, b, k)}-{Yb.at(here, b, k)}", g[b].dz2[k]),
        name="dz_2", local=local)
    W2_rows, W2_cols = weight_labels("W2", sizes, digits)
    dW2s = [sheet.block(
        each("dW2", b), f"dW2 = dz2 h^T{'' if B == 1 else f' for example {b + 1}'}: "
        "dW2[k,j] = dz2_k h_j", "dW2 is dL/dW2, the outer product dz2 h^T: W2[k,j] enters z2_k "
        "multiplied by h_j.", GRADIENT, W2_rows, W2_cols,
        lambda k, j, b=b: Formula(f"={dz2.at(here, b, k)}*{F.h.at(here, b, j)}", g[b].dW2[k][j]),
        name=name_of("dW2", b), local=local, corner="dW2[k,j]", heatmap=True) for b in range(B)]
    W2T_values = transpose(step.params.W2)
    W2T = sheet.block(
        "W2^T", "W2^T: W2 transposed, so that row j holds the weights out of h_j",
        "W2^T[j,k] = W2[k,j].  dh = W2^T dz2 is then one SUMPRODUCT per entry.", PARAMETER,
        [f"j={j + 1} (h_{j + 1})" for j in range(n_hidden)],
        [f"k={k + 1}" for k in range(n_out)],
        lambda j, k: Formula(f"={P.W2.at(here, k, j)}", W2T_values[j][k]),
        name="W_2T", local=local, corner="W2^T[j,k]")
    dh = sheet.block(
        "dh", "dh = W2^T dz2: dh_j = sum_k W2[k,j] dz2_k (how L changes with h_j)",
        "dh is dL/dh: h_j feeds every z2_k through W2[k,j].  Each entry is "
        "SUMPRODUCT(row j of W2^T, dz2) (network.backward_one).", GRADIENT, rows,
        numbered("dh", n_hidden),
        lambda b, j: Formula(f"=SUMPRODUCT({W2T.row(here, j)},{dz2.row(here, b)})", g[b].dh[j]),
        name="dh", local=local)
    mask = sheet.block(
        "[z1 > 0]", "the ReLU mask [z1 > 0]: 1 where z1_i > 0, else 0 (relu's derivative)",
        "The derivative of relu (network.relu_step), taken as 0 at z1_i = 0.", GRADIENT, rows,
        numbered("mask", n_hidden),
        lambda b, i: Formula(f"=IF({F.z1.at(here, b, i)}>0,1,0)",
                             relu_step(step.traces[b].z1)[i]),
        name="mask", local=local, fmt=INTEGER)
    dz1 = sheet.block(
        "dz1", "dz1 = dh * [z1 > 0]: the gradient passes only where the unit was active",
        "dz1 is dL/dz1: dh times the mask, entry by entry.", GRADIENT, rows,
        numbered("dz1", n_hidden),
        lambda b, i: Formula(f"={dh.at(here, b, i)}*{mask.at(here, b, i)}", g[b].dz1[i]),
        name="dz_1", local=local)
    W1_rows, W1_cols = weight_labels("W1", sizes)
    dW1s = [sheet.block(
        each("dW1", b), f"dW1 = dz1 x^T{'' if B == 1 else f' for example {b + 1}'}: "
        "dW1[i,j] = dz1_i x_j", "dW1 is dL/dW1, the outer product dz1 x^T: W1[i,j] enters z1_i "
        "multiplied by x_j.", GRADIENT, W1_rows, W1_cols,
        lambda i, j, b=b: Formula(f"={dz1.at(here, b, i)}*{Xb.at(here, b, j)}", g[b].dW1[i][j]),
        name=name_of("dW1", b), local=local, corner="dW1[i,j]", heatmap=True) for b in range(B)]
    grads = step.grads
    if B == 1:
        db2 = sheet.block("db2", "db2 = dz2", "db2 = dL/db2 = dz2: b2_k enters z2_k with slope 1.",
                          GRADIENT, ["db2"], numbered("db2", n_out, digits),
                          lambda _, k: copy_of(sheet, dz2, 0, k, grads.b2[k]),
                          name="db_2", local=local)
        db1 = sheet.block("db1", "db1 = dz1", "db1 = dL/db1 = dz1: b1_i enters z1_i with slope 1.",
                          GRADIENT, ["db1"], numbered("db1", n_hidden),
                          lambda _, i: copy_of(sheet, dz1, 0, i, grads.b1[i]),
                          name="db_1", local=local)
        one = ParamBlocks(dW1s[0], db1, dW2s[0], db2)
        return ShortFormBlocks(dz2, W2T, dh, mask, dz1, [one], one)
    sheet.heading(f"The mini-batch's gradients: L is the mean of {B} losses, so each gradient "
                  f"is the mean of {B}")

    def mean(terms: Sequence[str]) -> str:
        return "=(" + "+".join(terms) + f")/{B}"

    dW2 = sheet.block(
        "dW2", f"dW2 = (dW2 (ex. 1) + ... + dW2 (ex. {B})) / {B}",
        "dW2 = dL/dW2 of the mini-batch: the mean of the examples' (network.mean_grads).",
        GRADIENT, W2_rows, W2_cols,
        lambda k, j: Formula(mean([d.at(here, k, j) for d in dW2s]), grads.W2[k][j]),
        name="dW_2", local=local, corner="dW2[k,j]", heatmap=True)
    db2 = sheet.block(
        "db2", f"db2 = the mean of dz2 over the {B} examples", "db2 = dL/db2: each example's "
        "db2 is its dz2; the mini-batch's is their mean.", GRADIENT, ["db2"],
        numbered("db2", n_out, digits),
        lambda _, k: Formula(mean([dz2.at(here, b, k) for b in range(B)]), grads.b2[k]),
        name="db_2", local=local)
    dW1 = sheet.block(
        "dW1", f"dW1 = (dW1 (ex. 1) + ... + dW1 (ex. {B})) / {B}",
        "dW1 = dL/dW1 of the mini-batch: the mean of the examples' (network.mean_grads).",
        GRADIENT, W1_rows, W1_cols,
        lambda i, j: Formula(mean([d.at(here, i, j) for d in dW1s]), grads.W1[i][j]),
        name="dW_1", local=local, corner="dW1[i,j]", heatmap=True)
    db1 = sheet.block(
        "db1", f"db1 = the mean of dz1 over the {B} examples", "db1 = dL/db1: each example's "
        "db1 is its dz1; the mini-batch's is their mean.", GRADIENT, ["db1"],
        numbered("db1", n_hidden),
        lambda _, i: Formula(mean([dz1.at(here, b, i) for b in range(B)]), grads.b1[i]),
        name="db_1", local=local)
    return ShortFormBlocks(dz2, W2T, dh, mask, dz1,
                           [ParamBlocks(dW1s[b], None, dW2s[b], None) for b in range(B)],
                           ParamBlocks(dW1, db1, dW2, db2))


def write_update(sheet: Sheet, P: ParamBlocks, G: ParamBlocks, lr: Block, new: Params,
                 local: bool = False, digits: bool = False, momentum: bool = False
                 ) -> ParamBlocks:
    """new theta = theta - lr * dtheta for each parameter (network.sgd_step), or with
    momentum = True, theta - lr * new v (G is then the new velocities; train.momentum_step_)."""
    here = sheet.title
    blocks = {}
    for name in PARAM_NAMES:
        values = as_rows(getattr(new, name))
        rows, cols = param_labels(name, new.sizes, "new " + name, digits)
        step = f"new v {name}" if momentum else f"d{name}"
        blocks[name] = sheet.block(
            "new " + name, f"new {name} = {name} - lr * {step}",
            f"new {name} = {name} - lr * {step}: " + ("the step with momentum "
                                                      "(train.momentum_step_)." if momentum else
                                                      "one step of gradient descent "
                                                      "(network.sgd_step)."), UPDATE, rows, cols,
            lambda i, j, name=name, values=values: Formula(
                f"={P.get(name).at(here, i, j)}-{lr.at(here, 0)}*{G.get(name).at(here, i, j)}",
                values[i][j]),
            name="new_" + symbol_name(name), local=local, corner=corner(name),
            heatmap=name in ("W1", "W2"))
    return ParamBlocks(**blocks)
