"""Backpropagation, long form: every Jacobian built, then chained by matmul.

The chain rule for one example, written as a product of Jacobians.  A
Jacobian dA/dB has one row per entry of A and one column per entry of B;
the loss L is a scalar, so dL/d(anything) is a 1-row matrix.  Matrices W
are flattened row by row, so entry W[i][j] is column i * cols + j.

    dL/dp     1 x n_out                    (dL/dp)_i      = -y_i / p_i
    dp/dz2    n_out x n_out                (dp/dz2)_ij    = p_i (delta_ij - p_j)
                                           i.e. diag(p) - p p^T
    dz2/dW2   n_out x (n_out n_hidden)     (dz2/dW2)_k,(a,j) = h_j if a == k else 0
    dz2/db2   n_out x n_out                identity
    dz2/dh    n_out x n_hidden             = W2
    dh/dz1    n_hidden x n_hidden          diag([z1 > 0])
    dz1/dW1   n_hidden x (n_hidden n_in)   (dz1/dW1)_i,(a,j) = x_j if a == i else 0
    dz1/db1   n_hidden x n_hidden          identity

and the chain, left to right, exactly as it is written on paper:

    dL/dz2 = dL/dp  . dp/dz2
    dL/dW2 = dL/dz2 . dz2/dW2        -> reshaped to n_out x n_hidden
    dL/db2 = dL/dz2 . dz2/db2
    dL/dh  = dL/dz2 . dz2/dh
    dL/dz1 = dL/dh  . dh/dz1
    dL/dW1 = dL/dz1 . dz1/dW1        -> reshaped to n_hidden x n_in
    dL/db1 = dL/dz1 . dz1/db1

The same chain bracketed the other way multiplies two matrices first:

    dp/dh  = dp/dz2 . dz2/dh       n_out x n_hidden: how each p_i moves with each h_j
    dL/dh  = dL/dp  . dp/dh        kept as "dL/dp . dp/dh": the same numbers as dL/dh
                                   above, up to rounding (the sums are grouped differently)

A product of matrices is associative, so either bracketing gives dL/dh;
reverse mode (left to right, a row times a matrix each time) never builds
a matrix-matrix product, which is why it is the cheap one.

Biases are kept as separate parameters, not folded into W as an extra
column, so dz1/dW1 has exactly n_hidden x (n_hidden n_in) entries.

This is the slow way on purpose.  dz1/dW1 alone has n_hidden^2 n_in
entries, almost all zero: for 784-512-10 that is 512 x 401,408 =
205,520,896.  So before it allocates anything, ``long_form`` counts the
entries of every matrix it would build (from the shapes alone) and raises
``BudgetError`` when the total is over a budget.  The short form in
network.py computes the same gradients with outer products instead.
"""

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from .matrix import Matrix, Vector, diag, identity, matmul, reshape
from .network import Grads, Params, Sizes, Trace, mean_grads, relu_step


class BudgetError(MemoryError):
    """The long form for these sizes would hold more entries than the budget allows."""


DEFAULT_MAX_ENTRIES = 50_000_000

# A list entry is one 8-byte pointer; the floats it points to are mostly
# shared (0.0, the x_j, the h_j), so 8 bytes per entry is the floor.
BYTES_PER_ENTRY = 8


def jacobian_shapes(sizes: Sizes) -> List[Tuple[str, int, int]]:
    """(name, rows, cols) of every matrix the long form builds for one example."""
    n_in, n_hidden, n_out = sizes
    return [
        ("dL/dp", 1, n_out),
        ("dp/dz2", n_out, n_out),
        ("dz2/dW2", n_out, n_out * n_hidden),
        ("dz2/db2", n_out, n_out),
        ("dz2/dh", n_out, n_hidden),
        ("dh/dz1", n_hidden, n_hidden),
        ("dz1/dW1", n_hidden, n_hidden * n_in),
        ("dz1/db1", n_hidden, n_hidden),
        ("dL/dz2", 1, n_out),
        ("dL/dW2", 1, n_out * n_hidden),
        ("dL/db2", 1, n_out),
        ("dL/dh", 1, n_hidden),
        ("dL/dz1", 1, n_hidden),
        ("dL/dW1", 1, n_hidden * n_in),
        ("dL/db1", 1, n_hidden),
        ("dp/dh", n_out, n_hidden),
        ("dL/dp . dp/dh", 1, n_hidden),
    ]


def total_entries(sizes: Sizes) -> int:
    return sum(rows * cols for _, rows, cols in jacobian_shapes(sizes))


