"""The network: one ReLU hidden layer, a softmax output, cross-entropy loss.

Symbols (the same names are used in every file and every spreadsheet):

    x   input,                  n_in           x_j = pixel_j / 255: MNIST's 784 grey levels in [0, 1]
    y   target, one-hot,        n_out          (y_k = 1 for the true class k)
    W1  first-layer weights,    n_hidden x n_in
    b1  first-layer biases,     n_hidden
    z1  = W1 x + b1             n_hidden       pre-activations of the hidden layer
    h   = relu(z1)              n_hidden       relu(z)_i = max(0, z_i)
    W2  second-layer weights,   n_out x n_hidden
    b2  second-layer biases,    n_out
    z2  = W2 h + b2             n_out          the logits
    p   = softmax(z2)           n_out          p_i = exp(z2_i) / sum_j exp(z2_j)
    L   = -sum_i y_i ln p_i     scalar         cross-entropy

The default sizes are (n_in, n_hidden, n_out) = (784, 512, 10).

Two numerical points.  softmax subtracts m = max(z2) before exponentiating:
the result is unchanged (the factor exp(-m) cancels) but exp never sees a
large positive number, so it cannot overflow.  L is computed from z2 rather
than from p, as  L = logsumexp(z2) - y . z2,  which is -sum y_i ln p_i
rewritten, and never takes ln(0) even when p_k underflows to 0.

Backpropagation, short form (this file; jacobian.py derives the same
numbers the long way).  For one example:

    dz2 = p - y                      dL/dz2, softmax and cross-entropy together
    dW2 = dz2 h^T                    outer product, n_out x n_hidden
    db2 = dz2
    dh  = W2^T dz2                   n_hidden
    dz1 = dh * [z1 > 0]              ReLU passes the gradient only where z1 > 0
    dW1 = dz1 x^T                    outer product, n_hidden x n_in
    db1 = dz1

For a mini-batch of B examples the loss is the mean of the B losses, so
each gradient is the mean of the B per-example gradients.

Gradients are returned in a ``Params`` too: ``grads.W1`` holds dL/dW1, and
so on, since a gradient has the shape of the parameter it belongs to.
"""

import math
import random
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from .matrix import (Matrix, Vector, add, dot, hadamard, madd, matvec, mscale,
                     msub, outer, scale, shape, sub, total, transpose, zeros,
                     zeros_vector)

Sizes = Tuple[int, int, int]
DEFAULT_SIZES: Sizes = (784, 512, 10)


@dataclass
class Params:
    """W1 (n_hidden x n_in), b1 (n_hidden), W2 (n_out x n_hidden), b2 (n_out)."""
    W1: Matrix
    b1: Vector
    W2: Matrix
    b2: Vector

    @property
    def sizes(self) -> Sizes:
        n_hidden, n_in = shape(self.W1)
        n_out, _ = shape(self.W2)
        return n_in, n_hidden, n_out

    def check_shapes(self) -> None:
        """Raise ValueError unless the four arrays fit one network."""
        n_hidden, n_in = shape(self.W1)
        n_out, n_hidden2 = shape(self.W2)
        if n_hidden2 != n_hidden or len(self.b1) != n_hidden or len(self.b2) != n_out:
            raise ValueError(
                f"inconsistent shapes: W1 {(n_hidden, n_in)}, b1 ({len(self.b1)},), "
                f"W2 {(n_out, n_hidden2)}, b2 ({len(self.b2)},)")


Grads = Params


@dataclass
class Trace:
    """Every intermediate of one example's forward pass."""
    x: Vector
    y: Vector
    z1: Vector
    h: Vector
    z2: Vector
    p: Vector
    L: float


@dataclass
class Backward:
    """Every intermediate of one example's backward pass, in the order it is computed."""
    dz2: Vector
    dW2: Matrix
    db2: Vector
    dh: Vector
    dz1: Vector
    dW1: Matrix
    db1: Vector

    @property
    def grads(self) -> "Grads":
        """dL/dW1, dL/db1, dL/dW2, dL/db2 of this example, as Params."""
        return Grads(W1=self.dW1, b1=self.db1, W2=self.dW2, b2=self.db2)


# --- the input --------------------------------------------------------------

# pixel / 255 for every possible grey level, computed once: to_vector looks
# each pixel up, so all the vectors share these 256 float objects.
X_OF_PIXEL: List[float] = [pixel / 255 for pixel in range(256)]


def to_vector(image: bytes) -> Vector:
    """x of an image given as grey levels 0..255: x_j = pixel_j / 255.

    Scaling keeps z1 = W1 x + b1 of order 1 with He initialisation; raw
    values up to 255 would make the first steps huge.
    """
    return [X_OF_PIXEL[pixel] for pixel in image]


# --- the pieces -------------------------------------------------------------

def relu(z: Vector) -> Vector:
    """relu(z)_i = max(0, z_i)."""
    return [zi if zi > 0.0 else 0.0 for zi in z]


def relu_step(z: Vector) -> Vector:
    """[z > 0] as 1.0 / 0.0: the derivative of relu (taken as 0 at z = 0)."""
    return [1.0 if zi > 0.0 else 0.0 for zi in z]


def softmax_parts(z: Vector) -> Tuple[float, Vector, float]:
    """m = max(z), e_i = exp(z_i - m), s = sum_j e_j: the pieces softmax is made of."""
    m = max(z)
    e = [math.exp(zi - m) for zi in z]
    return m, e, total(e)


def softmax(z: Vector) -> Vector:
    """p_i = exp(z_i - m) / sum_j exp(z_j - m), with m = max(z)."""
    _, e, s = softmax_parts(z)
    return [ei / s for ei in e]


