"""Checking gradients: long form vs short form vs central differences.

For every parameter entry theta (each W1[i][j], b1[i], W2[i][j], b2[i]):

    dL/dtheta  ~  (L(theta + eps) - L(theta - eps)) / (2 eps)

The error of this central difference shrinks like eps^2, while rounding
error grows like (machine epsilon) / eps; eps = 1e-5 balances the two for
float64 and losses of order 1.

Two gradients a and b of one parameter are compared by their relative
error, measured against the larger gradient:

    rel(a, b) = max_k |a_k - b_k| / max(max_k |a_k|, max_k |b_k|)

(0 when both are all zeros).  Scaling by the largest entry rather than
entry by entry keeps a tiny entry, where both methods agree to 1e-11 in
absolute terms, from reading as a large relative disagreement.

ReLU has a kink at z1 = 0, where the central difference straddles two
slopes and is simply wrong.  So the check draws its inputs again until
every hidden pre-activation z1_i of every example is at least
``KINK_MARGIN`` away from 0: much more than a step of eps can move it
(|dz1_i| <= eps * max(1, max_j |x_j|)), so L is smooth on the whole
interval the difference looks at.
"""

import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

from .jacobian import DEFAULT_MAX_ENTRIES, check_budget, long_form
from .matrix import Vector, copy, flatten
from .network import (Grads, Params, Sizes, backward, forward, he_init,
                      mean_loss, one_hot)

EPS = 1e-5
KINK_MARGIN = 1e-3
DEFAULT_TOLERANCE = 1e-6
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def numerical_grads(params: Params, X: List[Vector], Y: List[Vector],
                    eps: float = EPS) -> Grads:
    """Central differences of the mini-batch loss, one parameter entry at a time."""
    def loss_of(p: Params) -> float:
        return mean_loss(forward(p, X, Y))

    work = Params(W1=copy(params.W1), b1=list(params.b1),
                  W2=copy(params.W2), b2=list(params.b2))
    grads = {}
    for name in PARAM_NAMES:
        grads[name] = _central_differences(work, getattr(work, name), loss_of, eps)
    return Grads(**grads)


def _central_differences(work: Params, array, loss_of: Callable[[Params], float],
                         eps: float):
    """d loss / d entry for each entry of `array` (a row list of `work`), restored after."""
    if isinstance(array[0], list):
        return [_central_differences(work, row, loss_of, eps) for row in array]
    out = []
    for k, original in enumerate(array):
        array[k] = original + eps
        plus = loss_of(work)
        array[k] = original - eps
        minus = loss_of(work)
        array[k] = original
        out.append((plus - minus) / (2.0 * eps))
    return out


def relative_error(a, b) -> float:
    """max |a - b| / max(max |a|, max |b|) over the entries of two same-shaped arrays."""
    fa = flatten(a) if a and isinstance(a[0], list) else list(a)
    fb = flatten(b) if b and isinstance(b[0], list) else list(b)
    if len(fa) != len(fb):
        raise ValueError(f"relative_error: {len(fa)} and {len(fb)} entries")
    scale = max(max(abs(v) for v in fa), max(abs(v) for v in fb))
    if scale == 0.0:
        return 0.0
    return max(abs(u - v) for u, v in zip(fa, fb)) / scale


def max_relative_error(a: Grads, b: Grads) -> Tuple[float, Dict[str, float]]:
    """The worst relative error over the four parameters, and each one's."""
    each = {name: relative_error(getattr(a, name), getattr(b, name)) for name in PARAM_NAMES}
    return max(each.values()), each


def kink_free_batch(params: Params, batch: int, rng: random.Random,
                    margin: float = KINK_MARGIN) -> Tuple[List[Vector], List[Vector]]:
    """`batch` random (x, y) pairs whose z1 entries all satisfy |z1_i| >= margin."""
    n_in, _, n_out = params.sizes
    X: List[Vector] = []
    Y: List[Vector] = []
    while len(X) < batch:
        x = [rng.uniform(-1.0, 1.0) for _ in range(n_in)]
        y = one_hot(rng.randrange(n_out), n_out)
        z1 = forward(params, [x], [y])[0].z1
        if min(abs(v) for v in z1) >= margin:
            X.append(x)
            Y.append(y)
    return X, Y


@dataclass
class CheckResult:
    sizes: Sizes
    batch: int
    seed: int
    long_vs_short: float
    long_vs_numeric: float
    short_vs_numeric: float
    per_parameter: Dict[str, Dict[str, float]]

    def worst(self) -> float:
        return max(self.long_vs_short, self.long_vs_numeric, self.short_vs_numeric)


def check(sizes: Sizes = (4, 3, 3), batch: int = 2, seed: int = 0,
          eps: float = EPS, max_entries: int = DEFAULT_MAX_ENTRIES) -> CheckResult:
    """Run all three methods on one random kink-free mini-batch and compare them."""
    # Refuse a too-big long form from the sizes alone, before drawing weights
    # and running the short form only to throw them away.
    check_budget(sizes, max_entries)
    params = he_init(sizes, seed)
    rng = random.Random(seed + 1)
    # Non-zero biases, so that the check also sees their effect on z1 and z2.
    params.b1 = [rng.uniform(-0.1, 0.1) for _ in params.b1]
    params.b2 = [rng.uniform(-0.1, 0.1) for _ in params.b2]
    X, Y = kink_free_batch(params, batch, rng)
    traces = forward(params, X, Y)
    short = backward(params, traces)
    long_ = long_form(params, traces, max_entries)
    numeric = numerical_grads(params, X, Y, eps)
    ls, ls_each = max_relative_error(long_, short)
    ln, ln_each = max_relative_error(long_, numeric)
    sn, sn_each = max_relative_error(short, numeric)
    per_parameter = {name: {"long_vs_short": ls_each[name], "long_vs_numeric": ln_each[name],
                            "short_vs_numeric": sn_each[name]} for name in PARAM_NAMES}
    return CheckResult(sizes, batch, seed, ls, ln, sn, per_parameter)

