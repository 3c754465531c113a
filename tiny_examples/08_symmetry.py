"""08: why the weights start random: with zero weights only b2 learns.

The story.  Start every weight and bias at 0 and run the forward pass:
z1 = 0, so h = relu(0) = 0, so z2 = b2 = 0 and p is uniform.  The
backward pass (chapter 3) then gives

    dz2 = p - y            not 0: p is uniform, y is not
    dW2 = dz2 h^T = 0      because h = 0
    db2 = dz2              the only gradient that is not 0
    dh  = W2^T dz2 = 0     because W2 = 0
    dz1 = dh * [z1 > 0] = 0,  so dW1 = 0 and db1 = 0

so a step changes b2 and nothing else, and the next step finds the same
situation again.  Forever, the network can only learn b2: one probability
per class, the same for every input, which gradient descent drives to the
class frequencies of the data.

Zero is the extreme case of a symmetric start.  Give every hidden unit the
same incoming and outgoing weights (here every weight 0.5) and the units
compute the same h_i, receive the same dz1_i, and take the same step: they
stay copies of one another, and eight hidden units are worth one.  Random
weights (network.he_init) make every unit different from the first step,
which is all it takes to break the symmetry.

The data: the four corners of the unit square labelled by XOR, and their
centre (0.5, 0.5) labelled 0, so the classes are 3 to 2 and no straight
line separates them.  The same 2-8-2 network is trained from the three
starts with the same steps.

Run:  python tiny_examples/08_symmetry.py
"""

import math
import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from purenet.matrix import argmax, transpose  # noqa: E402
from purenet.network import (Params, backward, forward, he_init, mean_loss, one_hot,  # noqa: E402
                             sgd_step)

N_HIDDEN = 8
LEARNING_RATE = 0.5
STEPS = 1000

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]]
LABELS = [0, 1, 1, 0, 0]


def constant_params(w: float) -> Params:
    """Every weight w, every bias 0."""
    return Params(W1=[[w, w] for _ in range(N_HIDDEN)], b1=[0.0] * N_HIDDEN,
                  W2=[[w] * N_HIDDEN for _ in range(2)], b2=[0.0, 0.0])


def train(params: Params) -> Params:
    Y = [one_hot(k, 2) for k in LABELS]
    for _ in range(STEPS):
        params = sgd_step(params, backward(params, forward(params, X, Y)), LEARNING_RATE)
    return params


def report(params: Params) -> None:
    Y = [one_hot(k, 2) for k in LABELS]
    traces = forward(params, X, Y)
    right = sum(argmax(t.p) == k for t, k in zip(traces, LABELS))
    print(f"  loss {mean_loss(traces):.6f}, {right} of {len(LABELS)} correct")


def all_zero(rows) -> bool:
    return all(v == 0.0 for row in rows for v in row)


def all_equal(rows) -> bool:
    return all(row == rows[0] for row in rows)


def main() -> None:
    print(f"A 2-{N_HIDDEN}-2 network, {STEPS} steps of SGD at lr {LEARNING_RATE}, "
          f"on XOR's corners plus the centre (labels {LABELS}).")
    print()

    print("1. Every weight and bias 0")
    p = train(constant_params(0.0))
    print(f"  W1 still all 0: {all_zero(p.W1)};  b1 still all 0: {all_zero([p.b1])};  "
          f"W2 still all 0: {all_zero(p.W2)}")
    print(f"  b2 = [{p.b2[0]:.6f}, {p.b2[1]:.6f}], the only parameter that moved")
    ps = [t.p for t in forward(p, X, [one_hot(k, 2) for k in LABELS])]
    print(f"  p = [{ps[0][0]:.6f}, {ps[0][1]:.6f}], the same for all {len(X)} inputs: "
          f"{all_equal(ps)}; the class frequencies are 3/5 and 2/5")
    print(f"  b2[0] - b2[1] = {p.b2[0] - p.b2[1]:.6f};  ln(3/2) = {math.log(1.5):.6f}")
    report(p)
    print(f"  (the entropy of (3/5, 2/5) is {-(0.6 * math.log(0.6) + 0.4 * math.log(0.4)):.6f}: "
          "the best loss without looking at x)")
    print()

    print("2. Every weight 0.5, every bias 0: a symmetric start")
    p = train(constant_params(0.5))
    print(f"  the {N_HIDDEN} rows of W1 still equal: {all_equal(p.W1)};  "
          f"b1 still all one value: {all_equal([[b] for b in p.b1])};  "
          f"the {N_HIDDEN} columns of W2 still equal: {all_equal(transpose(p.W2))}")
    print(f"  every hidden unit is a copy of the first: W1 row {p.W1[0][0]:.6f} "
          f"{p.W1[0][1]:.6f}, b1 {p.b1[0]:.6f}")
    report(p)
    print()

    print("3. He initialisation (network.he_init, seed 0): random, so every unit differs")
    p = train(he_init((2, N_HIDDEN, 2), 0))
    print(f"  rows of W1 all equal: {all_equal(p.W1)}")
    report(p)


if __name__ == "__main__":
    main()
