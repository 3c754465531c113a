"""The training loop's fast path: the same maths as network.py, arranged for speed.

network.py says what is computed; this file computes the same numbers
for a mini-batch of MNIST images faster, and tests/test_fast.py checks
that they agree with network.py to 1e-12.  Three things make it faster,
each because a Python-level loop over numbers is slow (tens of
nanoseconds per step) while a loop inside a C builtin is not:

1. Most pixels are 0 (about 81% of MNIST), and 0 * w contributes nothing.
   So the first layer only looks at the non-zero pixels j of x:

       z1 = b1 + sum_{j : x_j != 0} x_j W1[:, j]

   That is why the first layer is kept transposed, as ``W1T`` with
   ``W1T[j] = W1[:, j]`` (n_in rows of n_hidden): the columns a sparse x
   needs are whole rows, picked with one index each.

2. Inner products run inside ``math.sumprod`` (Python 3.12+), a C loop
   with no Python object per term.  Older Pythons fall back to
   ``sum(map(mul, a, b))``, also a C loop but about twice as slow.

3. dW1 = sum_n dz1_n x_n^T over the mini-batch is gathered per pixel:
   row j of dW1T is  sum_{n : x_nj != 0} x_nj dz1_n,  a weighted sum over
   only the examples whose pixel j is lit, so a zero pixel costs nothing
   and no entry of dW1 is touched one at a time.  Each lit pixel costs a
   call per hidden unit, so the whole batch is gathered at once (a pixel
   lit anywhere in it is visited once, not once per piece of the batch).
   A pixel lit in just one example is a scaled copy x_nj dz1_n, one list
   comprehension instead of n_hidden calls.

The work comes in two stages, and parallel.py shares each among processes:

    per example:  x -> z1 -> h -> z2 -> p, L -> dz2 -> dh -> dz1
                  (examples_backprop: examples are independent)
    per pixel:    column j of dW1 from every example's dz1
                  (pixel_columns: pixels are independent)

Every column is the same sum over the same examples in the same order,
however the pixels are shared out, so the gradient is bit-identical
whatever the number of processes.

Symbols are network.py's: x, y, W1 (here W1T), b1, z1, h, W2, b2, z2, p, L;
dW1T[j] is column j of dL/dW1 (summed over the batch, not yet averaged).
"""

from dataclasses import dataclass
from itertools import repeat
from operator import add, mul
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

from .mnist import X_OF_PIXEL
from .matrix import Matrix, Vector, argmax, sub, total, transpose
from .network import Params, cross_entropy, one_hot, softmax

try:
    from math import sumprod  # Python 3.12+
except ImportError:  # pragma: no cover - exercised on 3.9-3.11
    def sumprod(a, b):  # type: ignore[no-redef]
        """sum_i a_i b_i, for Pythons without math.sumprod."""
        return sum(map(mul, a, b))


@dataclass
class FastNet:
    """The parameters in the fast layout: W1T (n_in x n_hidden), b1, W2 (n_out x n_hidden), b2."""
    W1T: Matrix
    b1: Vector
    W2: Matrix
    b2: Vector

    @classmethod
    def from_params(cls, params: Params) -> "FastNet":
        return cls(W1T=transpose(params.W1), b1=list(params.b1),
                   W2=[list(row) for row in params.W2], b2=list(params.b2))

    def to_params(self) -> Params:
        return Params(W1=transpose(self.W1T), b1=list(self.b1),
                      W2=[list(row) for row in self.W2], b2=list(self.b2))


@dataclass
class Backprop:
    """Forward and short-form backward of some examples, up to dz1 (row n: example n).

    Everything the weight gradients are built from: dW1 from dZ1 and the
    pixels, dW2 from dZ2 and H, db1 and db2 from dZ1 and dZ2.
    """
    H: List[Vector]       # h_n
    dZ2: List[Vector]     # dz2_n = p_n - y_n
    dZ1: List[Vector]     # dz1_n = (W2^T dz2_n) * relu'(z1_n)
    L: List[float]        # L_n, each example's loss (added up once, in example order)
    correct: int


@dataclass
class BatchGrads:
    """Sums over the examples of a mini-batch (divide by the batch size for the mean).

    dW1T maps a pixel j to column j of dL/dW1 (n_hidden values); a pixel
    missing from the dict was 0 in every example, so its column is 0.
    """
    dW1T: Dict[int, Vector]
    db1: Vector
    dW2: Matrix
    db2: Vector
    loss_sum: float
    correct: int
    count: int


# pixel j -> (the examples n whose pixel j is lit, x_nj for each of them)
LitPixels = Dict[int, Tuple[List[int], List[float]]]


def sparse_x(image: bytes) -> Tuple[List[int], List[float]]:
    """The non-zero pixels of an image: their indices j and x_j = pixel / 255."""
    index = [j for j, v in enumerate(image) if v]
    return index, [X_OF_PIXEL[image[j]] for j in index]


def hidden_pre_activation(net: FastNet, index: List[int], xs: List[float]) -> Vector:
    """z1 = b1 + sum over lit pixels j of x_j W1T[j]."""
    columns = zip(*[net.W1T[j] for j in index])  # one tuple per hidden unit i
    return list(map(add, map(sumprod, columns, repeat(xs)), net.b1))


