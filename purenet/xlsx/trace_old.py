"""The backprop trace workbooks: one training step of a tiny network, every number a formula.

    forward_and_short_form.xlsx   Start, Parameters, Forward, Short form, Update, Check
    long_form.xlsx                Start, Parameters, Forward, Jacobians, Chain,
                                  Short form, Gradients
    training_steps.xlsx           Start, Data, Step 1 ... Step N, Loss
    digit_trace.xlsx              Start, Digit, Parameters, Forward, Short form,
                                  Update, Check

The network and its symbols are network.py's: x, y, W1, b1, z1, h, W2, b2,
z2, p, L, and the gradients dz2, dW2, db2, dh, dz1, dW1, db1 (dA means
dL/dA).  Each example's vectors are laid out as one row of its block, so a
mini-batch of B examples is a block of B rows; the parameters are laid out
as the matrices they are, W1[i, j] in row i, column j (counted from 1 in the
labels, as in the maths).

Every derived cell is a formula of the cells it comes from:

    z1 = W1 x + b1      z1_i  = SUMPRODUCT(row i of W1, x) + b1_i
    h = relu(z1)        h_i   = MAX(0, z1_i)
    z2 = W2 h + b2      z2_k  = SUMPRODUCT(row k of W2, h) + b2_k
    p = softmax(z2)     m = MAX(z2),  e_k = EXP(z2_k - m),  s = SUM(e),  p_k = e_k / s
    L                   L = m + LN(s) - SUMPRODUCT(y, z2)    (= -ln p_true, as network.py)
    dz2 = p - y         dW2[k,j] = dz2_k h_j,   db2 = dz2
    dh = W2^T dz2       dh_j  = W2[1,j] dz2_1 + ... + W2[n_out,j] dz2_n_out
    ReLU mask           [z1 > 0] = IF(z1_i > 0, 1, 0)
    dz1 = dh * mask     dW1[i,j] = dz1_i x_j,   db1 = dz1
    batch mean          dW1 = (dW1(example 1) + ... + dW1(example B)) / B, and so on
    update              new W1 = W1 - lr * dW1, and so on

The long form writes each Jacobian of jacobian.py as a block, e.g.
(dp/dz2)[i,j] = p_i (delta_ij - p_j), and each product of the chain as sums
of products, (dL/dz2)_j = sum_i (dL/dp)_i (dp/dz2)[i,j].  Comparisons
|a - b| are written MAX(a - b, b - a), within the short list of functions
book.py allows.

The tiny example: W1, W2 from network.he_init(sizes, seed), biases 0, and a
mini-batch from gradcheck.kink_free_batch(params, batch, Random(seed + 1)):
inputs uniform in [-1, 1], drawn again until every |z1_i| >= 1e-3, so the
central differences on the Check sheet never straddle ReLU's kink.

The numbers are never computed twice: the cached value of every formula is
what network.py (forward, backward_one, backward, sgd_step), jacobian.py
(long_form_one) and gradcheck.py (numerical_grads) computed for the same
quantity.  The only arithmetic here is laying values out, the softmax
helpers m, e, s (network.softmax computes them but returns only p), and the
digit's pooling.

The digit workbook averages a 28 x 28 MNIST image into 7 x 7 = 49 inputs,
each the mean of a 4 x 4 square of pixels scaled to [0, 1]:

    x_(7r + c) = (1 / (16 * 255)) * sum_{a=0..3} sum_{b=0..3} pixel_((4r + a) * 28 + 4c + b)
                 r, c = 0 .. 6

which the Digit sheet writes as SUM(the 4 x 4 square) / 4080.

Every sum in matrix.py and network.py adds left to right (matrix.total),
so every supported Python writes the same bytes.
"""

import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..gradcheck import kink_free_batch, numerical_grads
from ..jacobian import LongForm, long_form_one
from ..matrix import Matrix, Vector, msub
from ..network import (Backward, Grads, Params, Sizes, Trace, backward, backward_one, forward, softmax_parts,
                       he_init, mean_loss, one_hot, relu_step, sgd_step)
from .book import (CHECK, GRADIENT, INPUT, INTERMEDIATE, JACOBIAN, PARAMETER, UPDATE, Area,
                   Block, Book, Formula, Ref, Sheet, write_start)

WORKBOOKS = ("forward_and_short_form.xlsx", "long_form.xlsx",
             "training_steps.xlsx", "digit_trace.xlsx")

DIGIT_SIDE = 28                 # MNIST images are 28 x 28
POOL = 4                        # 4 x 4 squares of pixels ...
POOLED_SIDE = DIGIT_SIDE // POOL  # ... make a 7 x 7 picture
DIGIT_HIDDEN = 8
N_CLASSES = 10
PARAM_NAMES = ("W1", "b1", "W2", "b2")


@dataclass(frozen=True)
class Settings:
    """What ``purenet export-xlsx`` was asked for; the defaults make the committed workbooks."""
    sizes: Sizes = (4, 3, 3)
    batch: int = 2
    seed: int = 0
    lr: float = 0.5
    steps: int = 10
    digit: int = 0

    def command(self) -> str:
        n_in, n_hidden, n_out = self.sizes
        return (f"python3 -m purenet export-xlsx --sizes {n_in},{n_hidden},{n_out} "
                f"--batch {self.batch} --seed {self.seed} --lr {self.lr!r} "
                f"--steps {self.steps} --digit {self.digit}")


@dataclass(frozen=True)
class Digit:
    """One MNIST image, as mnist.Dataset holds it."""
    image: bytes
    label: int
    index: int


# --- the numbers, all from network.py, jacobian.py and gradcheck.py --------------------

@dataclass
class Step:
    """One SGD step on a mini-batch: every number its sheets show, computed by purenet."""
    params: Params
    X: List[Vector]
    Y: List[Vector]
    traces: List[Trace]
    per_example: List[Backward]  # backward_one of each example: dz2, dW2, db2, dh, dz1, dW1, db1
    grads: Grads                # backward: the mean of per_example
    new_params: Params          # sgd_step

    @property
    def loss(self) -> float:
        return mean_loss(self.traces)


def take_step(params: Params, X: List[Vector], Y: List[Vector], lr: float) -> Step:
    traces = forward(params, X, Y)
    per_example = [backward_one(params, t) for t in traces]
    grads = backward(params, traces)
    return Step(params, X, Y, traces, per_example, grads, sgd_step(params, grads, lr))


