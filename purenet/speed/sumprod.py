"""The sumprod kernel: network.py's step with every inner product in C (the choice on CPython).

A Python-level loop over numbers costs tens of nanoseconds a step on
CPython, while a loop inside a C builtin does not.  So every inner
product here runs inside ``math.sumprod`` (Python 3.12+), a C loop with
no Python object per term; older Pythons fall back to
``sum(map(mul, a, b))``, also a C loop but about twice as slow.  (The two
round differently in the last bits: sumprod keeps extra precision, so
3.11 and 3.12 train to slightly different weights.)

The five functions every kernel has (stages.py says what each stage is):

    logits(net, image)            z2 of one image: the forward pass over its lit pixels,
                                  z1 = b1 + sum_{j lit} x_j W1T[j]
    examples_backprop(net, ...)   stage 1 for some examples: h, dz2 = p - y, dz1 = (W2^T dz2) * [z1 > 0]
    pixel_columns(dZ1, lit, js)   stage 2: column j of dW1 = sum over the examples n lit at j of x_nj dz1_n
    batch_gradients_from(bp, ...) the rest of the sums: dW2 = sum_n dz2_n h_n^T, db1, db2, L
    momentum_step_(net, v, g, ...) v <- mu v + g / B;  theta <- theta - lr v   (train.momentum_step_)

Each is tested equal to network.py's short form and train.momentum_step_
(tests/test_speed.py).
"""

from itertools import repeat
from operator import add, mul
from typing import Dict, Iterable, List, Sequence, Tuple

from ..matrix import Vector, argmax, sub, total
from ..network import cross_entropy, one_hot, softmax
from .stages import Backprop, BatchGrads, FastNet, LitPixels, sparse_x

try:
    from math import sumprod  # Python 3.12+
except ImportError:  # pragma: no cover - exercised on 3.9-3.11
    def sumprod(a, b):  # type: ignore[no-redef]
        """sum_i a_i b_i, for Pythons without math.sumprod."""
        return sum(map(mul, a, b))


def hidden_pre_activation(net: FastNet, index: List[int], xs: List[float]) -> Vector:
    """z1 = b1 + sum over lit pixels j of x_j W1T[j]."""
    if not index:
        # A blank image: z1 = b1.  (zip(*[]) below would give no hidden units at all.)
        return list(net.b1)
    columns = zip(*[net.W1T[j] for j in index])  # one tuple per hidden unit i
    return list(map(add, map(sumprod, columns, repeat(xs)), net.b1))


def forward_from_z1(net: FastNet, z1: Vector) -> Tuple[Vector, Vector]:
    """h = relu(z1) and z2 = W2 h + b2."""
    h = [v if v > 0.0 else 0.0 for v in z1]
    z2 = [sumprod(row, h) + b for row, b in zip(net.W2, net.b2)]
    return h, z2


def logits(net: FastNet, image: bytes) -> Vector:
    """z2 of one image (the forward pass without the loss)."""
    _, z2 = forward_from_z1(net, hidden_pre_activation(net, *sparse_x(image)))
    return z2


def examples_backprop(net: FastNet, images: Sequence[bytes], labels: Sequence[int]) -> Backprop:
    """Stage 1: forward and short-form backward of each example, up to dz1."""
    if len(images) != len(labels):
        raise ValueError(f"examples_backprop: {len(images)} images for {len(labels)} labels")
    W2T = list(zip(*net.W2))                           # made once for all the examples
    H: List[Vector] = []
    dZ2: List[Vector] = []
    dZ1: List[Vector] = []
    L: List[float] = []
    correct = 0
    for image, label in zip(images, labels):
        z1 = hidden_pre_activation(net, *sparse_x(image))
        h, z2 = forward_from_z1(net, z1)
        y = one_hot(label, len(z2))
        L.append(cross_entropy(z2, y))
        correct += argmax(z2) == label
        dz2 = sub(softmax(z2), y)
        dh = list(map(sumprod, W2T, repeat(dz2)))      # dh = W2^T dz2
        H.append(h)
        dZ2.append(dz2)
        dZ1.append([d if z > 0.0 else 0.0 for d, z in zip(dh, z1)])
    return Backprop(H, dZ2, dZ1, L, correct)


def pixel_column(dZ1: Sequence[Vector], examples: List[int], values: List[float]) -> Vector:
    """Column j of dW1 summed over a batch: the sum of x_nj dz1_n over the examples n lit at j."""
    if len(examples) == 1:
        # One term: a scaled copy is the same rounded product x_nj * dz1_n,i that
        # a one-term sumprod returns, without n_hidden calls.
        xj = values[0]
        return [xj * d for d in dZ1[examples[0]]]
    return list(map(sumprod, zip(*[dZ1[n] for n in examples]), repeat(values)))


def pixel_columns(dZ1: Sequence[Vector], lit: LitPixels,
                  pixels: Iterable[int]) -> Dict[int, Vector]:
    """Stage 2: column j of dW1 for each of the given lit pixels j."""
    return {j: pixel_column(dZ1, *lit[j]) for j in pixels}


def batch_gradients_from(bp: Backprop, dW1T: Dict[int, Vector]) -> BatchGrads:
    """The gradient sums of a batch: dW1 columns as given, dW2, db1, db2 and L from bp."""
    H_columns = list(zip(*bp.H))                       # H_columns[i][n] = h_n,i
    dW2 = [list(map(sumprod, repeat(col, len(H_columns)), H_columns)) for col in zip(*bp.dZ2)]
    return BatchGrads(dW1T=dW1T, db1=[total(col) for col in zip(*bp.dZ1)], dW2=dW2,
                      db2=[total(col) for col in zip(*bp.dZ2)], loss_sum=total(bp.L),
                      correct=bp.correct, count=len(bp.H))


def momentum_step_(net: FastNet, velocity: FastNet, grads: BatchGrads,
                   lr: float, mu: float) -> None:
    """In place: v <- mu v + g,  theta <- theta - lr v,  with g = grads / batch size.

    Pixels that were 0 in the whole batch have g = 0 there, so their rows
    only decay: v <- mu v.
    """
    c = 1.0 / grads.count

    def update_row(theta: Vector, v: Vector, g) -> Tuple[Vector, Vector]:
        if g is None:
            v = [mu * a for a in v]
        else:
            v = [mu * a + c * b for a, b in zip(v, g)]
        return [t - lr * a for t, a in zip(theta, v)], v

    for j in range(len(net.W1T)):
        net.W1T[j], velocity.W1T[j] = update_row(net.W1T[j], velocity.W1T[j], grads.dW1T.get(j))
    for k in range(len(net.W2)):
        net.W2[k], velocity.W2[k] = update_row(net.W2[k], velocity.W2[k], grads.dW2[k])
    net.b1, velocity.b1 = update_row(net.b1, velocity.b1, grads.db1)
    net.b2, velocity.b2 = update_row(net.b2, velocity.b2, grads.db2)