def log_sum_exp(z: Vector) -> float:
    """ln sum_j exp(z_j), computed as m + ln sum_j exp(z_j - m)."""
    m, _, s = softmax_parts(z)
    return m + math.log(s)


def cross_entropy(z2: Vector, y: Vector) -> float:
    """L = -sum_i y_i ln softmax(z2)_i = logsumexp(z2) - y . z2  (y sums to 1)."""
    return log_sum_exp(z2) - dot(y, z2)


def one_hot(k: int, n: int) -> Vector:
    """The vector of length n with 1.0 at index k and 0.0 elsewhere."""
    if not 0 <= k < n:
        raise ValueError(f"one_hot: class {k} is outside 0..{n - 1}")
    y = [0.0] * n
    y[k] = 1.0
    return y


# --- initialisation ---------------------------------------------------------

def he_init(sizes: Sizes = DEFAULT_SIZES, seed: int = 0) -> Params:
    """Weights normal, mean 0, standard deviation sqrt(2 / fan_in); biases 0 (He et al., 2015).

    The fan-in is a row's length: n_in for W1, n_hidden for W2.  The
    variance is 2 / fan_in (``rng.gauss`` takes the standard deviation).
    A ReLU zeroes about half of its inputs, halving the second moment that
    flows forward; the factor 2 in W2's variance makes up for it, so z2
    starts with the same spread as z1 whatever the width.  (No ReLU comes
    before W1; He et al. keep the 2 there too, and so does purenet.)
    The numbers come from ``random.Random(seed)``, drawn W1 row by row then
    W2 row by row, so a seed gives the same weights on every Python.
    """
    n_in, n_hidden, n_out = sizes
    for name, n in zip(("n_in", "n_hidden", "n_out"), sizes):
        if n < 1:
            raise ValueError(f"{name} must be at least 1, not {n}")
    rng = random.Random(seed)
    std1 = math.sqrt(2.0 / n_in)
    std2 = math.sqrt(2.0 / n_hidden)
    W1 = [[rng.gauss(0.0, std1) for _ in range(n_in)] for _ in range(n_hidden)]
    W2 = [[rng.gauss(0.0, std2) for _ in range(n_hidden)] for _ in range(n_out)]
    return Params(W1=W1, b1=zeros_vector(n_hidden), W2=W2, b2=zeros_vector(n_out))


# --- forward ----------------------------------------------------------------

def forward_one(params: Params, x: Vector, y: Vector) -> Trace:
    """z1 = W1 x + b1, h = relu(z1), z2 = W2 h + b2, p = softmax(z2), L."""
    z1 = add(matvec(params.W1, x), params.b1)
    h = relu(z1)
    z2 = add(matvec(params.W2, h), params.b2)
    p = softmax(z2)
    L = cross_entropy(z2, y)
    return Trace(x=x, y=y, z1=z1, h=h, z2=z2, p=p, L=L)


def forward(params: Params, X: Sequence[Vector], Y: Sequence[Vector]) -> List[Trace]:
    """The forward pass of a mini-batch: one Trace per example."""
    if len(X) != len(Y):
        raise ValueError(f"forward: {len(X)} inputs but {len(Y)} targets")
    return [forward_one(params, x, y) for x, y in zip(X, Y)]


def mean_loss(traces: Sequence[Trace]) -> float:
    """L of a mini-batch: the mean of its examples' losses."""
    return total(t.L for t in traces) / len(traces)


def predict(params: Params, x: Vector) -> Vector:
    """p for one input (no target needed)."""
    h = relu(add(matvec(params.W1, x), params.b1))
    return softmax(add(matvec(params.W2, h), params.b2))


# --- backward, short form ---------------------------------------------------

def backward_one(params: Params, t: Trace) -> Backward:
    """One example's backward pass by the short form in the docstring, every step kept."""
    dz2 = sub(t.p, t.y)
    dW2 = outer(dz2, t.h)
    db2 = dz2
    dh = matvec(transpose(params.W2), dz2)
    dz1 = hadamard(dh, relu_step(t.z1))
    dW1 = outer(dz1, t.x)
    db1 = dz1
    return Backward(dz2=dz2, dW2=dW2, db2=db2, dh=dh, dz1=dz1, dW1=dW1, db1=db1)


def mean_grads(grads: Sequence[Grads]) -> Grads:
    """The entrywise mean of per-example gradients."""
    n_in, n_hidden, n_out = grads[0].sizes
    total = Grads(W1=zeros(n_hidden, n_in), b1=zeros_vector(n_hidden),
                  W2=zeros(n_out, n_hidden), b2=zeros_vector(n_out))
    for g in grads:
        total = Grads(W1=madd(total.W1, g.W1), b1=add(total.b1, g.b1),
                      W2=madd(total.W2, g.W2), b2=add(total.b2, g.b2))
    c = 1.0 / len(grads)
    return Grads(W1=mscale(c, total.W1), b1=scale(c, total.b1),
                 W2=mscale(c, total.W2), b2=scale(c, total.b2))


def backward(params: Params, traces: Sequence[Trace]) -> Grads:
    """dL/dW1, dL/db1, dL/dW2, dL/db2 of the mini-batch's mean loss."""
    return mean_grads([backward_one(params, t).grads for t in traces])


def sgd_step(params: Params, grads: Grads, lr: float) -> Params:
    """theta - lr * dL/dtheta for each parameter; returns new Params."""
    return Params(W1=msub(params.W1, mscale(lr, grads.W1)),
                  b1=sub(params.b1, scale(lr, grads.b1)),
                  W2=msub(params.W2, mscale(lr, grads.W2)),
                  b2=sub(params.b2, scale(lr, grads.b2)))
