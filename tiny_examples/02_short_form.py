"""02: backpropagation, short form, on the 2-3-2 network of example 01.

The story.  To learn, the network needs dL/dtheta for every weight and
bias theta: how much L goes up when theta goes up a little.  The chain
rule, worked out once on paper, collapses to seven short lines
(network.backward_one):

    dz2 = p - y              softmax and cross-entropy together: "p minus the target"
    dW2 = dz2 h^T            outer product: weight W2[i][j] carried h_j into z2_i
    db2 = dz2
    dh  = W2^T dz2           the blame on each hidden unit, sent back through W2
    dz1 = dh * [z1 > 0]      an "off" ReLU unit passes no gradient back
    dW1 = dz1 x^T
    db1 = dz1

This script prints each line with its numbers, then takes one step of
gradient descent (theta <- theta - lr * dL/dtheta) and shows that the loss
went down.

Run:  python tiny_examples/02_short_form.py
"""

import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tiny_net  # noqa: E402
from tiny_net import fmt, print_matrix  # noqa: E402
from purenet.network import backward_one, forward_one, relu_step, sgd_step  # noqa: E402

LEARNING_RATE = 0.1


def main() -> None:
    params = tiny_net.params()
    t = forward_one(params, tiny_net.x, tiny_net.y)
    b = backward_one(params, t)   # every step of the backward pass

    print("From the forward pass (example 01)")
    print(f"  x  = {fmt(t.x)}")
    print(f"  z1 = {fmt(t.z1)}")
    print(f"  h  = {fmt(t.h)}")
    print(f"  p  = {fmt(t.p)}")
    print(f"  y  = {fmt(t.y)}")
    print(f"  L  = {t.L:.6f}")
    print()

    print("dz2 = p - y   (negative for the true class: raise its logit; positive otherwise)")
    print(f"  dz2 = {fmt(b.dz2)}")
    print()
    print("dW2 = dz2 h^T")
    print_matrix("dW2", b.dW2)
    print("  column 1 is zero because h[1] = 0: that weight had no effect on L")
    print(f"db2 = dz2 = {fmt(b.db2)}")
    print()

    print("dh = W2^T dz2   (each hidden unit collects blame from both logits)")
    print(f"  dh = {fmt(b.dh)}")
    print()
    print("dz1 = dh * [z1 > 0]")
    print(f"  [z1 > 0] = {fmt(relu_step(t.z1))}")
    print(f"  dz1      = {fmt(b.dz1)}")
    print("  unit 1 is off (z1[1] < 0), so its gradient stops here")
    print()
    print("dW1 = dz1 x^T")
    print_matrix("dW1", b.dW1)
    print("  row 1 is zero: the weights into the off unit cannot change L (for now)")
    print(f"db1 = dz1 = {fmt(b.db1)}")
    print()

    new = sgd_step(params, b.grads, LEARNING_RATE)
    after = forward_one(new, tiny_net.x, tiny_net.y)
    print(f"One SGD step, theta <- theta - {LEARNING_RATE} * dL/dtheta:")
    print(f"  p[0] (the true class) {t.p[0]:.6f} -> {after.p[0]:.6f}")
    print(f"  loss before {t.L:.6f}")
    print(f"  loss after  {after.L:.6f}")


if __name__ == "__main__":
    main()
