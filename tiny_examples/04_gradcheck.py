"""04: checking gradients with finite differences.

The story.  Examples 02 and 03 computed dL/dtheta with formulas derived on
paper.  How do we know the formulas (and the code) are right?  Nudge one
weight up and down by a small eps, run the forward pass each time, and
look at how L moved:

    dL/dtheta  ~  (L(theta + eps) - L(theta - eps)) / (2 eps)

This "central difference" needs no calculus at all, only the forward pass,
so it is an independent witness.  It is far too slow to train with (two
forward passes per weight: 814,100 passes for the 407,050 weights and
biases of the MNIST network), but it is just right for checking a small
network.

The script does one weight by hand, then every weight of the 2-3-2
network, then shows how the choice of eps matters, and ends with the
check that `python -m purenet gradcheck` runs.

Run:  python tiny_examples/04_gradcheck.py
"""

import math
import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tiny_net  # noqa: E402
from purenet import gradcheck  # noqa: E402
from purenet.jacobian import long_form  # noqa: E402
from purenet.network import backward, forward, forward_one  # noqa: E402

EPS = gradcheck.EPS


def one_weight_by_hand() -> None:
    i, j = 2, 1
    params = tiny_net.params()
    x, y = tiny_net.x, tiny_net.y
    theta = params.W1[i][j]

    params.W1[i][j] = theta + EPS
    L_plus = forward_one(params, x, y).L
    params.W1[i][j] = theta - EPS
    L_minus = forward_one(params, x, y).L
    params.W1[i][j] = theta
    numeric = (L_plus - L_minus) / (2 * EPS)
    short = backward(params, forward(params, [x], [y])).W1[i][j]

    print(f"One weight by hand: W1[{i}][{j}] = {theta}, eps = {EPS:g}")
    print(f"  L(W1[{i}][{j}] + eps) = {L_plus:.12f}")
    print(f"  L(W1[{i}][{j}] - eps) = {L_minus:.12f}")
    print(f"  difference / (2 eps) = {numeric:.10f}")
    print(f"  short form dL/dW1[{i}][{j}] = {short:.10f}")
    print()


def every_weight() -> None:
    params = tiny_net.params()
    X, Y = [tiny_net.x], [tiny_net.y]
    traces = forward(params, X, Y)
    short = backward(params, traces)
    long_ = long_form(params, traces)
    numeric = gradcheck.numerical_grads(params, X, Y)

    print("Every weight and bias: short form, long form, central difference")
    print(f"  {'entry':<9} {'short':>13} {'long':>13} {'numeric':>13}")
    for name in gradcheck.PARAM_NAMES:
        s, l, n = getattr(short, name), getattr(long_, name), getattr(numeric, name)
        if isinstance(s[0], list):
            entries = [(f"{name}[{r}][{c}]", s[r][c], l[r][c], n[r][c])
                       for r in range(len(s)) for c in range(len(s[0]))]
        else:
            entries = [(f"{name}[{r}]", s[r], l[r], n[r]) for r in range(len(s))]
        for label, a, b, c in entries:
            print(f"  {label:<9} {a:13.9f} {b:13.9f} {c:13.9f}")
    worst, _ = gradcheck.max_relative_error(short, numeric)
    print(f"  largest relative error, short vs numeric: {worst:.2e}")
    print()


def choice_of_eps() -> None:
    # Too big an eps: the curve bends within the step (error ~ eps^2).
    # Too small: L(theta + eps) and L(theta - eps) agree in most of their
    # 16 digits and the difference is mostly rounding (error ~ 1e-16 / eps).
    params = tiny_net.params()
    X, Y = [tiny_net.x], [tiny_net.y]
    short = backward(params, forward(params, X, Y))
    print("The choice of eps: relative error of the central difference")
    for k in range(1, 12):
        eps = 10.0 ** -k
        worst, _ = gradcheck.max_relative_error(short, gradcheck.numerical_grads(params, X, Y, eps))
        bar = "*" * (16 + round(math.log10(worst))) if worst > 0 else ""
        print(f"  eps = 1e-{k:<2}  error = {worst:.1e}  {bar}")
    print("  (longer bar = larger error; purenet uses eps = 1e-5, near the bottom of the valley)")
    print()


def the_command_check() -> None:
    result = gradcheck.check((4, 3, 3), batch=2, seed=0)
    print("What `python -m purenet gradcheck` runs: a random 4-3-3 net, 2 examples")
    print(f"  long vs short     {result.long_vs_short:.1e}")
    print(f"  long vs numeric   {result.long_vs_numeric:.1e}")
    print(f"  short vs numeric  {result.short_vs_numeric:.1e}")
    print(f"  all three agree: {result.worst() < gradcheck.DEFAULT_TOLERANCE}")


def main() -> None:
    one_weight_by_hand()
    every_weight()
    choice_of_eps()
    the_command_check()


if __name__ == "__main__":
    main()
