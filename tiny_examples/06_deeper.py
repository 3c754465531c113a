"""06: a deeper network, three hidden layers, in batch matrix form, checked by central differences.

The story.  Nothing in backpropagation is special to one hidden layer.
Number the layers l = 1 .. D+1 (D hidden layers, then the output layer),
call the input a_0 = x and the activations a_l:

    z_l = W_l a_{l-1} + b_l          W_l is n_l x n_{l-1}
    a_l = relu(z_l)                  for the hidden layers, l = 1 .. D
    p   = softmax(z_{D+1}),   L = -ln p_k

The short form of chapter 3, applied to one layer after another, is one
recursion, from the output back to the input:

    dz_{D+1} = p - y
    dW_l     = dz_l a_{l-1}^T,   db_l = dz_l
    dz_{l-1} = (W_l^T dz_l) * [z_{l-1} > 0]      for l = D+1 down to 2

With D = 1 these are the seven lines of network.py: a_1 = h, z_2 the
logits.

This script computes a whole mini-batch at once, one example per row of
a matrix (chapter 6), with purenet's matrix module and nothing else:

    A_0      = X                                      B x n_0
    Z_l      = A_{l-1} W_l^T + 1 b_l^T                B x n_l
    A_l      = relu(Z_l)                              (hidden layers)
    P        = softmax of each row of Z_{D+1}
    dZ_{D+1} = (P - Y) / B                            B x n_{D+1}
    dW_l     = dZ_l^T A_{l-1}                         n_l x n_{l-1}, the shape of W_l
    db_l     = dZ_l^T 1                               the column sums of dZ_l
    dA_{l-1} = dZ_l W_l                               B x n_{l-1}
    dZ_{l-1} = dA_{l-1} * [Z_{l-1} > 0]

Row n of dZ_l is example n's dz_l divided by B, so dZ_l^T A_{l-1}, which
adds the B outer products dz_l a_{l-1}^T, is their mean: the gradient of
the mini-batch's mean loss.

It prints the shape of every product, then checks the gradients of a
5-7-6-4-3 network (three hidden layers) against central differences
(chapter 4), and, with one hidden layer, the same code against
network.backward itself.

Run:  python tiny_examples/06_deeper.py
"""

import math
import random
import sys
from pathlib import Path
from typing import List, Tuple

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from purenet.matrix import Matrix, Vector, flatten, madd, matmul, shape, total, transpose  # noqa: E402
from purenet.network import (Params, backward, cross_entropy, forward, one_hot,  # noqa: E402
                             relu, relu_step, softmax)

SIZES = (5, 7, 6, 4, 3)     # n_0 (inputs), three hidden layers, n_4 (classes)
BATCH = 2
SEED = 0
EPS = 1e-5                  # the central difference's step, as gradcheck.EPS
KINK_MARGIN = 1e-3          # every hidden |z| at least this far from ReLU's kink
TOLERANCE = 1e-6

Layer = Tuple[Matrix, Vector]     # (W_l, b_l)


# --- the network ------------------------------------------------------------

def random_layers(sizes, rng: random.Random) -> List[Layer]:
    """W_l ~ normal, mean 0, standard deviation sqrt(2 / n_{l-1}) (He); small random b_l."""
    layers = []
    for n_prev, n in zip(sizes, sizes[1:]):
        std = math.sqrt(2.0 / n_prev)
        W = [[rng.gauss(0.0, std) for _ in range(n_prev)] for _ in range(n)]
        b = [rng.uniform(-0.1, 0.1) for _ in range(n)]
        layers.append((W, b))
    return layers


def ones_times(b: Vector, B: int) -> Matrix:
    """1 b^T: the B x n matrix whose every row is b."""
    return [list(b) for _ in range(B)]


