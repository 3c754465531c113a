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
    with pytest.raises(ValueError) as caught:
        gradcheck.relative_error([1.0, 2.0], [1.0, 2.0, 3.0])
    assert str(caught.value) == "relative_error: 2 and 3 entries"


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


def test_a_draw_exactly_at_the_margin_is_kept():
    # |z1_i| >= margin, not >: with the margin set to the first draw's smallest
    # |z1_i|, that draw is the first example.
    params = he_init((4, 8, 3), 0)
    first = gradcheck.kink_free_batch(params, 1, random.Random(5), margin=0.0)
    z1 = forward(params, *first)[0].z1
    again = gradcheck.kink_free_batch(params, 1, random.Random(5), margin=min(map(abs, z1)))
    assert again == first


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


# --- check(): what it draws, compares and reports -----------------------------------------

def test_check_compares_the_three_methods_on_the_documented_draw():
    # He weights of `seed`, then from random.Random(seed + 1): biases b1 and b2 in
    # [-0.1, 0.1], then a kink-free batch; eps is the central differences' step.
    sizes, batch, seed, eps = (3, 4, 2), 3, 5, 1e-4
    params = he_init(sizes, seed)
    rng = random.Random(seed + 1)
    params.b1 = [rng.uniform(-0.1, 0.1) for _ in params.b1]
    params.b2 = [rng.uniform(-0.1, 0.1) for _ in params.b2]
    X, Y = gradcheck.kink_free_batch(params, batch, rng)
    traces = forward(params, X, Y)
    short, long_ = backward(params, traces), gradcheck.long_form(params, traces)
    numeric = gradcheck.numerical_grads(params, X, Y, eps)
    pairs = {"long_vs_short": (long_, short), "long_vs_numeric": (long_, numeric),
             "short_vs_numeric": (short, numeric)}
    errors = {key: gradcheck.max_relative_error(a, b) for key, (a, b) in pairs.items()}

    result = gradcheck.check(sizes, batch, seed, eps=eps)
    assert (result.sizes, result.batch, result.seed) == (sizes, batch, seed)
    assert (result.long_vs_short, result.long_vs_numeric, result.short_vs_numeric) == \
        tuple(errors[key][0] for key in pairs)
    assert result.per_parameter == {name: {key: errors[key][1][name] for key in pairs}
                                    for name in ("W1", "b1", "W2", "b2")}
    assert result.worst() == max(errors[key][0] for key in pairs) == result.long_vs_numeric
    # the step matters: the default eps gives other differences
    assert gradcheck.check(sizes, batch, seed).long_vs_numeric != result.long_vs_numeric


@pytest.mark.parametrize("errors", [(3e-9, 2e-9, 1e-9), (1e-9, 3e-9, 2e-9), (2e-9, 1e-9, 3e-9)])
def test_the_worst_error_is_the_largest_of_the_three_whichever_it_is(errors):
    result = gradcheck.CheckResult(sizes=(2, 2, 2), batch=1, seed=0, long_vs_short=errors[0],
                                   long_vs_numeric=errors[1], short_vs_numeric=errors[2],
                                   per_parameter={})
    assert result.worst() == 3e-9


def test_check_defaults_to_a_4_3_3_net_a_batch_of_2_and_seed_0():
    assert gradcheck.check() == gradcheck.check((4, 3, 3), 2, 0)
    assert (gradcheck.check().batch, gradcheck.check().seed) == (2, 0)


def test_check_gives_its_budget_to_the_early_check_and_to_the_long_form(monkeypatch):
    budgets = []
    real_long_form = gradcheck.long_form
    monkeypatch.setattr(gradcheck, "check_budget", lambda sizes, m: budgets.append(("check", m)))
    monkeypatch.setattr(gradcheck, "long_form", lambda params, traces, m: (
        budgets.append(("long form", m)), real_long_form(params, traces, m))[1])
    gradcheck.check((4, 3, 3), max_entries=1234)
    assert budgets == [("check", 1234), ("long form", 1234)]
