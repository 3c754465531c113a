"""The numbers the trace workbooks show, every one computed by purenet.

network.py computes the forward pass (forward), the backward pass with
every intermediate (backward_one: dz2, dW2, db2, dh, dz1, dW1, db1), the
mean over a mini-batch (backward) and the SGD update (sgd_step);
jacobian.py the long form; gradcheck.py the central differences.  This
module only runs them on the workbooks' examples and keeps what they
return; the momentum steps are train.momentum_step_'s (v <- mu v + g,
theta <- theta - lr v, as purenet train steps).  One rule is written here
because the workbooks show its pieces and gradcheck.py keeps only the
result:

    a nudged forward pass (gradcheck.py)       L(theta_k + eps) and L(theta_k - eps),
                                               the loss with one parameter entry moved,
                                               by network.forward on a copy

The tiny example: W1, W2 from network.he_init(sizes, seed), biases 0, and
inputs from gradcheck.kink_free_batch(params, batch, Random(seed + 1)),
uniform in [-1, 1], drawn again until every |z1_i| >= 1e-3 (so the central
differences never straddle ReLU's kink).  The targets are set to different
classes, example b of class b (counting from 1, modulo n_out), so that a
training run has to tell the examples apart.

The digit workbook averages a 28 x 28 MNIST image into 7 x 7 = 49 inputs:
x_(7r+c+1) = (sum of the 4 x 4 pixels at rows 4r+1..4r+4, columns
4c+1..4c+4) / (16 * 255), r, c = 0..6.
"""

import random
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ...gradcheck import EPS, kink_free_batch
from ...matrix import Matrix, Vector, copy
from ...network import (Backward, Grads, Params, Sizes, Trace, backward, backward_one, forward,
                        he_init, mean_loss, one_hot, sgd_step)
from ...train import momentum_step_, zeros_like

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
    mu: float = 0.9
    steps: int = 10
    digit: int = 0

    def command(self) -> str:
        n_in, n_hidden, n_out = self.sizes
        return (f"python3 -m purenet export-xlsx --sizes {n_in},{n_hidden},{n_out} "
                f"--batch {self.batch} --seed {self.seed} --lr {self.lr!r} "
                f"--momentum {self.mu!r} --steps {self.steps} --digit {self.digit}")


@dataclass(frozen=True)
class Digit:
    """One MNIST image, as mnist.Dataset holds it."""
    image: bytes
    label: int
    index: int


@dataclass
class Step:
    """One step on a mini-batch: every number its sheets show, computed by purenet."""
    params: Params
    X: List[Vector]
    Y: List[Vector]
    traces: List[Trace]
    per_example: List[Backward]   # backward_one of each example
    grads: Grads                  # backward: the mean of per_example
    new_params: Params            # sgd_step, or the momentum step
    after: List[Trace]            # the forward pass again, with new_params
    v: Optional[Grads] = None     # momentum: the velocity going in ...
    new_v: Optional[Grads] = None  # ... and coming out

    @property
    def loss(self) -> float:
        return mean_loss(self.traces)

    @property
    def loss_after(self) -> float:
        return mean_loss(self.after)


def copy_params(params: Params) -> Params:
    """A copy whose rows can be changed in place without touching `params`."""
    return Params(W1=copy(params.W1), b1=list(params.b1), W2=copy(params.W2), b2=list(params.b2))


def take_step(params: Params, X: List[Vector], Y: List[Vector], lr: float,
              mu: Optional[float] = None, v: Optional[Grads] = None) -> Step:
    """Forward, backward, update (SGD, or momentum when mu is given), and the loss after."""
    traces = forward(params, X, Y)
    per_example = [backward_one(params, t) for t in traces]
    grads = backward(params, traces)
    new_v = None
    if mu is None:
        new = sgd_step(params, grads, lr)
    else:
        # train.momentum_step_ works in place: hand it copies, keep v and params as they were.
        v = v if v is not None else zeros_like(params)
        new, new_v = copy_params(params), copy_params(v)
        momentum_step_(new, new_v, grads, lr, mu)
    return Step(params, X, Y, traces, per_example, grads, new, forward(new, X, Y), v, new_v)


def run_steps(params: Params, X: List[Vector], Y: List[Vector], lr: float, steps: int,
              mu: Optional[float] = None) -> List[Step]:
    out: List[Step] = []
    v = None
    for _ in range(steps):
        out.append(take_step(params, X, Y, lr, mu, v))
        params, v = out[-1].new_params, out[-1].new_v
    return out


def tiny_example(settings: Settings) -> Tuple[Params, List[Vector], List[Vector]]:
    """He-initialised weights, a kink-free mini-batch, example b of class b (mod n_out)."""
    params = he_init(settings.sizes, settings.seed)
    X, _ = kink_free_batch(params, settings.batch, random.Random(settings.seed + 1))
    n_out = settings.sizes[2]
    Y = [one_hot(b % n_out, n_out) for b in range(settings.batch)]
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


# --- nudged forward passes (the live central differences) ------------------------------

@dataclass
class Nudge:
    """The forward pass of the mini-batch with one parameter entry moved by +eps or -eps."""
    name: str                 # "W1", "b1", "W2" or "b2"
    i: int                    # row (a weight) or entry (a bias), 0-based
    j: int                    # column (a weight), 0 for a bias
    sign: int                 # +1 or -1
    row: Vector               # the nudged row of the weight, or the whole nudged bias
    traces: List[Trace]
    loss: float


def nudge(params: Params, X: List[Vector], Y: List[Vector], name: str, i: int, j: int,
          sign: int, eps: float = EPS) -> Nudge:
    """network.forward with entry (i, j) of `name` set to its value + sign * eps, as
    gradcheck.numerical_grads does it."""
    work = copy_params(params)
    array = getattr(work, name)
    if isinstance(array[0], list):
        array[i][j] = array[i][j] + sign * eps if sign > 0 else array[i][j] - eps
        row = array[i]
    else:
        array[i] = array[i] + eps if sign > 0 else array[i] - eps
        row = array
    traces = forward(work, X, Y)
    return Nudge(name, i, j, sign, list(row), traces, mean_loss(traces))


def entries(params: Params, name: str) -> List[Tuple[int, int]]:
    """Every (i, j) of a parameter, row by row; (i, 0) for a bias."""
    array = getattr(params, name)
    if isinstance(array[0], list):
        return [(i, j) for i in range(len(array)) for j in range(len(array[0]))]
    return [(i, 0) for i in range(len(array))]


def central_difference(plus: Nudge, minus: Nudge, eps: float = EPS) -> float:
    """(L(theta + eps) - L(theta - eps)) / (2 eps), as gradcheck._central_differences."""
    return (plus.loss - minus.loss) / (2.0 * eps)


def as_rows(values) -> Matrix:
    """A matrix as itself, a vector as a 1-row matrix: how blocks hold them."""
    return values if isinstance(values[0], list) else [values]


def columns(values: Sequence[Vector]) -> Matrix:
    return [list(col) for col in zip(*values)]