def forward_batch(layers: List[Layer], X: Matrix,
                  show: bool = False) -> Tuple[List[Matrix], List[Matrix], Matrix]:
    """([Z_1 .. Z_{D+1}], [A_0 .. A_D], P) for the mini-batch X (one example per row)."""
    Zs, As = [], [X]
    for l, (W, b) in enumerate(layers, start=1):
        WT = transpose(W)
        Z = madd(matmul(As[-1], WT), ones_times(b, len(X)))
        Zs.append(Z)
        if show:
            say(f"Z{l} = A{l - 1} W{l}^T + 1 b{l}^T", product(As[-1], WT, Z))
        if l < len(layers):
            As.append([relu(row) for row in Z])
    P = [softmax(row) for row in Zs[-1]]
    return Zs, As, P


def loss(layers: List[Layer], X: Matrix, Y: Matrix) -> float:
    """L = the mean over the rows of cross-entropy(z_{D+1}, y)."""
    Zs, _, _ = forward_batch(layers, X)
    return total(cross_entropy(z, y) for z, y in zip(Zs[-1], Y)) / len(X)


def backward_batch(layers: List[Layer], X: Matrix, Y: Matrix,
                   show: bool = False) -> List[Layer]:
    """[(dW_l, db_l) for each layer], by the recursion in the docstring."""
    Zs, As, P = forward_batch(layers, X, show)
    B = len(X)
    dZ = [[(pi - yi) / B for pi, yi in zip(p, y)] for p, y in zip(P, Y)]
    if show:
        say(f"dZ{len(layers)} = (P - Y) / B", f"{B} x {len(P[0])}")
    grads: List[Layer] = []
    for l in range(len(layers), 0, -1):               # l = D+1 down to 1
        W, b = layers[l - 1]
        dZT = transpose(dZ)
        dW = matmul(dZT, As[l - 1])
        db = [total(column) for column in dZT]
        grads.insert(0, (dW, db))
        if show:
            say(f"dW{l} = dZ{l}^T A{l - 1}", product(dZT, As[l - 1], dW),
                f"W{l} is {len(W)} x {len(W[0])}")
            say(f"db{l} = dZ{l}^T 1 (column sums)", f"{len(db)}", f"b{l} has {len(b)}")
        if l > 1:
            dA = matmul(dZ, W)
            mask = [relu_step(row) for row in Zs[l - 2]]
            if show:
                say(f"dA{l - 1} = dZ{l} W{l}", product(dZ, W, dA))
            dZ = [[d * m for d, m in zip(d_row, m_row)] for d_row, m_row in zip(dA, mask)]
            if show:
                say(f"dZ{l - 1} = dA{l - 1} * [Z{l - 1} > 0]", f"{len(dZ)} x {len(dZ[0])}")
    return grads


def product(A: Matrix, B: Matrix, C: Matrix) -> str:
    """'(r x k)(k x c) = r x c' for C = A B, after checking that the shapes fit."""
    (r, k), (k2, c), (r2, c2) = shape(A), shape(B), shape(C)
    assert k == k2 and (r, c) == (r2, c2)
    return f"({r} x {k})({k2} x {c}) = {r2} x {c2}"


def say(equation: str, shape_text: str, note: str = "") -> None:
    print(f"  {equation:<30}{shape_text:<26}{note}".rstrip())


# --- the checks -------------------------------------------------------------

def kink_free_batch(layers: List[Layer], rng: random.Random, n_in: int, n_out: int
                    ) -> Tuple[Matrix, Matrix]:
    """Random examples, drawn again until every hidden |z| >= KINK_MARGIN (chapter 4)."""
    X, Y = [], []
    while len(X) < BATCH:
        x = [rng.uniform(-1.0, 1.0) for _ in range(n_in)]
        Zs, _, _ = forward_batch(layers, [x])
        if all(abs(v) >= KINK_MARGIN for Z in Zs[:-1] for v in Z[0]):
            X.append(x)
            Y.append(one_hot(rng.randrange(n_out), n_out))
    return X, Y


def masks(layers: List[Layer], X: Matrix) -> List[Matrix]:
    Zs, _, _ = forward_batch(layers, X)
    return [[relu_step(row) for row in Z] for Z in Zs[:-1]]


