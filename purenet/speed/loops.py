"""The loop kernel: the training step as plain nested loops, in the order of the equations.

This is the step a learner would write after reading network.py, with
two of stages.py's ideas: only the lit pixels j of an image are visited
(x_j = 0 adds nothing to z1 nor to dW1), and W1 is kept transposed, so
W1T[j] is column j of W1.  Symbols are network.py's; B is the batch size.

    forward     z1_i = b1_i + sum_{j lit} x_j W1T[j][i]
                h_i  = max(0, z1_i)
                z2_k = b2_k + sum_i W2[k][i] h_i
                p = softmax(z2),  L = logsumexp(z2) - y . z2
    backward    dz2_k = p_k - y_k
                dh_i  = sum_k W2[k][i] dz2_k
                dz1_i = dh_i if z1_i > 0 else 0
    sums        dW1T[j][i] = sum over the examples n lit at j of x_nj dz1_n,i
                dW2[k][i]  = sum_n dz2_n,k h_n,i
                db1_i = sum_n dz1_n,i,   db2_k = sum_n dz2_n,k
    update      v <- mu v + g / B,   theta <- theta - lr v     (train.momentum_step_)

Why plain loops.  On PyPy these loops are the fastest code there is: its
JIT (just-in-time compiler) watches a loop run, then compiles it to
machine code in which a list of floats is an array of doubles and
``s += w[i] * x`` is one multiply-add with no Python object made.  One
step of 784-512-10 takes about 0.35-0.45 ms per example that way, some
25 times faster than the same loops on CPython.  CPython interprets
every turn of a loop instead, tens of nanoseconds each, which is why
sumprod.py hands its inner products to C builtins there; on PyPy those
builtins are slower than the loops (the JIT cannot see inside them).
So ``speed.kernel_named("auto")`` picks this kernel on PyPy and sumprod
on CPython.  (Measured: benchmarks/README.md.)

Two habits help the JIT: every list holds floats only (``0.0``, not
``0``), which PyPy stores as a plain array of doubles, and the weights and
velocities are updated in place, so a step allocates no new rows.

The five functions are sumprod.py's; each is tested equal to network.py's
short form and train.momentum_step_ (tests/test_speed.py).
"""

from typing import Dict, Iterable, List, Sequence, Tuple

from ..matrix import Vector, argmax, total
from ..network import cross_entropy, one_hot, softmax
from .stages import Backprop, BatchGrads, FastNet, LitPixels, sparse_x


def forward(net: FastNet, image: bytes) -> Tuple[Vector, Vector, Vector]:
    """z1, h and z2 of one image, over its lit pixels only."""
    n_hidden = len(net.b1)
    z1 = list(net.b1)                               # z1 = b1 + ...
    for j, xj in zip(*sparse_x(image)):             # ... sum over the lit pixels j
        w = net.W1T[j]                              # column j of W1
        for i in range(n_hidden):
            z1[i] += xj * w[i]
    h = [z if z > 0.0 else 0.0 for z in z1]
    z2 = list(net.b2)
    for k in range(len(z2)):
        w = net.W2[k]
        for i in range(n_hidden):
            z2[k] += w[i] * h[i]
    return z1, h, z2


def logits(net: FastNet, image: bytes) -> Vector:
    """z2 of one image (the forward pass without the loss)."""
    return forward(net, image)[2]


def examples_backprop(net: FastNet, images: Sequence[bytes], labels: Sequence[int]) -> Backprop:
    """Stage 1: forward and short-form backward of each example, up to dz1."""
    if len(images) != len(labels):
        raise ValueError(f"examples_backprop: {len(images)} images for {len(labels)} labels")
    n_hidden, n_out = len(net.b1), len(net.b2)
    H: List[Vector] = []
    dZ2: List[Vector] = []
    dZ1: List[Vector] = []
    L: List[float] = []
    correct = 0
    for image, label in zip(images, labels):
        z1, h, z2 = forward(net, image)
        y = one_hot(label, n_out)
        L.append(cross_entropy(z2, y))
        correct += argmax(z2) == label
        p = softmax(z2)
        dz2 = [p[k] - y[k] for k in range(n_out)]
        dh = [0.0] * n_hidden                       # dh = W2^T dz2
        for k in range(n_out):
            w = net.W2[k]
            for i in range(n_hidden):
                dh[i] += w[i] * dz2[k]
        dz1 = [dh[i] if z1[i] > 0.0 else 0.0 for i in range(n_hidden)]
        H.append(h)
        dZ2.append(dz2)
        dZ1.append(dz1)
    return Backprop(H, dZ2, dZ1, L, correct)


def pixel_columns(dZ1: Sequence[Vector], lit: LitPixels,
                  pixels: Iterable[int]) -> Dict[int, Vector]:
    """Stage 2: column j of dW1 = sum over the examples n lit at j of x_nj dz1_n."""
    n_hidden = len(dZ1[0]) if dZ1 else 0
    columns = {}
    for j in pixels:
        examples, values = lit[j]
        column = [0.0] * n_hidden
        for n, xj in zip(examples, values):
            dz1 = dZ1[n]
            for i in range(n_hidden):
                column[i] += xj * dz1[i]
        columns[j] = column
    return columns


def batch_gradients_from(bp: Backprop, dW1T: Dict[int, Vector]) -> BatchGrads:
    """The gradient sums of a batch: dW1 columns as given, dW2, db1, db2 and L from bp."""
    n_hidden, n_out = len(bp.H[0]), len(bp.dZ2[0])
    dW2 = [[0.0] * n_hidden for _ in range(n_out)]
    db1 = [0.0] * n_hidden
    db2 = [0.0] * n_out
    for h, dz2, dz1 in zip(bp.H, bp.dZ2, bp.dZ1):
        for k in range(n_out):
            row = dW2[k]
            for i in range(n_hidden):
                row[i] += dz2[k] * h[i]             # dW2 = sum_n dz2_n h_n^T
            db2[k] += dz2[k]
        for i in range(n_hidden):
            db1[i] += dz1[i]
    return BatchGrads(dW1T=dW1T, db1=db1, dW2=dW2, db2=db2, loss_sum=total(bp.L),
                      correct=bp.correct, count=len(bp.H))


def update_row_(theta: Vector, v: Vector, g_sum, c: float, lr: float, mu: float) -> None:
    """In place: v <- mu v + c g_sum;  theta <- theta - lr v.  g_sum None means 0."""
    if g_sum is None:
        for i in range(len(v)):
            v[i] = mu * v[i]
            theta[i] = theta[i] - lr * v[i]
    else:
        for i in range(len(v)):
            v[i] = mu * v[i] + c * g_sum[i]
            theta[i] = theta[i] - lr * v[i]


def momentum_step_(net: FastNet, velocity: FastNet, grads: BatchGrads,
                   lr: float, mu: float) -> None:
    """In place: v <- mu v + g,  theta <- theta - lr v,  with g = grads / batch size.

    Pixels that were 0 in the whole batch have g = 0 there, so their rows
    only decay: v <- mu v.
    """
    c = 1.0 / grads.count
    for j in range(len(net.W1T)):
        update_row_(net.W1T[j], velocity.W1T[j], grads.dW1T.get(j), c, lr, mu)
    for k in range(len(net.W2)):
        update_row_(net.W2[k], velocity.W2[k], grads.dW2[k], c, lr, mu)
    update_row_(net.b1, velocity.b1, grads.db1, c, lr, mu)
    update_row_(net.b2, velocity.b2, grads.db2, c, lr, mu)