def forward_from_z1(net: FastNet, z1: Vector) -> Tuple[Vector, Vector]:
    """h = relu(z1) and z2 = W2 h + b2."""
    h = [v if v > 0.0 else 0.0 for v in z1]
    z2 = [sumprod(row, h) + b for row, b in zip(net.W2, net.b2)]
    return h, z2


def logits(params: Params, images: Sequence[bytes]) -> Iterator[Vector]:
    """z2 of each image, one at a time (the forward pass without the loss)."""
    net = FastNet.from_params(params)
    for image in images:
        index, xs = sparse_x(image)
        _, z2 = forward_from_z1(net, hidden_pre_activation(net, index, xs))
        yield z2


def predict_labels(params: Params, images: Sequence[bytes]) -> List[int]:
    """The most likely class argmax_k z2_k of each image (p is monotone in z2)."""
    return [argmax(z2) for z2 in logits(params, images)]


def predict_probabilities(params: Params, images: Sequence[bytes]) -> List[Vector]:
    """p = softmax(z2) of each image."""
    return [softmax(z2) for z2 in logits(params, images)]


def predict_with_confidence(params: Params, images: Sequence[bytes]
                            ) -> Tuple[List[int], List[float]]:
    """Each image's predicted digit k = argmax_k z2_k and its probability p_k, p = softmax(z2).

    One forward pass gives both: the digits of predict_labels, and how sure
    the network was of each (what the training report ranks mistakes by).
    """
    predicted, p_predicted = [], []
    for z2 in logits(params, images):
        k = argmax(z2)
        predicted.append(k)
        p_predicted.append(softmax(z2)[k])
    return predicted, p_predicted


def examples_backprop(net: FastNet, images: Sequence[bytes], labels: Sequence[int],
                      W2T: Sequence[Sequence[float]]) -> Backprop:
    """Forward and short-form backward of each example, up to dz1.

    W2T is the transpose of net.W2, passed in so that it is made once per batch.
    """
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


def joined(parts: Sequence[Backprop]) -> Backprop:
    """The Backprop of consecutive runs of examples, one after the other."""
    return Backprop(H=[h for b in parts for h in b.H], dZ2=[d for b in parts for d in b.dZ2],
                    dZ1=[d for b in parts for d in b.dZ1], L=[v for b in parts for v in b.L],
                    correct=sum(b.correct for b in parts))


def lit_pixels(images: Sequence[bytes]) -> LitPixels:
    """Each pixel lit in some image: the images n (in order) where it is lit, and x_nj."""
    lit: LitPixels = {}
    for n, image in enumerate(images):
        for j, xj in zip(*sparse_x(image)):
            examples, values = lit.setdefault(j, ([], []))
            examples.append(n)
            values.append(xj)
    return lit


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
    """Column j of dW1 for each of the given lit pixels j."""
    return {j: pixel_column(dZ1, *lit[j]) for j in pixels}


def batch_gradients_from(bp: Backprop, dW1T: Dict[int, Vector]) -> BatchGrads:
    """The gradient sums of a batch: dW1 columns as given, the rest from bp."""
    H_columns = list(zip(*bp.H))                       # H_columns[i][n] = h_n,i
    dW2 = [list(map(sumprod, repeat(col, len(H_columns)), H_columns)) for col in zip(*bp.dZ2)]
    return BatchGrads(dW1T=dW1T, db1=[total(col) for col in zip(*bp.dZ1)], dW2=dW2,
                      db2=[total(col) for col in zip(*bp.dZ2)], loss_sum=total(bp.L),
                      correct=bp.correct, count=len(bp.H))


def batch_gradients(net: FastNet, images: Sequence[bytes], labels: Sequence[int]) -> BatchGrads:
    """Gradient sums of a whole mini-batch in one process: every example, then every lit pixel."""
    bp = examples_backprop(net, images, labels, list(zip(*net.W2)))
    lit = lit_pixels(images)
    return batch_gradients_from(bp, pixel_columns(bp.dZ1, lit, lit))


def momentum_step_(net: FastNet, velocity: FastNet, grads: BatchGrads,
                   lr: float, momentum: float) -> None:
    """In place: v <- momentum v + g,  theta <- theta - lr v,  with g = grads / batch size.

    Pixels that were 0 in the whole batch have g = 0 there, so their rows
    only decay: v <- momentum v.
    """
    c = 1.0 / grads.count
    mu = momentum

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


def dense_grads(grads: BatchGrads, n_in: int) -> Params:
    """The mean gradients as Params in network.py's layout (for tests and checks)."""
    c = 1.0 / grads.count
    n_hidden = len(grads.db1)
    W1T = [[c * v for v in grads.dW1T[j]] if j in grads.dW1T else [0.0] * n_hidden
           for j in range(n_in)]
    return Params(W1=transpose(W1T), b1=[c * v for v in grads.db1],
                  W2=[[c * v for v in row] for row in grads.dW2], b2=[c * v for v in grads.db2])