def tiny_example(settings: Settings) -> Tuple[Params, List[Vector], List[Vector]]:
    """He-initialised weights and a mini-batch whose z1 keeps clear of ReLU's kink.

    The inputs come from gradcheck.kink_free_batch, as ``purenet gradcheck``'s
    do, so that the central differences on the Check sheet are valid.
    """
    params = he_init(settings.sizes, settings.seed)
    X, Y = kink_free_batch(params, settings.batch, random.Random(settings.seed + 1))
    return params, X, Y


def average_pool(image: bytes, side: int = DIGIT_SIDE, pool: int = POOL) -> Vector:
    """x_(r * (side / pool) + c) = mean of the pool x pool square at (r, c), divided by 255."""
    out_side = side // pool
    x = []
    for r in range(out_side):
        for c in range(out_side):
            total = sum(image[(pool * r + a) * side + pool * c + b]
                        for a in range(pool) for b in range(pool))
            x.append(total / (pool * pool * 255))
    return x


# --- labels ----------------------------------------------------------------------------

def numbered(symbol: str, n: int) -> List[str]:
    """symbol_1 ... symbol_n, the entries of a vector."""
    return [f"{symbol}_{k + 1}" for k in range(n)]


def examples(batch: int) -> List[str]:
    return [f"example {b + 1}" for b in range(batch)]


# The index letters of network.py: z1_i = sum_j W1[i,j] x_j + b1_i, z2_k = sum_j W2[k,j] h_j + b2_k.
WEIGHT_INDICES = {"W1": ("i", "j"), "W2": ("k", "j")}


def weight_labels(name: str, sizes: Sizes) -> Tuple[List[str], List[str]]:
    """Row and column labels of W1 or W2 (and their gradients and updates): 'i=2 (z1_2)'."""
    n_in, n_hidden, n_out = sizes
    into, source, rows, cols = (("z1", "x", n_hidden, n_in) if name == "W1"
                                else ("z2", "h", n_out, n_hidden))
    row, col = WEIGHT_INDICES[name]
    return ([f"{row}={i + 1} ({into}_{i + 1})" for i in range(rows)],
            [f"{col}={j + 1} ({source}_{j + 1})" for j in range(cols)])


def corner(name: str, prefix: str = "") -> str:
    """The corner label of a parameter-shaped block: 'dW2[k,j]', or '' for a bias."""
    if name not in WEIGHT_INDICES:
        return ""
    row, col = WEIGHT_INDICES[name]
    return f"{prefix}{name}[{row},{col}]"


def param_labels(name: str, sizes: Sizes, symbol: str, row: str) -> Tuple[List[str], List[str]]:
    """Labels of a parameter-shaped block: W1/W2 by weight_labels, b1/b2 as one row `row`."""
    if name in ("W1", "W2"):
        return weight_labels(name, sizes)
    _, n_hidden, n_out = sizes
    return [row], numbered(symbol, n_hidden if name == "b1" else n_out)


def as_rows(values) -> Matrix:
    """A matrix as itself, a vector as a 1-row matrix: how blocks hold them."""
    return values if isinstance(values[0], list) else [values]


def abs_differences(A: Matrix, B: Matrix) -> Matrix:
    """|A_ij - B_ij|: the cached values of a comparison block."""
    return [[abs(d) for d in row] for row in msub(A, B)]    # msub: shapes must agree


def largest(A: Matrix) -> float:
    return max(max(row) for row in A)


# --- blocks shared by the workbooks ----------------------------------------------------

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
    loss: Ref       # the mini-batch loss (L itself for one example)


@dataclass
class ShortFormBlocks:
    dz2: Block
    dh: Block
    mask: Block
    dz1: Block
    grads: ParamBlocks


def copy_formula(sheet: Sheet, source: Ref, value: float) -> Formula:
    return Formula(f"={sheet.ref(source)}", value)


def write_data(sheet: Sheet, X: List[Vector], Y: List[Vector],
               x_source: Optional[Callable[[int, int], Ref]] = None) -> Tuple[Block, Block]:
    """The x and y blocks, one row per example; x_source(b, j) makes x a reference instead."""
    B, n_in, n_out = len(X), len(X[0]), len(Y[0])

    def x_entry(b: int, j: int):
        if x_source is None:
            return X[b][j]
        return copy_formula(sheet, x_source(b, j), X[b][j])

    Xb = sheet.block("x", f"x: the input, {n_in} numbers per example (one row each)",
                     "The maths writes vectors as columns; here each example's vector is one "
                     "row.\nType over an x to try another input: every cell that depends on it "
                     "recomputes.",
                     INPUT, examples(B), numbered("x", n_in), x_entry)
    Yb = sheet.block("y", "y: the target, one-hot: y_k = 1 for the true class k, 0 for the others",
                     "y enters the loss L and dz2 = p - y.",
                     INPUT, examples(B), numbered("y", n_out), lambda b, k: Y[b][k], integer=True)
    return Xb, Yb


def write_lr(sheet: Sheet, lr: float) -> Ref:
    block = sheet.block("lr", "lr: the learning rate, in  theta <- theta - lr * dL/dtheta",
                        "The learning rate (eta): how far one step moves each parameter against "
                        "its gradient.", PARAMETER, ["lr"], ["value"], lambda i, j: lr)
    return block.at(0, 0)


def write_parameters(sheet: Sheet, params: Params, source: Optional[ParamBlocks] = None,
                     source_name: str = "") -> ParamBlocks:
    """W1, b1, W2, b2 as values, or as references to `source` (the step before's update)."""
    n_in, n_hidden, n_out = params.sizes
    meaning = {
        "W1": (f"W1: first-layer weights, n_hidden x n_in = {n_hidden} x {n_in}",
               "W1[i,j] is the weight from x_j into z1_i: z1_i = sum_j W1[i,j] x_j + b1_i.",
               "He initialisation, Normal(0, sqrt(2 / n_in)) (network.he_init)."),
        "b1": ("b1: first-layer biases, one per hidden unit", "b1_i is added to z1_i.",
               "0 (network.he_init)."),
        "W2": (f"W2: second-layer weights, n_out x n_hidden = {n_out} x {n_hidden}",
               "W2[k,j] is the weight from h_j into z2_k: z2_k = sum_j W2[k,j] h_j + b2_k.",
               "He initialisation, Normal(0, sqrt(2 / n_hidden)) (network.he_init)."),
        "b2": ("b2: second-layer biases, one per class", "b2_k is added to z2_k.",
               "0 (network.he_init)."),
    }
    blocks = {}
    for name in PARAM_NAMES:
        values = as_rows(getattr(params, name))
        rows, cols = param_labels(name, params.sizes, name, name)
        title, note, start = meaning[name]
        if source is None:
            note += f"\nStarting value: {start}"
        else:
            title += f", from {source_name}"
            note += f"\nEach cell refers to the new {name} of {source_name}."

        def entry(i: int, j: int, name=name, values=values):
            if source is None:
                return values[i][j]
            return copy_formula(sheet, source.get(name).at(i, j), values[i][j])

        blocks[name] = sheet.block(name, title, note, PARAMETER, rows, cols, entry,
                                   corner=corner(name), heatmap=name in ("W1", "W2"))
    return ParamBlocks(**blocks)


