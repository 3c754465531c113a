"""The training step in two stages, and what passes between them.

A mini-batch's gradient has two parts that can be computed apart:

    stage 1, per example:  x -> z1 -> h -> z2 -> p, L -> dz2 -> dh -> dz1
                           (examples are independent of each other)
    stage 2, per pixel:    column j of dW1 = sum over the examples n whose
                           pixel j is lit of x_nj dz1_n
                           (pixels are independent of each other)

A kernel (sumprod.py, loops.py) computes each stage its own way; an
engine (serial.py, parallel.py) decides who computes which part.  This
module holds what they share:

    FastNet      the weights with W1 kept transposed: W1T[j] = W1[:, j]
    Backprop     stage 1's answer for some examples: h, dz2, dz1, L
    LitPixels    for each pixel lit somewhere in the batch, where and how bright
    BatchGrads   the batch's gradient sums, dW1 as a dict of columns
    example_runs, pixel_groups    how the work of each stage is shared out

Why W1 transposed: most pixels are 0 (about 81% of MNIST) and a 0 pixel
adds nothing to z1 = W1 x + b1, so the first layer only looks at the lit
pixels j; column W1[:, j] is then a whole row W1T[j], picked with one
index.  The same holds for dW1, whose column j is all that pixel j touches.

Symbols are network.py's; dW1T[j] is column j of dL/dW1, summed over the
batch (not yet divided by the batch size B).
"""

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from ..matrix import Matrix, Vector, transpose
from ..network import X_OF_PIXEL, Params


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
    """Stage 1 for some examples (row n: example n): everything the weight gradients are built from.

    dW1 from dZ1 and the pixels, dW2 from dZ2 and H, db1 and db2 from dZ1 and dZ2.
    """
    H: List[Vector]       # h_n
    dZ2: List[Vector]     # dz2_n = p_n - y_n
    dZ1: List[Vector]     # dz1_n = (W2^T dz2_n) * [z1_n > 0]
    L: List[float]        # L_n, each example's loss (added up once, in example order)
    correct: int          # how many of the examples argmax_k z2_k got right


@dataclass
class BatchGrads:
    """Sums over the examples of a mini-batch (divide by count for the mean).

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
    """The lit pixels of an image: their indices j and x_j = pixel_j / 255 (network.to_vector)."""
    index = [j for j, v in enumerate(image) if v]
    return index, [X_OF_PIXEL[image[j]] for j in index]


def lit_pixels(images: Sequence[bytes]) -> LitPixels:
    """Each pixel lit in some image: the images n (in order) where it is lit, and x_nj."""
    lit: LitPixels = {}
    for n, image in enumerate(images):
        for j, xj in zip(*sparse_x(image)):
            examples, values = lit.setdefault(j, ([], []))
            examples.append(n)
            values.append(xj)
    return lit


def joined(parts: Sequence[Backprop]) -> Backprop:
    """The Backprop of consecutive runs of examples, one after the other."""
    return Backprop(H=[h for b in parts for h in b.H], dZ2=[d for b in parts for d in b.dZ2],
                    dZ1=[d for b in parts for d in b.dZ1], L=[v for b in parts for v in b.L],
                    correct=sum(b.correct for b in parts))


def example_runs(n_examples: int, n_processes: int) -> List[range]:
    """Stage 1 shared out: consecutive runs of the examples, one per process, as equal as can be."""
    return [range(p * n_examples // n_processes, (p + 1) * n_examples // n_processes)
            for p in range(n_processes)]


def pixel_groups(lit: LitPixels, n_processes: int) -> List[List[int]]:
    """Stage 2 shared out: the lit pixels in order, cut into consecutive groups of about equal work.

    A column costs a call per hidden unit plus a term per lit example, so a
    pixel weighs 1 + (number of examples it is lit in).
    """
    pixels = sorted(lit)
    weights = [1 + len(lit[j][0]) for j in pixels]
    whole = sum(weights)
    groups: List[List[int]] = [[] for _ in range(n_processes)]
    done = 0
    for j, w in zip(pixels, weights):
        # the group whose share of the work the middle of this pixel falls in; the
        # middle, done + w / 2, is below whole (w >= 1), so the group is below n_processes
        groups[(2 * done + w) * n_processes // (2 * whole)].append(j)
        done += w
    return groups


def dense_grads(grads: BatchGrads, n_in: int) -> Params:
    """The mean gradients as Params in network.py's layout (to compare with network.backward)."""
    c = 1.0 / grads.count
    n_hidden = len(grads.db1)
    W1T = [[c * v for v in grads.dW1T[j]] if j in grads.dW1T else [0.0] * n_hidden
           for j in range(n_in)]
    return Params(W1=transpose(W1T), b1=[c * v for v in grads.db1],
                  W2=[[c * v for v in row] for row in grads.dW2], b2=[c * v for v in grads.db2])
