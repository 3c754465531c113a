"""The 2-3-2 network that examples 01 to 04 follow, and two helpers they share.

Weights are chosen by hand (small, exact in binary) so that every number
the examples print can be checked with pencil and paper:

    x  = [1.0, 2.0]            y = [1, 0]   (the true class is 0)

    W1 = [[ 0.5,  0.25],       b1 = [ 0.0,           3 x 2
          [-1.0,  0.25],              0.25,
          [ 0.25, 0.5 ]]             -0.5 ]

    W2 = [[ 1.0, 0.5, -1.0],   b2 = [ 0.0,           2 x 3
          [-0.5, 1.0,  0.5]]          0.25]

Hidden unit 1 ends up with z1 < 0, so one ReLU is switched off and the
examples show what that does to the gradients.

The numbered scripts import it; run on its own, it prints the network.
"""

import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from purenet.matrix import Matrix, Vector  # noqa: E402
from purenet.network import Params, one_hot  # noqa: E402

x: Vector = [1.0, 2.0]
y: Vector = one_hot(0, 2)


def params() -> Params:
    """A fresh copy each time, so no example can change another's weights."""
    return Params(W1=[[0.5, 0.25], [-1.0, 0.25], [0.25, 0.5]],
                  b1=[0.0, 0.25, -0.5],
                  W2=[[1.0, 0.5, -1.0], [-0.5, 1.0, 0.5]],
                  b2=[0.0, 0.25])


def fmt(v: Vector, width: int = 9) -> str:
    """A vector as aligned numbers: [   1.0000   -0.2500 ]."""
    # Adding 0.0 turns -0.0 (from 0 times a negative) into 0.0 for display.
    return "[" + " ".join(f"{vi + 0.0:{width}.4f}" for vi in v) + " ]"


def print_matrix(name: str, A: Matrix, note: str = "", indent: str = "  ") -> None:
    """The name, shape and a note on one line, then one row per line."""
    rows = len(A)
    cols = len(A[0]) if rows else 0
    print(f"{indent}{name}  ({rows} x {cols})" + (f"   {note}" if note else ""))
    for row in A:
        print(f"{indent}  {fmt(row)}")


if __name__ == "__main__":
    p = params()
    print(f"x = {x}, y = {y}")
    for name in ("W1", "b1", "W2", "b2"):
        print(f"{name} = {getattr(p, name)}")
