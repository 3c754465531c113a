"""gradcheck.py and the ``purenet gradcheck`` command.

The command is run as a person runs it: ``python -m purenet gradcheck`` in
a subprocess, from the repository root.
"""

import copy
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from purenet import gradcheck
from purenet.jacobian import BudgetError
from purenet.matrix import matvec, outer, sub, transpose
from purenet.network import Grads, backward, forward, he_init

REPO = Path(__file__).resolve().parents[1]


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


# --- the command --------------------------------------------------------------------

def test_the_command_passes_and_long_equals_short():
    done = purenet("gradcheck")
    assert done.returncode == 0, done.stderr
    # The "max" row: max  <long vs short>  <long vs numeric>  <short vs numeric>
    row = re.search(r"^max\s+(\S+)\s+(\S+)\s+(\S+)$", done.stdout, re.MULTILINE)
    assert row, done.stdout
    long_vs_short, long_vs_numeric, short_vs_numeric = map(float, row.groups())
    assert long_vs_short < 1e-7
    assert long_vs_numeric < 1e-6
    assert short_vs_numeric < 1e-6
    assert "PASS" in done.stdout


def test_the_command_fails_when_the_tolerance_is_impossible():
    # Finite differences agree to about 1e-10, never to 1e-20: the check can fail.
    done = purenet("gradcheck", "--tolerance", "1e-20")
    assert done.returncode == 1
    assert "FAIL" in done.stdout


def test_bad_sizes_give_one_usage_error_and_exit_2():
    done = purenet("gradcheck", "--sizes", "4,x")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "purenet gradcheck: error: argument --sizes: "
        "expected three whole numbers like 4,3,3, got '4,x' (see: purenet gradcheck --help)"]


def test_the_long_form_refuses_784_512_10_in_one_line():
    done = purenet("gradcheck", "--sizes", "784,512,10")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("purenet: error: long form refused")
    assert "512 x 401,408 = 205,520,896" in lines[0]


# --- relative_error ---------------------------------------------------------------------

def test_relative_error_of_known_values():
    # max |a - b| = 0.5, max(max |a|, max |b|) = 2.5: 0.5 / 2.5 = 0.2
    assert gradcheck.relative_error([1.0, 2.0], [1.0, 2.5]) == pytest.approx(0.2, abs=1e-15)
    # Matrices are compared entry by entry: |4 - 3| / 4 = 0.25
    assert gradcheck.relative_error([[1.0, 4.0]], [[1.0, 3.0]]) == pytest.approx(0.25, abs=1e-15)
    assert gradcheck.relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0


def test_relative_error_refuses_different_sizes():
    with pytest.raises(ValueError):
        gradcheck.relative_error([1.0, 2.0], [1.0, 2.0, 3.0])


def _backward_without_relu_mask(params, t) -> Grads:
    """A classic mistake: dz1 = dh, forgetting that ReLU blocks where z1 <= 0."""
    dz2 = sub(t.p, t.y)
    dz1 = matvec(transpose(params.W2), dz2)  # right: hadamard(dh, relu_step(z1))
    return Grads(W1=outer(dz1, t.x), b1=dz1, W2=outer(dz2, t.h), b2=dz2)


def test_a_broken_gradient_is_caught():
    params = he_init((4, 5, 3), seed=2)
    X, Y = gradcheck.kink_free_batch(params, 1, random.Random(3))
    traces = forward(params, X, Y)
    # This example has hidden units on both sides of the kink, so the mask matters.
    assert min(traces[0].z1) < 0.0 < max(traces[0].z1)
    numeric = gradcheck.numerical_grads(params, X, Y)
    right = backward(params, traces)
    wrong = _backward_without_relu_mask(params, traces[0])
    assert gradcheck.relative_error(right.W1, numeric.W1) < 1e-6
    assert gradcheck.relative_error(wrong.W1, numeric.W1) > 1e-2
    worst, each = gradcheck.max_relative_error(wrong, numeric)
    assert worst > 1e-2
    assert each["W2"] < 1e-6  # the mistake is in the first layer only, and found there


def test_numerical_grads_leave_the_params_alone():
    params = he_init((3, 2, 2), seed=0)
    before = copy.deepcopy(params)
    X, Y = gradcheck.kink_free_batch(params, 2, random.Random(0))
    gradcheck.numerical_grads(params, X, Y)
    assert params == before


# --- kink_free_batch --------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kink_free_batch_keeps_every_z1_away_from_zero(seed):
    # A large margin, so that plain draws often fall inside it and must be refused.
    margin = 0.3
    params = he_init((4, 8, 3), seed)
    X, Y = gradcheck.kink_free_batch(params, 20, random.Random(seed), margin=margin)
    assert len(X) == len(Y) == 20
    for t in forward(params, X, Y):
        assert min(abs(v) for v in t.z1) >= margin


def test_plain_draws_would_have_come_near_the_kink():
    # Why the test above can fail: without the filter, inputs drawn the same
    # way give some |z1_i| below 0.3.
    params = he_init((4, 8, 3), 0)
    rng = random.Random(0)
    X = [[rng.uniform(-1.0, 1.0) for _ in range(4)] for _ in range(20)]
    traces = forward(params, X, [[1.0, 0.0, 0.0]] * 20)
    assert min(abs(v) for t in traces for v in t.z1) < 0.3


# --- check() refuses before it builds anything ---------------------------------------

def test_check_refuses_a_big_net_naming_its_biggest_jacobian():
    with pytest.raises(BudgetError, match="205,520,896"):
        gradcheck.check((784, 512, 10))


def test_check_refuses_a_big_net_before_building_it(peak_bytes):
    # 784-512-10 weights alone are 407,040 floats (over 3 MB of list
    # pointers); the refusal must come first, so the peak stays under 1 MB.
    def refused():
        with pytest.raises(BudgetError):
            gradcheck.check((784, 512, 10))

    assert peak_bytes(refused) < 1_000_000
