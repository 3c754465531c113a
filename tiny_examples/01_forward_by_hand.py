"""01: the forward pass of a 2-3-2 network, every number printed.

The story.  A network is a few lines of arithmetic.  An input x (2 numbers)
goes through a hidden layer of 3 ReLU units and an output layer of 2
logits, which softmax turns into probabilities p; the loss L says how
surprised the network is by the true class:

    z1 = W1 x + b1          each hidden unit: a weighted sum plus a bias
    h  = relu(z1)           negative sums become 0 (the unit is "off")
    z2 = W2 h + b2          the logits, one per class
    p  = softmax(z2)        p_i = exp(z2_i) / sum_j exp(z2_j)
    L  = -ln p_k            k is the true class

This script takes the hand-chosen weights in tiny_net.py, lets purenet
compute the pass (network.forward_one), and prints each weighted sum
written out term by term, so you can redo it with pencil and paper.

Run:  python tiny_examples/01_forward_by_hand.py
"""

import math
import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tiny_net  # noqa: E402
from purenet.matrix import Matrix, Vector, argmax  # noqa: E402
from purenet.network import forward_one  # noqa: E402


def show_weighted_sums(out: str, W: Matrix, v: Vector, b: Vector, result: Vector) -> None:
    """Print out_i = sum_j W_ij v_j + b_i with the numbers put in."""
    for i, row in enumerate(W):
        terms = " + ".join(f"({w:g})({vj:g})" for w, vj in zip(row, v))
        print(f"  {out}[{i}] = {terms} + ({b[i]:g}) = {result[i]:g}")


def main() -> None:
    params = tiny_net.params()
    x, y = tiny_net.x, tiny_net.y
    t = forward_one(params, x, y)

    print("Input and target")
    print(f"  x = {x}")
    print(f"  y = {y}   (true class {argmax(y)})")
    print()

    print("Layer 1: z1 = W1 x + b1   (W1 is 3 x 2, so z1 has 3 entries)")
    show_weighted_sums("z1", params.W1, x, params.b1, t.z1)
    print()

    print("ReLU: h = max(0, z1), entry by entry")
    for i, (zi, hi) in enumerate(zip(t.z1, t.h)):
        note = "  <- negative, so this unit is off" if zi <= 0 else ""
        print(f"  h[{i}] = max(0, {zi:g}) = {hi:g}{note}")
    print()

    print("Layer 2: z2 = W2 h + b2   (W2 is 2 x 3, so z2 has 2 entries, the logits)")
    show_weighted_sums("z2", params.W2, t.h, params.b2, t.z2)
    print()

    print("Softmax: p_i = exp(z2_i) / (exp(z2_0) + exp(z2_1))")
    exps = [math.exp(z) for z in t.z2]  # by hand, to compare with purenet's p
    total = sum(exps)
    for i, z in enumerate(t.z2):
        print(f"  exp({z:g}) = {exps[i]:.6f}")
    print(f"  sum = {total:.6f}")
    for i, pi in enumerate(t.p):
        print(f"  p[{i}] = {exps[i]:.6f} / {total:.6f} = {pi:.6f}")
    print(f"  p sums to {sum(t.p):.6f}; the network predicts class {argmax(t.p)}")
    print(f"  (purenet first subtracts max(z2) = {max(t.z2):g} from each logit: the ratios")
    print("   are unchanged, and exp never sees a large number, so it cannot overflow)")
    print()

    k = argmax(y)
    print(f"Loss: L = -ln p[{k}] = -ln {t.p[k]:.6f} = {t.L:.6f}")
    print(f"  (a network that knew nothing would give p = 0.5 and L = ln 2 = {math.log(2):.6f})")


if __name__ == "__main__":
    main()