def write_forward(sheet: Sheet, P: ParamBlocks, Xb: Block, Yb: Block, step: Step) -> ForwardBlocks:
    r = sheet.ref
    traces = step.traces
    B = len(traces)
    n_hidden, n_out = len(traces[0].z1), len(traces[0].z2)
    helpers = [softmax_parts(t.z2) for t in traces]
    rows = examples(B)

    z1 = sheet.block(
        "z1", "z1 = W1 x + b1: the hidden layer's pre-activations",
        "z1_i = sum_j W1[i,j] x_j + b1_i, written SUMPRODUCT(row i of W1, x) + b1_i\n"
        "(network.forward_one).", INTERMEDIATE, rows, numbered("z1", n_hidden),
        lambda b, i: Formula(f"=SUMPRODUCT({r(P.W1.row(i))},{r(Xb.row(b))})+{r(P.b1.at(0, i))}",
                             traces[b].z1[i]))
    h = sheet.block(
        "h", "h = relu(z1): h_i = max(0, z1_i)",
        "Negative pre-activations become 0; positive ones pass unchanged.",
        INTERMEDIATE, rows, numbered("h", n_hidden),
        lambda b, i: Formula(f"=MAX(0,{r(z1.at(b, i))})", traces[b].h[i]))
    z2 = sheet.block(
        "z2", "z2 = W2 h + b2: the logits, one per class",
        "z2_k = sum_j W2[k,j] h_j + b2_k, written SUMPRODUCT(row k of W2, h) + b2_k.",
        INTERMEDIATE, rows, numbered("z2", n_out),
        lambda b, k: Formula(f"=SUMPRODUCT({r(P.W2.row(k))},{r(h.row(b))})+{r(P.b2.at(0, k))}",
                             traces[b].z2[k]))
    m = sheet.block(
        "m", "m = max(z2): the shift that keeps exp from overflowing",
        "softmax(z2) = softmax(z2 - m): the factor exp(-m) cancels, and exp "
        "never sees a large positive number.", INTERMEDIATE, rows, ["m"],
        lambda b, _: Formula(f"=MAX({r(z2.row(b))})", helpers[b][0]))
    e = sheet.block(
        "e", "e_k = exp(z2_k - m)", "Each e_k is between 0 and 1, and the largest is exactly 1.",
        INTERMEDIATE, rows, numbered("e", n_out),
        lambda b, k: Formula(f"=EXP({r(z2.at(b, k))}-{r(m.at(b, 0))})", helpers[b][1][k]))
    s = sheet.block(
        "s", "s = sum_k e_k", "The softmax's normaliser, e_1 + ... + e_n_out.",
        INTERMEDIATE, rows, ["s"], lambda b, _: Formula(f"=SUM({r(e.row(b))})", helpers[b][2]))
    p = sheet.block(
        "p", "p = softmax(z2): p_k = e_k / s, the predicted probability of class k",
        "p_k = exp(z2_k) / sum_j exp(z2_j) = e_k / s: positive, and they sum to 1.",
        INTERMEDIATE, rows, numbered("p", n_out),
        lambda b, k: Formula(f"={r(e.at(b, k))}/{r(s.at(b, 0))}", traces[b].p[k]))
    L = sheet.block(
        "L", "L = -sum_k y_k ln p_k = m + ln(s) - y . z2: the cross-entropy loss of each example",
        "With y one-hot, L = -ln p_true.\nWritten as network.cross_entropy computes it, "
        "logsumexp(z2) - y . z2 with logsumexp(z2) = m + ln(s): it never takes ln(0).",
        INTERMEDIATE, rows, ["L"],
        lambda b, _: Formula(f"={r(m.at(b, 0))}+LN({r(s.at(b, 0))})"
                             f"-SUMPRODUCT({r(Yb.row(b))},{r(z2.row(b))})", traces[b].L))
    loss = L.at(0, 0)
    if B > 1:
        mean = sheet.block(
            "L (batch)", f"L of the mini-batch: the mean of its {B} examples' losses",
            f"L = (L(example 1) + ... + L(example {B})) / {B}: the number the gradients "
            "below are the derivatives of (network.mean_loss).", INTERMEDIATE, ["batch"], ["L"],
            lambda i, j: Formula(f"=SUM({r(L.area())})/{B}", step.loss))
        loss = mean.at(0, 0)
    return ForwardBlocks(z1, h, z2, m, e, s, p, L, loss)


