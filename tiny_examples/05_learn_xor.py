"""05: a 2-8-2 network learns XOR by gradient descent.

The story.  XOR says "1 if exactly one input is 1":

    x = (0, 0) -> 0     x = (0, 1) -> 1     x = (1, 0) -> 1     x = (1, 1) -> 0

No straight line separates the 1s from the 0s, so a network without a
hidden layer (softmax of W x + b) cannot learn it.  One hidden layer of
ReLU units bends the space enough.  This is the whole training loop of
purenet in miniature, on the textbook path of network.py:

    repeat:
        traces = forward(params, X, Y)          the four examples, one mini-batch
        grads  = backward(params, traces)       short form, mean over the batch
        params = sgd_step(params, grads, lr)    theta <- theta - lr * dL/dtheta

The weights start random (He initialisation, seed 0), the loss is printed
as it goes down, and at the end each input is shown with the network's
probabilities.

Try: N_HIDDEN = 4 with SEED = 1 gets stuck at 3 of 4 right: a few ReLU
units that are off for every input receive no gradient and never wake up.

Run:  python tiny_examples/05_learn_xor.py
"""

import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from purenet.matrix import argmax  # noqa: E402
from purenet.network import (backward, forward, he_init, mean_loss, one_hot,  # noqa: E402
                             predict, sgd_step)

N_HIDDEN = 8
SEED = 0
LEARNING_RATE = 0.2
STEPS = 400
PRINT_EVERY = 50

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
LABELS = [0, 1, 1, 0]


def main() -> None:
    Y = [one_hot(k, 2) for k in LABELS]
    params = he_init((2, N_HIDDEN, 2), SEED)
    print(f"XOR with a 2-{N_HIDDEN}-2 network: lr {LEARNING_RATE}, {STEPS} steps, "
          f"all 4 examples in every step")
    print()
    print(f"  {'step':>5}  {'loss':>8}")
    first_loss = None
    for step in range(STEPS + 1):
        traces = forward(params, X, Y)
        loss = mean_loss(traces)
        if first_loss is None:
            first_loss = loss
        if step % PRINT_EVERY == 0:
            print(f"  {step:>5}  {loss:8.4f}")
        if step < STEPS:
            params = sgd_step(params, backward(params, traces), LEARNING_RATE)
    print()

    print("  x            label   p(0)    p(1)    predicted")
    correct = 0
    for x, k in zip(X, LABELS):
        p = predict(params, x)
        guess = argmax(p)
        correct += guess == k
        print(f"  ({x[0]:g}, {x[1]:g})       {k}     {p[0]:.4f}  {p[1]:.4f}  {guess}"
              f"{'' if guess == k else '   <- wrong'}")
    print()
    print(f"first loss {first_loss:.4f}, final loss {loss:.4f}; {correct} of 4 correct")


if __name__ == "__main__":
    main()