def check_budget(sizes: Sizes, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
    """Raise BudgetError (one line) if the long form for `sizes` is too big."""
    total = total_entries(sizes)
    if total <= max_entries:
        return
    name, rows, cols = max(jacobian_shapes(sizes), key=lambda s: s[1] * s[2])
    n_in, n_hidden, n_out = sizes
    raise BudgetError(
        f"long form refused for {n_in}-{n_hidden}-{n_out}: its Jacobians hold "
        f"{total:,} entries (at least {total * BYTES_PER_ENTRY:,} bytes at "
        f"{BYTES_PER_ENTRY} bytes each), over the budget of {max_entries:,}; "
        f"{name} alone has {rows:,} x {cols:,} = {rows * cols:,} entries "
        f"(biases separate, not folded in); raise --max-entries to try anyway")


# --- the Jacobians ----------------------------------------------------------

def dL_dp(p: Vector, y: Vector) -> Matrix:
    """1 x n_out: dL/dp_i = -y_i / p_i  (0 where y_i = 0)."""
    row = []
    for pi, yi in zip(p, y):
        if yi == 0.0:
            row.append(0.0)
        elif pi == 0.0:
            raise ValueError("dL/dp = -y/p is undefined: p of the true class "
                             "underflowed to 0 (the short form has no such problem)")
        else:
            row.append(-yi / pi)
    return [row]


def dp_dz2(p: Vector) -> Matrix:
    """n_out x n_out softmax Jacobian: p_i (delta_ij - p_j)."""
    n = len(p)
    return [[p[i] * ((1.0 if i == j else 0.0) - p[j]) for j in range(n)] for i in range(n)]


def dz_dW(x: Vector, n_rows: int) -> Matrix:
    """Jacobian of z = W x + b with respect to W (n_rows x len(x)), flattened.

    z_i depends on W[a][j] only when a == i, and then by x_j:
    row i is zero except for x in the columns i * len(x) ... (i+1) * len(x) - 1.
    Used for dz2/dW2 (x = h) and dz1/dW1 (x = x).
    """
    n = len(x)
    J = []
    for i in range(n_rows):
        row = [0.0] * (n_rows * n)
        row[i * n:(i + 1) * n] = x
        J.append(row)
    return J


def dh_dz1(z1: Vector) -> Matrix:
    """n_hidden x n_hidden: diag([z1 > 0])."""
    return diag(relu_step(z1))


@dataclass
class LongForm:
    """Every Jacobian and every product of the chain, for one example."""
    jacobians: Dict[str, Matrix]
    grads: Grads


def long_form_one(params: Params, t: Trace,
                  max_entries: int = DEFAULT_MAX_ENTRIES) -> LongForm:
    """Build each Jacobian of one example and chain them with matmul."""
    n_in, n_hidden, n_out = params.sizes
    check_budget(params.sizes, max_entries)
    J: Dict[str, Matrix] = {}
    J["dL/dp"] = dL_dp(t.p, t.y)
    J["dp/dz2"] = dp_dz2(t.p)
    J["dz2/dW2"] = dz_dW(t.h, n_out)
    J["dz2/db2"] = identity(n_out)
    J["dz2/dh"] = [list(row) for row in params.W2]
    J["dh/dz1"] = dh_dz1(t.z1)
    J["dz1/dW1"] = dz_dW(t.x, n_hidden)
    J["dz1/db1"] = identity(n_hidden)

    J["dL/dz2"] = matmul(J["dL/dp"], J["dp/dz2"])
    J["dL/dW2"] = matmul(J["dL/dz2"], J["dz2/dW2"])
    J["dL/db2"] = matmul(J["dL/dz2"], J["dz2/db2"])
    J["dL/dh"] = matmul(J["dL/dz2"], J["dz2/dh"])
    J["dL/dz1"] = matmul(J["dL/dh"], J["dh/dz1"])
    J["dL/dW1"] = matmul(J["dL/dz1"], J["dz1/dW1"])
    J["dL/db1"] = matmul(J["dL/dz1"], J["dz1/db1"])

    J["dp/dh"] = matmul(J["dp/dz2"], J["dz2/dh"])          # the other bracketing
    J["dL/dp . dp/dh"] = matmul(J["dL/dp"], J["dp/dh"])

    grads = Grads(W1=reshape(J["dL/dW1"][0], n_hidden, n_in),
                  b1=J["dL/db1"][0],
                  W2=reshape(J["dL/dW2"][0], n_out, n_hidden),
                  b2=J["dL/db2"][0])
    return LongForm(jacobians=J, grads=grads)


def long_form(params: Params, traces: Sequence[Trace],
              max_entries: int = DEFAULT_MAX_ENTRIES) -> Grads:
    """The mini-batch gradients by the long form: the mean over examples."""
    check_budget(params.sizes, max_entries)
    return mean_grads([long_form_one(params, t, max_entries).grads for t in traces])

