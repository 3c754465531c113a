"""03: backpropagation, long form: every Jacobian of the 2-3-2 network, printed.

The story.  Example 02 used seven short lines.  Where do they come from?
Write each step of the forward pass as a function and take its Jacobian,
the matrix of all partial derivatives dA_i/dB_j (one row per output
entry, one column per input entry).  The chain rule then says: multiply
the Jacobians, left to right, starting from dL/dp (a single row, since L
is one number):

    dL/dz2 = dL/dp  . dp/dz2         dL/dW2 = dL/dz2 . dz2/dW2
    dL/dh  = dL/dz2 . dz2/dh         dL/db2 = dL/dz2 . dz2/db2
    dL/dz1 = dL/dh  . dh/dz1         dL/dW1 = dL/dz1 . dz1/dW1
                                     dL/db1 = dL/dz1 . dz1/db1

Bracketed the other way, two matrices are multiplied first: dp/dh =
dp/dz2 . dz2/dh, and dL/dp . dp/dh is dL/dh again.

A weight matrix is flattened row by row for this: W1 (3 x 2) becomes 6
columns, W1[i][j] at column i * 2 + j.  Look at how many zeros the
Jacobians hold (dz1/dW1 is almost all zeros): the short form is this same
product with the zeros never written down.  For the MNIST network
(784-512-10), dz1/dW1 alone would be 512 x 401,408 = 205,520,896 entries,
which is why purenet refuses to build the long form at that size.

Run:  python tiny_examples/03_long_form.py
"""

import sys
from pathlib import Path

# Runs from a clean clone with nothing installed: put the repository root
# (the folder above this one) first on the import path, so that
# `import purenet` finds ../purenet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tiny_net  # noqa: E402
from tiny_net import print_matrix  # noqa: E402
from purenet.gradcheck import max_relative_error  # noqa: E402
from purenet.jacobian import jacobian_shapes, long_form_one, total_entries  # noqa: E402
from purenet.network import backward_one, forward_one  # noqa: E402

WHAT_EACH_MEANS = {
    "dL/dp": "-y_i / p_i: only the true class's probability matters",
    "dp/dz2": "diag(p) - p p^T: raising one logit takes probability from the others",
    "dz2/dW2": "z2_k depends on W2[k][j] through h_j, and on no other row",
    "dz2/db2": "identity: each bias feeds only its own logit",
    "dz2/dh": "= W2",
    "dh/dz1": "diag([z1 > 0]): 1 where the ReLU is on, 0 where it is off",
    "dz1/dW1": "z1_i depends on W1[i][j] through x_j, and on no other row",
    "dz1/db1": "identity",
}
OTHER_BRACKETING = ("dp/dh", "dL/dp . dp/dh")


def main() -> None:
    params = tiny_net.params()
    sizes = params.sizes
    t = forward_one(params, tiny_net.x, tiny_net.y)
    long_ = long_form_one(params, t)
    J = long_.jacobians

    print(f"Network {sizes[0]}-{sizes[1]}-{sizes[2]}, same x, y and weights as examples 01 and 02.")
    print()
    print("The Jacobians of each step")
    for name, rows, cols in jacobian_shapes(sizes):
        if name in WHAT_EACH_MEANS:
            print()
            print_matrix(name, J[name], note=WHAT_EACH_MEANS[name])
    print()
    print("Their products, left to right (each a single row, since L is one number)")
    for name, rows, cols in jacobian_shapes(sizes):
        if name not in WHAT_EACH_MEANS and name not in OTHER_BRACKETING:
            print_matrix(name, J[name])
    print()
    print("The other bracketing: a matrix times a matrix first, then dL/dp times it (= dL/dh)")
    for name in OTHER_BRACKETING:
        print_matrix(name, J[name])
    print()

    short = backward_one(params, t).grads
    worst, _ = max_relative_error(long_.grads, short)
    print(f"The long form built {total_entries(sizes)} entries in all.")
    print(f"dL/dz2 = {[round(v, 6) for v in J['dL/dz2'][0]]}, which is p - y "
          f"= {[round(pi - yi, 6) for pi, yi in zip(t.p, t.y)]}")
    print(f"Largest relative difference from the short form (example 02): {worst:.1e}")


if __name__ == "__main__":
    main()