def write_short_form(sheet: Sheet, P: ParamBlocks, Xb: Block, Yb: Block, F: ForwardBlocks,
                     step: Step) -> ShortFormBlocks:
    r = sheet.ref
    B = len(step.traces)
    g = step.per_example
    sizes = step.params.sizes
    n_in, n_hidden, n_out = sizes
    rows = examples(B)

    def each(name: str, b: int) -> str:
        return name if B == 1 else f"{name} (ex. {b + 1})"

    dz2 = sheet.block(
        "dz2", "dz2 = p - y: dL/dz2, softmax and cross-entropy together",
        "dz2 is dL/dz2.  The softmax Jacobian p_i (delta_ij - p_j) times dL/dp = -y / p "
        "collapses to this (long_form.xlsx multiplies it out).", GRADIENT, rows,
        numbered("dz2", n_out),
        lambda b, k: Formula(f"={r(F.p.at(b, k))}-{r(Yb.at(b, k))}", g[b].dz2[k]))
    W2_rows, W2_cols = weight_labels("W2", sizes)
    dW2s = [sheet.block(
        each("dW2", b), f"dW2 = dz2 h^T{'' if B == 1 else f' for example {b + 1}'}: "
        "dW2[k,j] = dz2_k h_j",
        "dW2 is dL/dW2, the outer product dz2 h^T.\nW2[k,j] enters z2_k multiplied by h_j, so "
        "dL/dW2[k,j] = dz2_k h_j.", GRADIENT, W2_rows, W2_cols,
        lambda k, j, b=b: Formula(f"={r(dz2.at(b, k))}*{r(F.h.at(b, j))}", g[b].dW2[k][j]),
        corner="dW2[k,j]", heatmap=True) for b in range(B)]
    dh = sheet.block(
        "dh", "dh = W2^T dz2: dh_j = W2[1,j] dz2_1 + ... (how L changes with h_j)",
        "dh is dL/dh.  h_j feeds every z2_k through W2[k,j], so "
        "dh_j = sum_k W2[k,j] dz2_k.", GRADIENT, rows, numbered("dh", n_hidden),
        lambda b, j: Formula("=" + "+".join(f"{r(P.W2.at(k, j))}*{r(dz2.at(b, k))}"
                                            for k in range(n_out)), g[b].dh[j]))
    mask = sheet.block(
        "[z1 > 0]", "the ReLU mask [z1 > 0]: 1 where z1_i > 0, else 0 (relu's derivative)",
        "The derivative of relu (network.relu_step), taken as 0 at z1_i = 0.", GRADIENT, rows,
        numbered("mask", n_hidden),
        lambda b, i: Formula(f"=IF({r(F.z1.at(b, i))}>0,1,0)", relu_step(step.traces[b].z1)[i]),
        integer=True)
    dz1 = sheet.block(
        "dz1", "dz1 = dh * [z1 > 0]: the gradient passes only where the unit was active",
        "dz1 is dL/dz1: dh times the mask, entry by entry.", GRADIENT, rows,
        numbered("dz1", n_hidden),
        lambda b, i: Formula(f"={r(dh.at(b, i))}*{r(mask.at(b, i))}", g[b].dz1[i]))
    W1_rows, W1_cols = weight_labels("W1", sizes)
    dW1s = [sheet.block(
        each("dW1", b), f"dW1 = dz1 x^T{'' if B == 1 else f' for example {b + 1}'}: "
        "dW1[i,j] = dz1_i x_j",
        "dW1 is dL/dW1, the outer product dz1 x^T.\nW1[i,j] enters z1_i multiplied by x_j, so "
        "dL/dW1[i,j] = dz1_i x_j.", GRADIENT, W1_rows, W1_cols,
        lambda i, j, b=b: Formula(f"={r(dz1.at(b, i))}*{r(Xb.at(b, j))}", g[b].dW1[i][j]),
        corner="dW1[i,j]", heatmap=True) for b in range(B)]

    grads = step.grads
    if B == 1:
        db2 = sheet.block("db2", "db2 = dz2", "db2 = dL/db2 = dz2: b2_k enters z2_k with slope 1.",
                          GRADIENT, ["db2"], numbered("db2", n_out),
                          lambda _, k: copy_formula(sheet, dz2.at(0, k), grads.b2[k]))
        db1 = sheet.block("db1", "db1 = dz1", "db1 = dL/db1 = dz1: b1_i enters z1_i with slope 1.",
                          GRADIENT, ["db1"], numbered("db1", n_hidden),
                          lambda _, i: copy_formula(sheet, dz1.at(0, i), grads.b1[i]))
        return ShortFormBlocks(dz2, dh, mask, dz1, ParamBlocks(dW1s[0], db1, dW2s[0], db2))

    sheet.heading(f"The mini-batch's gradients: L is the mean of {B} losses, so each gradient "
                  f"is the mean of {B}")

    def mean(refs: Sequence[Ref]) -> str:
        return "=(" + "+".join(r(ref) for ref in refs) + f")/{B}"

    dW2 = sheet.block(
        "dW2", f"dW2 = (dW2 (ex. 1) + ... + dW2 (ex. {B})) / {B}",
        "dW2 = dL/dW2 for the mini-batch: the mean of the examples' dW2 (network.mean_grads).",
        GRADIENT, W2_rows, W2_cols,
        lambda k, j: Formula(mean([d.at(k, j) for d in dW2s]), grads.W2[k][j]),
        corner="dW2[k,j]", heatmap=True)
    db2 = sheet.block(
        "db2", f"db2 = the mean of dz2 over the {B} examples",
        "db2 = dL/db2: each example's db2 is its dz2; the mini-batch's is their mean.",
        GRADIENT, ["db2"], numbered("db2", n_out),
        lambda _, k: Formula(mean([dz2.at(b, k) for b in range(B)]), grads.b2[k]))
    dW1 = sheet.block(
        "dW1", f"dW1 = (dW1 (ex. 1) + ... + dW1 (ex. {B})) / {B}",
        "dW1 = dL/dW1 for the mini-batch: the mean of the examples' dW1 (network.mean_grads).",
        GRADIENT, W1_rows, W1_cols,
        lambda i, j: Formula(mean([d.at(i, j) for d in dW1s]), grads.W1[i][j]),
        corner="dW1[i,j]", heatmap=True)
    db1 = sheet.block(
        "db1", f"db1 = the mean of dz1 over the {B} examples",
        "db1 = dL/db1: each example's db1 is its dz1; the mini-batch's is their mean.",
        GRADIENT, ["db1"], numbered("db1", n_hidden),
        lambda _, i: Formula(mean([dz1.at(b, i) for b in range(B)]), grads.b1[i]))
    return ShortFormBlocks(dz2, dh, mask, dz1, ParamBlocks(dW1, db1, dW2, db2))


def write_update(sheet: Sheet, P: ParamBlocks, G: ParamBlocks, lr: Ref, new: Params) -> ParamBlocks:
    r = sheet.ref
    sizes = new.sizes
    blocks = {}
    for name in PARAM_NAMES:
        values = as_rows(getattr(new, name))
        rows, cols = param_labels(name, sizes, name, "new " + name)

        def entry(i: int, j: int, name=name, values=values):
            return Formula(f"={r(P.get(name).at(i, j))}-{r(lr)}*{r(G.get(name).at(i, j))}",
                           values[i][j])

        blocks[name] = sheet.block(
            "new " + name, f"new {name} = {name} - lr * d{name}",
            f"new {name} = {name} - lr * d{name}: one step of gradient descent "
            "(network.sgd_step).", UPDATE, rows, cols, entry,
            corner=corner(name), heatmap=name in ("W1", "W2"))
    return ParamBlocks(**blocks)


