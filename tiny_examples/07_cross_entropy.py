"""07: why the loss is cross-entropy: it keeps learning when the network is confidently wrong.

The story.  The output p = softmax(z2) is a probability for each class, so
the natural loss is the negative log-likelihood of the true class k,
L = -ln p_k (cross-entropy).  Its gradient is one line (chapter 3):

    L = logsumexp(z2) - z2_k,   and the gradient of logsumexp is softmax,  so
    dL/dz2 = p - y

A loss that looks just as reasonable is the squared error between p and
the one-hot target,

    S = 1/2 sum_i (p_i - y_i)^2,   dS/dp = p - y,
    dS/dz2 = (dp/dz2)^T (p - y) = (diag(p) - p p^T)(p - y)

with the softmax Jacobian dp/dz2 of chapter 2 (jacobian.dp_dz2).  That
Jacobian is nearly 0 wherever p is nearly one-hot, *whichever* class it
picked: so when the network is sure of the wrong class, the squared
error's gradient vanishes and the network barely moves.  Cross-entropy's
gradient stays near -1 for the true class: the surer and wronger, the
harder it pushes.

This script takes two classes, the true class 0, and logits z2 = (0, t):
the larger t, the surer the network is of the wrong class 1.  It prints
both losses and both gradients (the entry for the true class), and checks
each gradient against a central difference.

Run:  python tiny_examples/07_cross_entropy.py
"""

import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from purenet.jacobian import dp_dz2  # noqa: E402
from purenet.matrix import Vector, matvec, sub, total, transpose  # noqa: E402
from purenet.network import cross_entropy, one_hot, softmax  # noqa: E402

EPS = 1e-5
LOGITS = (0.0, 2.0, 5.0, 10.0, 20.0)


def squared_error(z2: Vector, y: Vector) -> float:
    """S = 1/2 sum_i (p_i - y_i)^2 with p = softmax(z2)."""
    return 0.5 * total((pi - yi) ** 2 for pi, yi in zip(softmax(z2), y))


def squared_error_grad(z2: Vector, y: Vector) -> Vector:
    """dS/dz2 = (dp/dz2)^T (p - y): the chain rule through the softmax Jacobian."""
    p = softmax(z2)
    return matvec(transpose(dp_dz2(p)), sub(p, y))


def central_difference(loss, z2: Vector, y: Vector, i: int) -> float:
    up, down = list(z2), list(z2)
    up[i] += EPS
    down[i] -= EPS
    return (loss(up, y) - loss(down, y)) / (2 * EPS)


def main() -> None:
    y = one_hot(0, 2)
    print("True class 0, logits z2 = (0, t): the larger t, the surer the network is of class 1.")
    print("Each gradient is the entry for the true class, dL/dz2[0]; a negative one says")
    print("'raise z2[0]'.")
    print()
    print(f"  {'t':>4}  {'p[0]':>10}   {'cross-entropy':>13}  {'gradient':>10}"
          f"   {'squared error':>13}  {'gradient':>10}   {'ratio':>8}")
    worst = 0.0
    for t in LOGITS:
        z2 = [0.0, t]
        p = softmax(z2)
        ce, ce_grad = cross_entropy(z2, y), sub(p, y)[0]
        se, se_grad = squared_error(z2, y), squared_error_grad(z2, y)[0]
        for exact, loss in ((ce_grad, cross_entropy), (se_grad, squared_error)):
            worst = max(worst, abs(exact - central_difference(loss, z2, y, 0)))
        print(f"  {t:>4g}  {p[0]:>10.4g}   {ce:>13.6f}  {ce_grad:>10.6f}"
              f"   {se:>13.6f}  {se_grad:>10.3g}   {ce_grad / se_grad:>8.4g}")
    print()
    print("Cross-entropy's gradient tends to -1: the more confidently wrong, the harder it")
    print("pushes.  The squared error's tends to 0: at t = 20 the network is as wrong as it")
    print("can be and the squared error hardly asks it to change.")
    print(f"Largest difference from a central difference (eps {EPS:g}): {worst:.1e}")


if __name__ == "__main__":
    main()