def central_differences(layers: List[Layer], X: Matrix, Y: Matrix) -> Tuple[List[Layer], int]:
    """(dL/dW_l and dL/db_l by (L(+eps) - L(-eps)) / 2 eps, how many nudges flipped a ReLU)."""
    before, flips, numeric = masks(layers, X), 0, []
    for W, b in layers:
        entries = [(row, j) for row in W for j in range(len(row))] + [(b, i) for i in range(len(b))]
        values = []
        for array, k in entries:
            original = array[k]
            array[k] = original + EPS
            plus, flips = loss(layers, X, Y), flips + (masks(layers, X) != before)
            array[k] = original - EPS
            minus, flips = loss(layers, X, Y), flips + (masks(layers, X) != before)
            array[k] = original
            values.append((plus - minus) / (2 * EPS))
        n_rows, n_cols = shape(W)
        numeric.append(([values[i * n_cols:(i + 1) * n_cols] for i in range(n_rows)],
                        values[n_rows * n_cols:]))
    return numeric, flips


def relative_error(a: Vector, b: Vector) -> float:
    """max |a - b| / max(max |a|, max |b|), as chapter 4 (gradcheck.relative_error)."""
    scale = max(max(abs(v) for v in a), max(abs(v) for v in b))
    return max(abs(u - v) for u, v in zip(a, b)) / scale if scale else 0.0


def layer_entries(layer: Layer) -> Vector:
    return flatten(layer[0]) + list(layer[1])


def main() -> None:
    rng = random.Random(SEED)
    layers = random_layers(SIZES, rng)
    X, Y = kink_free_batch(layers, rng, SIZES[0], SIZES[-1])
    n_params = sum(len(layer_entries(layer)) for layer in layers)
    print(f"Network {'-'.join(map(str, SIZES))}: {len(SIZES) - 2} hidden layers, "
          f"{n_params} weights and biases; a mini-batch of {BATCH}, one example per row of X.")
    print()
    print("Forward, then backward from the output layer down, with the shape of every product:")
    grads = backward_batch(layers, X, Y, show=True)
    print()

    numeric, flips = central_differences(layers, X, Y)
    print(f"Central differences, eps {EPS:g}: {2 * n_params} forward passes, "
          f"every hidden |z| >= {KINK_MARGIN:g} (no ReLU kinks)")
    worst = 0.0
    for l, (g, n) in enumerate(zip(grads, numeric), start=1):
        error = relative_error(layer_entries(g), layer_entries(n))
        worst = max(worst, error)
        print(f"  layer {l}: W{l} {shape(g[0])[0]} x {shape(g[0])[1]}, b{l} {len(g[1])}"
              f"   relative error {error:.1e}")
    print(f"  nudges that switched a ReLU on or off: {flips}")
    print(f"  largest relative error {worst:.1e}: "
          f"{'PASS' if worst <= TOLERANCE else 'FAIL'} (tolerance {TOLERANCE:g})")
    print()

    # One hidden layer: the same code must give network.py's gradients.
    small = random_layers((4, 3, 3), rng)
    Xs, Ys = kink_free_batch(small, rng, 4, 3)
    (dW1, db1), (dW2, db2) = backward_batch(small, Xs, Ys)
    (W1, b1), (W2, b2) = small
    g = backward(Params(W1=W1, b1=b1, W2=W2, b2=b2), forward(Params(W1=W1, b1=b1, W2=W2, b2=b2),
                                                               Xs, Ys))
    difference = relative_error(flatten(dW1) + db1 + flatten(dW2) + db2,
                                flatten(g.W1) + g.b1 + flatten(g.W2) + g.b2)
    print("With one hidden layer (4-3-3), the batch matrix form against network.backward")
    print(f"(one example at a time, then the mean): relative difference {difference:.1e}")
    if worst > TOLERANCE or difference > 1e-12:
        sys.exit("06_deeper: a check failed")


if __name__ == "__main__":
    main()