def write_check(sheet: Sheet, G: ParamBlocks, numeric: Grads, short: Grads) -> Ref:
    """Central differences (values) beside the short form (formulas), and their differences."""
    r = sheet.ref
    maxima = []
    for name in PARAM_NAMES:
        num = as_rows(getattr(numeric, name))
        diffs = abs_differences(num, as_rows(getattr(short, name)))
        rows, cols = param_labels(name, short.sizes, f"d{name}", f"d{name}")
        central = sheet.block(
            f"d{name} numeric", f"d{name} by central differences, computed in Python (values)",
            f"(L(theta + eps) - L(theta - eps)) / (2 eps) for each entry theta of {name}, "
            "eps = 1e-5 (gradcheck.numerical_grads).\nThese are values, not formulas: "
            "editing an input leaves them as they are.", CHECK, rows, cols,
            lambda i, j, num=num: num[i][j], corner=corner(name, "d"))

        def difference(i: int, j: int, name=name, central=central, diffs=diffs) -> Formula:
            a, b = r(central.at(i, j)), r(G.get(name).at(i, j))
            return Formula(f"=MAX({a}-{b},{b}-{a})", diffs[i][j])

        diff = sheet.block(
            f"|d{name} diff|", f"|numeric - short form| for d{name}",
            "|a - b| written MAX(a - b, b - a).\nCentral differences err by about eps^2 "
            "plus rounding: expect 1e-9 or less.", CHECK, rows, cols, difference,
            corner=corner(name, "d"))
        block = sheet.block(
            f"max d{name}", f"the largest |numeric - short form| for d{name}",
            "MAX over the block above.", CHECK, ["largest"], ["value"],
            lambda i, j, diff=diff, diffs=diffs: Formula(f"=MAX({r(diff.area())})",
                                                         largest(diffs)))
        maxima.append((block.at(0, 0), largest(diffs)))
    total = sheet.block(
        "max", "the largest |numeric - short form| over all the parameters",
        "The short form (formulas) and central differences (Python) agree to this.", CHECK,
        ["largest"], ["value"],
        lambda i, j: Formula("=MAX(" + ",".join(r(ref) for ref, _ in maxima) + ")",
                             max(value for _, value in maxima)))
    return total.at(0, 0)


# --- forward_and_short_form.xlsx -------------------------------------------------------

def settings_rows(settings: Settings, sizes: Sizes, batch: int, lr: float) -> List[Tuple[str, str]]:
    n_in, n_hidden, n_out = sizes
    return [("network", f"{n_in}-{n_hidden}-{n_out} (n_in - n_hidden - n_out), ReLU hidden layer, "
                        "softmax output, cross-entropy loss"),
            ("mini-batch", f"{batch} example{'s' if batch > 1 else ''}"),
            ("seed", f"{settings.seed} (network.he_init; inputs from gradcheck.kink_free_batch)"),
            ("lr", repr(lr)),
            ("regenerate", settings.command())]


def forward_and_short_form(settings: Settings) -> Book:
    params, X, Y = tiny_example(settings)
    step = take_step(params, X, Y, settings.lr)
    book = Book("purenet: one training step, forward pass and short-form backprop")
    write_start(
        book, "One training step of a tiny network, every number a formula",
        "purenet: forward_and_short_form.xlsx",
        ["Follow one step of training: the forward pass from x to the loss L, backpropagation "
         "(the short form) from L back to every weight, and the update.",
         "Every computed cell is a formula of the cells it comes from: click one and read its "
         "formula; edit x, y or a weight and the whole step recomputes.",
         "Each block's name cell (column A) has a note with its equation; symbols are "
         "network.py's (x, y, W1, b1, z1, h, W2, b2, z2, p, L; dW1 means dL/dW1).",
         "Vectors are laid out as rows, one per example; W1[i,j] sits in row i, column j "
         "(counting from 1).",
         "The numbers shown before any recalculation are the ones purenet computed in Python; "
         "tests/xlsx_recalc.py checks LibreOffice recomputes the same to 1e-9."],
        settings_rows(settings, settings.sizes, settings.batch, settings.lr),
        [("Parameters", "x, y, W1, b1, W2, b2 and lr"),
         ("Forward", "z1, h, z2, the softmax helpers m, e, s, p, and the loss L"),
         ("Short form", "dz2, dW2, dh, the ReLU mask, dz1, dW1 (and db1, db2): "
                        "backpropagation with outer products"),
         ("Update", "new W1, b1, W2, b2 = old - lr * gradient"),
         ("Check", "the same gradients by central differences (Python values), "
                   "and their differences from the short form")])
    P, Xb, Yb, lr = parameters_sheet(book, step, settings.lr)
    F = forward_sheet(book, P, Xb, Yb, step)
    S = short_form_sheet(book, P, Xb, Yb, F, step)
    update_sheet(book, P, S.grads, lr, step)
    check_sheet(book, S.grads, step)
    return book


def parameters_sheet(book: Book, step: Step, lr: float,
                     x_source: Optional[Callable[[int, int], Ref]] = None
                     ) -> Tuple[ParamBlocks, Block, Block, Ref]:
    sheet = book.sheet("Parameters")
    sheet.header("Parameters: the example and the network's weights",
                 "Inputs (yellow) and parameters (blue): the only cells that are not formulas.",
                 back_to="Start")
    Xb, Yb = write_data(sheet, step.X, step.Y, x_source)
    P = write_parameters(sheet, step.params)
    return P, Xb, Yb, write_lr(sheet, lr)


def forward_sheet(book: Book, P: ParamBlocks, Xb: Block, Yb: Block, step: Step) -> ForwardBlocks:
    sheet = book.sheet("Forward")
    sheet.header("Forward pass: z1 = W1 x + b1, h = relu(z1), z2 = W2 h + b2, p = softmax(z2), L",
                 "One row per example.", back_to="Start")
    return write_forward(sheet, P, Xb, Yb, step)


def short_form_sheet(book: Book, P: ParamBlocks, Xb: Block, Yb: Block, F: ForwardBlocks,
                     step: Step) -> ShortFormBlocks:
    sheet = book.sheet("Short form")
    sheet.header("Short form: backpropagation, dz2 = p - y, dW2 = dz2 h^T, dh = W2^T dz2, "
                 "dz1 = dh * [z1 > 0], dW1 = dz1 x^T",
                 "dA is dL/dA, the slope of the loss in A.  Click a cell to follow its formula "
                 "back to L.", back_to="Start")
    sheet.fit_to_page(wide=1, tall=1, landscape=False)
    return write_short_form(sheet, P, Xb, Yb, F, step)


def update_sheet(book: Book, P: ParamBlocks, G: ParamBlocks, lr: Ref, step: Step) -> ParamBlocks:
    sheet = book.sheet("Update")
    sheet.header("Update: each parameter takes a step against its gradient",
                 "new theta = theta - lr * dL/dtheta (network.sgd_step)", back_to="Start")
    return write_update(sheet, P, G, lr, step.new_params)


def check_sheet(book: Book, G: ParamBlocks, step: Step) -> Ref:
    sheet = book.sheet("Check")
    sheet.header("Check: the short form against central differences",
                 "dL/dtheta ~ (L(theta + eps) - L(theta - eps)) / (2 eps), one parameter entry "
                 "at a time, computed in Python.", back_to="Start")
    numeric = numerical_grads(step.params, step.X, step.Y)
    return write_check(sheet, G, numeric, step.grads)


# --- long_form.xlsx ---------------------------------------------------------------------

def write_jacobians(sheet: Sheet, P: ParamBlocks, Xb: Block, Yb: Block, F: ForwardBlocks,
                    lf: LongForm, sizes: Sizes) -> Dict[str, Block]:
    """Each Jacobian of jacobian.py as a block; structural zeros and ones as grey constants."""
    r = sheet.ref
    J = lf.jacobians
    n_in, n_hidden, n_out = sizes

    def flat(name: str, rows: int, cols: int) -> List[str]:
        return [f"d{name}[{a + 1},{j + 1}]" for a in range(rows) for j in range(cols)]

    def jacobian(name: str, title: str, note: str, row_labels: List[str], col_labels: List[str],
                 formula: Callable[[int, int], Optional[str]], integer: bool = False) -> Block:
        def entry(i: int, j: int):
            text = formula(i, j)
            return J[name][i][j] if text is None else Formula(text, J[name][i][j])
        shape = f"{len(row_labels)} x {len(col_labels)}"
        return sheet.block(name, f"{name}  ({shape}): {title}", f"{name}, {shape}.\n{note}",
                           JACOBIAN, row_labels, col_labels, entry, corner="row / column",
                           heatmap=len(row_labels) > 1, integer=integer)

    def delta(i: int, j: int) -> int:
        return 1 if i == j else 0

    blocks = {}
    blocks["dL/dp"] = jacobian(
        "dL/dp", "dL/dp_i = -y_i / p_i (0 where y_i = 0)",
        "L = -sum_i y_i ln p_i, so dL/dp_i = -y_i / p_i: only the true class's entry is not 0.",
        ["dL"], numbered("dp", n_out),
        lambda _, i: f"=IF({r(Yb.at(0, i))}=0,0,-{r(Yb.at(0, i))}/{r(F.p.at(0, i))})")
    blocks["dp/dz2"] = jacobian(
        "dp/dz2", "entry (i, j) = dp_i / dz2_j = p_i (delta_ij - p_j)",
        "The softmax Jacobian diag(p) - p p^T: dp_i/dz2_j = p_i (delta_ij - p_j), with "
        "delta_ij = 1 if i = j else 0 (written as the 1 or 0 in each formula).",
        numbered("dp", n_out), numbered("dz2", n_out),
        lambda i, j: f"={r(F.p.at(0, i))}*({delta(i, j)}-{r(F.p.at(0, j))})")
    blocks["dz2/dW2"] = jacobian(
        "dz2/dW2", "entry = dz2_k / dW2[a,j] = h_j if a = k, else 0",
        "z2_k = sum_j W2[k,j] h_j + b2_k depends on row k of W2 only.  W2 is flattened row by "
        "row: column (a, j) is W2[a,j].", numbered("dz2", n_out), flat("W2", n_out, n_hidden),
        lambda k, c: f"={r(F.h.at(0, c % n_hidden))}" if c // n_hidden == k else None)
    blocks["dz2/db2"] = jacobian(
        "dz2/db2", "the identity: z2_k = ... + b2_k", "dz2_k / db2_j = 1 if j = k, else 0.",
        numbered("dz2", n_out), numbered("db2", n_out), lambda k, j: None, integer=True)
    blocks["dz2/dh"] = jacobian(
        "dz2/dh", "entry = dz2_k / dh_j = W2[k,j]", "z2 = W2 h + b2, so dz2/dh is W2 itself.",
        numbered("dz2", n_out), numbered("dh", n_hidden),
        lambda k, j: f"={r(P.W2.at(k, j))}")
    blocks["dh/dz1"] = jacobian(
        "dh/dz1", "diag([z1 > 0]): dh_i / dz1_i = 1 if z1_i > 0, else 0",
        "h_i = max(0, z1_i) depends on z1_i only, with slope 1 where z1_i > 0.",
        numbered("dh", n_hidden), numbered("dz1", n_hidden),
        lambda i, j: f"=IF({r(F.z1.at(0, i))}>0,1,0)" if i == j else None, integer=True)
    blocks["dz1/dW1"] = jacobian(
        "dz1/dW1", "entry = dz1_i / dW1[a,j] = x_j if a = i, else 0",
        "z1_i = sum_j W1[i,j] x_j + b1_i depends on row i of W1 only.  W1 is flattened row by "
        "row: column (a, j) is W1[a,j].  Mostly zeros: this is why the long form is slow.",
        numbered("dz1", n_hidden), flat("W1", n_hidden, n_in),
        lambda i, c: f"={r(Xb.at(0, c % n_in))}" if c // n_in == i else None)
    blocks["dz1/db1"] = jacobian(
        "dz1/db1", "the identity: z1_i = ... + b1_i", "dz1_i / db1_j = 1 if j = i, else 0.",
        numbered("dz1", n_hidden), numbered("db1", n_hidden), lambda i, j: None, integer=True)
    return blocks


def write_chain(sheet: Sheet, J: Dict[str, Block], lf: LongForm) -> Dict[str, Block]:
    """Each product of the chain rule, left to right, entry by entry as a sum of products."""
    r = sheet.ref
    products = [("dL/dz2", "dL/dp", "dp/dz2"), ("dL/dW2", "dL/dz2", "dz2/dW2"),
                ("dL/db2", "dL/dz2", "dz2/db2"), ("dL/dh", "dL/dz2", "dz2/dh"),
                ("dL/dz1", "dL/dh", "dh/dz1"), ("dL/dW1", "dL/dz1", "dz1/dW1"),
                ("dL/db1", "dL/dz1", "dz1/db1")]
    blocks = dict(J)
    for name, left_name, right_name in products:
        left, right = blocks[left_name], blocks[right_name]

        def entry(_: int, j: int, left=left, right=right, name=name):
            terms = [f"{r(left.at(0, k))}*{r(right.at(k, j))}" for k in range(left.cols)]
            return Formula("=" + "+".join(terms), lf.jacobians[name][0][j])

        blocks[name] = sheet.block(
            name, f"{name} = {left_name} . {right_name}  (1 x {right.cols})",
            f"{name} = {left_name} . {right_name}: entry j = sum_k ({left_name})_k "
            f"({right_name})[k, j] (jacobian.long_form_one).",
            JACOBIAN, ["dL"], right.col_labels, entry, corner="row / column")
    return blocks


def write_long_gradients(sheet: Sheet, chain: Dict[str, Block], short: ParamBlocks,
                         lf: LongForm, short_grads: Grads) -> Ref:
    """dL/dW1 ... reshaped to the parameters' shapes, and |long - short| (zero up to rounding)."""
    r = sheet.ref
    sizes = short_grads.sizes
    reshaped = {}
    for name in PARAM_NAMES:
        values = as_rows(getattr(lf.grads, name))
        cols = len(values[0])
        rows, col_labels = param_labels(name, sizes, f"d{name}", f"d{name}")
        flat = chain[f"dL/d{name}"]
        reshaped[name] = sheet.block(
            f"d{name} long", f"dL/d{name} reshaped to the shape of {name}",
            f"Entry (i, j) of d{name} is entry i * {cols} + j of the 1-row dL/d{name} "
            "(flattened row by row).", JACOBIAN, rows, col_labels,
            lambda i, j, flat=flat, cols=cols, values=values:
                copy_formula(sheet, flat.at(0, i * cols + j), values[i][j]),
            corner=corner(name, "d"), heatmap=name in ("W1", "W2"))
    sheet.heading("Long form minus short form: zero, up to rounding in the last digit")
    maxima = []
    for name in PARAM_NAMES:
        diffs = abs_differences(as_rows(getattr(lf.grads, name)),
                                as_rows(getattr(short_grads, name)))

        def difference(i: int, j: int, name=name, diffs=diffs) -> Formula:
            a, b = r(reshaped[name].at(i, j)), r(short.get(name).at(i, j))
            return Formula(f"=MAX({a}-{b},{b}-{a})", diffs[i][j])

        diff = sheet.block(
            f"|d{name} diff|", f"|long form - short form| for d{name}",
            "|a - b| written MAX(a - b, b - a).  The two forms add the same products in a "
            "different order, so they may differ in the last digit (about 1e-17), no more.",
            CHECK, reshaped[name].row_labels, reshaped[name].col_labels, difference,
            corner=corner(name, "d"))
        maxima.append((diff.area(), largest(diffs)))
    total = sheet.block(
        "max", "the largest |long form - short form| over all the parameters",
        "MAX over the four blocks above.", CHECK, ["largest"], ["value"],
        lambda i, j: Formula("=MAX(" + ",".join(r(area) for area, _ in maxima) + ")",
                             max(value for _, value in maxima)))
    return total.at(0, 0)


def long_form(settings: Settings) -> Book:
    params, X, Y = tiny_example(settings)
    step = take_step(params, X[:1], Y[:1], settings.lr)
    lf = long_form_one(params, step.traces[0])
    book = Book("purenet: backpropagation, long form")
    write_start(
        book, "Backpropagation the long way: every Jacobian, multiplied out",
        "purenet: long_form.xlsx",
        ["The chain rule as matrices: each Jacobian dA/dB (one row per entry of A, one column "
         "per entry of B) is built in full, then chained by matrix products from dL/dp down "
         "to dL/dW1.",
         "It gives exactly the short form's gradients, at the cost of huge, mostly-zero "
         "matrices (dz1/dW1 has n_hidden x n_hidden x n_in entries).",
         "One example (the first of forward_and_short_form.xlsx's mini-batch).  Matrices are "
         "flattened row by row: column (a, j) of dz1/dW1 is W1[a,j].",
         "A Jacobian's structural zeros and ones are grey constants; every other entry is a "
         "formula of the forward pass."],
        settings_rows(settings, settings.sizes, 1, settings.lr),
        [("Parameters", "x, y, W1, b1, W2, b2"),
         ("Forward", "z1, h, z2, m, e, s, p, L"),
         ("Jacobians", "dL/dp, dp/dz2, dz2/dW2, dz2/db2, dz2/dh, dh/dz1, dz1/dW1, dz1/db1"),
         ("Chain", "dL/dz2 = dL/dp . dp/dz2, then dL/dW2, dL/db2, dL/dh, dL/dz1, dL/dW1, dL/db1"),
         ("Short form", "the same gradients the short way, for comparison"),
         ("Gradients", "the long form's gradients reshaped to the parameters, and "
                       "|long - short| (all zero up to rounding)")])
    sheet = book.sheet("Parameters")
    sheet.header("Parameters: one example and the network's weights",
                 "Inputs (yellow) and parameters (blue).", back_to="Start")
    Xb, Yb = write_data(sheet, step.X, step.Y)
    P = write_parameters(sheet, params)
    F = forward_sheet(book, P, Xb, Yb, step)
    sheet = book.sheet("Jacobians")
    sheet.header("Jacobians: dA/dB has one row per entry of A, one column per entry of B",
                 "Row label dz2_1 and column label dW2[1,3]: the entry is dz2_1 / dW2[1,3].",
                 back_to="Start")
    J = write_jacobians(sheet, P, Xb, Yb, F, lf, params.sizes)
    sheet = book.sheet("Chain")
    sheet.header("Chain: the Jacobians multiplied, left to right, as on paper",
                 "dL/dz2 = dL/dp . dp/dz2,  dL/dW2 = dL/dz2 . dz2/dW2,  ...,  "
                 "dL/dW1 = dL/dz1 . dz1/dW1", back_to="Start")
    chain = write_chain(sheet, J, lf)
    S = short_form_sheet(book, P, Xb, Yb, F, step)
    sheet = book.sheet("Gradients")
    sheet.header("Gradients: the long form reshaped, and compared with the short form",
                 "dW1[i,j] is entry i * n_in + j of dL/dW1.", back_to="Start")
    write_long_gradients(sheet, chain, S.grads, lf, step.grads)
    return book


# --- training_steps.xlsx -----------------------------------------------------------------

def training_steps(settings: Settings) -> Book:
    params, X, Y = tiny_example(settings)
    steps = []
    for _ in range(settings.steps):
        steps.append(take_step(params, X, Y, settings.lr))
        params = steps[-1].new_params
    book = Book("purenet: consecutive SGD steps")
    N = settings.steps
    write_start(
        book, f"{N} steps of gradient descent, each a formula of the one before",
        "purenet: training_steps.xlsx",
        [f"The same mini-batch ({settings.batch} examples) trained for {N} steps.  Each step's "
         "weights are formulas of the previous step's weights and gradients, so editing the "
         "starting weights or lr on the Data sheet replays the whole run.",
         "Step 1 is the step of forward_and_short_form.xlsx.  Each step sheet holds the "
         "parameters it starts from, the forward pass, the short-form gradients and the update.",
         "The Loss sheet charts the mini-batch loss at each step (before its update)."],
        settings_rows(settings, settings.sizes, settings.batch, settings.lr)
        + [("steps", str(N))],
        [("Data", "x, y, lr and the starting weights")]
        + [(f"Step {t + 1}", "parameters in, forward, short form, update") for t in range(N)]
        + [("Loss", "the loss at every step, and its chart")])
    sheet = book.sheet("Data")
    sheet.header("Data: the mini-batch, the learning rate and the starting weights",
                 "Inputs (yellow) and parameters (blue): every later number is a formula of "
                 "these.", back_to="Start")
    Xb, Yb = write_data(sheet, X, Y)
    lr = write_lr(sheet, settings.lr)
    sheet.heading("Starting weights (network.he_init)")
    source = write_parameters(sheet, steps[0].params)
    losses = []
    for t, step in enumerate(steps, 1):
        sheet = book.sheet(f"Step {t}")
        sheet.header(f"Step {t}: forward, short form, update",
                     f"Parameters from {'Data' if t == 1 else f'Step {t - 1}'}, "
                     f"new parameters to {'Step ' + str(t + 1) if t < N else 'nowhere (the end)'}.",
                     back_to="Start")
        sheet.heading(f"Parameters going into step {t}")
        P = write_parameters(sheet, step.params, source,
                             source_name="Data" if t == 1 else f"Step {t - 1}")
        sheet.heading("Forward pass")
        F = write_forward(sheet, P, Xb, Yb, step)
        sheet.heading("Backpropagation, short form")
        S = write_short_form(sheet, P, Xb, Yb, F, step)
        sheet.heading("Update")
        source = write_update(sheet, P, S.grads, lr, step.new_params)
        losses.append(F.loss)
    sheet = book.sheet("Loss")
    sheet.header("Loss: the mini-batch loss L at each step, before its update",
                 "Each value is a reference to its step sheet.", back_to="Start")
    L = sheet.block("L", "L at each step", "L of the mini-batch at step t, from sheet 'Step t'.",
                    INTERMEDIATE, [str(t) for t in range(1, N + 1)], ["L"],
                    lambda t, _: copy_formula(sheet, losses[t], steps[t].loss), corner="step")
    step_numbers = Area(sheet.title, L.top, 1, L.top + N - 1, 1)   # the row labels
    sheet.line_chart(f"D{L.top - 2}", "The mini-batch loss at each step", "step", "L",
                     step_numbers, L.column(0), "L")
    return book


# --- digit_trace.xlsx ----------------------------------------------------------------------

def digit_trace(settings: Settings, digit: Digit) -> Book:
    x = average_pool(digit.image)
    y = one_hot(digit.label, N_CLASSES)
    sizes = (len(x), DIGIT_HIDDEN, N_CLASSES)
    params = he_init(sizes, settings.seed)
    step = take_step(params, [x], [y], settings.lr)
    book = Book("purenet: an MNIST digit traced through one training step")
    write_start(
        book, f"A real digit, traced: MNIST test image {digit.index} (a {digit.label})",
        "purenet: digit_trace.xlsx",
        ["A handwritten digit from the MNIST test set, averaged down to 7 x 7 = 49 inputs, "
         "goes through a 49-8-10 network for one training step.",
         "The Digit sheet shows the 28 x 28 pixels and the 7 x 7 average as pictures; x on "
         "the Parameters sheet is a formula of the pixels.",
         "Same layout and colours as forward_and_short_form.xlsx: forward pass, short-form "
         "gradients, update, and a check by central differences."],
        [("network", f"{sizes[0]}-{sizes[1]}-{sizes[2]}, ReLU hidden layer, softmax output, "
                     "cross-entropy loss"),
         ("digit", f"MNIST test image {digit.index}, label {digit.label}"),
         ("pooling", "x_(7r+c) = sum of the 4 x 4 pixels at (4r, 4c) / (16 * 255), "
                     "r, c = 0..6"),
         ("seed", f"{settings.seed} (network.he_init)"),
         ("lr", repr(settings.lr)),
         ("regenerate", settings.command())],
        [("Digit", "the 28 x 28 pixels and their 7 x 7 average"),
         ("Parameters", "x (49 inputs), y, W1, b1, W2, b2 and lr"),
         ("Forward", "z1, h, z2, m, e, s, p, L"),
         ("Short form", "dz2, dW2, dh, the ReLU mask, dz1, dW1, db1, db2"),
         ("Update", "new W1, b1, W2, b2"),
         ("Check", "central differences against the short form")])
    sheet = book.sheet("Digit")
    sheet.header(f"Digit: MNIST test image {digit.index}, labelled {digit.label}",
                 "Left: the pixels, 0 (paper) to 255 (ink).  Right: x, the mean of each 4 x 4 "
                 "square scaled to [0, 1].", back_to="Start")
    top = sheet.row
    pixels = sheet.block(
        "pixel", "the 28 x 28 pixels, 0 .. 255 (row-major: pixel_(28r + c))",
        "The raw image from t10k-images-idx3-ubyte.gz, one grey level 0..255 per cell.",
        INPUT, [f"row {i + 1}" for i in range(DIGIT_SIDE)], [str(j + 1) for j in range(DIGIT_SIDE)],
        lambda i, j: digit.image[i * DIGIT_SIDE + j], integer=True, scale=(0, 255))
    square = POOL * POOL * 255

    def pooled(r: int, c: int) -> Formula:
        first = pixels.at(POOL * r, POOL * c)
        last = pixels.at(POOL * r + POOL - 1, POOL * c + POOL - 1)
        return Formula(f"=SUM({sheet.ref(first)}:{last.a1})/{square}", x[POOLED_SIDE * r + c])

    picture = sheet.block(
        "x (7 x 7)", f"x as a 7 x 7 picture: x_(7r+c) = SUM(4 x 4 pixels) / {square}",
        f"Average pooling: each x is the mean of a 4 x 4 square of pixels, divided by 255:\n"
        f"x_(7r+c) = SUM(pixels of rows 4r+1..4r+4, columns 4c+1..4c+4) / (16 * 255 = {square}).",
        INTERMEDIATE, [f"r={i + 1}" for i in range(POOLED_SIDE)],
        [f"c={j + 1}" for j in range(POOLED_SIDE)], pooled, scale=(0, 1),
        origin=(top, pixels.left + pixels.cols + 1))
    P, Xb, Yb, lr = parameters_sheet(
        book, step, settings.lr,
        x_source=lambda _, j: picture.at(j // POOLED_SIDE, j % POOLED_SIDE))
    F = forward_sheet(book, P, Xb, Yb, step)
    S = short_form_sheet(book, P, Xb, Yb, F, step)
    update_sheet(book, P, S.grads, lr, step)
    check_sheet(book, S.grads, step)
    return book


def build(settings: Settings, digit: Digit) -> Dict[str, Book]:
    """The four workbooks, by file name."""
    return {"forward_and_short_form.xlsx": forward_and_short_form(settings),
            "long_form.xlsx": long_form(settings),
            "training_steps.xlsx": training_steps(settings),
            "digit_trace.xlsx": digit_trace(settings, digit)}
