"""jacobian.py: the long form agrees with the short form and with finite
differences, each Jacobian has the shape it claims, and the long form
refuses a network too big for memory before building anything.
"""

import random
from types import SimpleNamespace

import pytest

from purenet import gradcheck, jacobian
from purenet.jacobian import BudgetError
from purenet.jacobian import (check_budget, dh_dz1, dL_dp, dp_dz2, dz_dW,
                              jacobian_shapes, long_form, long_form_one,
                              total_entries)
from purenet.matrix import diag, msub, outer, shape, total
from purenet.network import (Params, backward, forward, forward_one, he_init,
                             one_hot)

# Different widths (including 1 and n_in > n_hidden > n_out and the reverse)
# and seeds, each with a single example and with a mini-batch.
TINY_NETS = [
    ((1, 1, 2), 0),
    ((2, 2, 2), 1),
    ((3, 4, 2), 2),
    ((4, 3, 3), 3),
    ((5, 2, 4), 4),
    ((2, 6, 5), 5),
    ((7, 5, 3), 6),
]
BATCHES = [1, 3]


def _id(sizes, seed, batch):
    return f"{'-'.join(map(str, sizes))}-seed{seed}-batch{batch}"


CASES = [(sizes, seed, batch) for sizes, seed in TINY_NETS for batch in BATCHES]
CASE_IDS = [_id(*case) for case in CASES]


# --- the three methods agree -------------------------------------------------------

@pytest.mark.parametrize("sizes, seed, batch", CASES, ids=CASE_IDS)
def test_gradcheck_check_agrees(sizes, seed, batch):
    result = gradcheck.check(sizes, batch, seed)
    assert result.long_vs_short < 1e-9
    assert result.long_vs_numeric < 1e-6
    assert result.short_vs_numeric < 1e-6


@pytest.mark.parametrize("sizes, seed, batch", CASES, ids=CASE_IDS)
def test_long_form_short_form_and_central_differences_agree(sizes, seed, batch):
    # The same comparison, calling each function directly.
    params = he_init(sizes, seed)
    rng = random.Random(100 + seed)
    params.b1 = [rng.uniform(-0.2, 0.2) for _ in params.b1]
    params.b2 = [rng.uniform(-0.2, 0.2) for _ in params.b2]
    X, Y = gradcheck.kink_free_batch(params, batch, rng)
    traces = forward(params, X, Y)

    short = backward(params, traces)
    long_ = long_form(params, traces)
    numeric = gradcheck.numerical_grads(params, X, Y)

    for name in gradcheck.PARAM_NAMES:
        a, b, c = getattr(long_, name), getattr(short, name), getattr(numeric, name)
        assert gradcheck.relative_error(a, b) < 1e-9, name
        assert gradcheck.relative_error(a, c) < 1e-6, name
        assert gradcheck.relative_error(b, c) < 1e-6, name


def test_the_gradients_checked_are_not_all_zero():
    # A check of zeros against zeros would pass whatever the code did.
    params = he_init((4, 3, 3), 0)
    X, Y = gradcheck.kink_free_batch(params, 2, random.Random(1))
    g = long_form(params, forward(params, X, Y))
    assert max(abs(v) for row in g.W1 for v in row) > 1e-3
    assert max(abs(v) for row in g.W2 for v in row) > 1e-3


# --- the individual Jacobians --------------------------------------------------------

def test_dp_dz2_is_diag_p_minus_p_p_transpose():
    p = [0.2, 0.3, 0.5]
    # diag(p) - p p^T, entry by entry:
    #   [0.2 - 0.04,  -0.06,      -0.10     ]
    #   [-0.06,       0.3 - 0.09, -0.15     ]
    #   [-0.10,       -0.15,      0.5 - 0.25]
    expected = [[0.16, -0.06, -0.10],
                [-0.06, 0.21, -0.15],
                [-0.10, -0.15, 0.25]]
    J = dp_dz2(p)
    for row, expected_row in zip(J, expected):
        assert row == pytest.approx(expected_row, abs=1e-15)
    # p_i (1 - p_i) and p_i - p_i^2 may round differently in the last bit.
    for row, formula_row in zip(J, msub(diag(p), outer(p, p))):
        assert row == pytest.approx(formula_row, abs=1e-15)
    # p sums to 1 for every z2, so a change of z2 leaves sum(p) alone: rows sum to 0.
    assert [sum(row) for row in J] == pytest.approx([0.0, 0.0, 0.0], abs=1e-15)


def test_dL_dp_is_minus_y_over_p():
    assert dL_dp([0.25, 0.5, 0.25], [0.0, 1.0, 0.0]) == [[0.0, -2.0, 0.0]]


def test_dL_dp_refuses_a_true_class_with_p_zero():
    with pytest.raises(ValueError) as caught:
        dL_dp([1.0, 0.0], [0.0, 1.0])
    assert str(caught.value) == ("dL/dp = -y/p is undefined: p of the true class underflowed "
                                 "to 0 (the short form has no such problem)")


def test_dz_dW_places_x_in_the_block_of_its_row():
    # z = W x for a 2 x 3 W; W flattened row by row, so z_1 depends on W[1][*]
    # at columns 3, 4, 5.
    assert dz_dW([7.0, 8.0, 9.0], 2) == [[7.0, 8.0, 9.0, 0.0, 0.0, 0.0],
                                         [0.0, 0.0, 0.0, 7.0, 8.0, 9.0]]


def test_dh_dz1_is_the_diagonal_of_the_relu_step():
    assert dh_dz1([2.0, 0.0, -1.0]) == [[1.0, 0.0, 0.0],
                                         [0.0, 0.0, 0.0],
                                         [0.0, 0.0, 0.0]]


def test_the_chain_gives_dL_dz2_equal_to_p_minus_y():
    # The short form's first line, dz2 = p - y, arrives from dL/dp . dp/dz2.
    params = Params(W1=[[1.0, -1.0], [0.5, 2.0]], b1=[0.0, -4.0],
                    W2=[[1.0, 2.0], [-1.0, 1.0]], b2=[0.5, -0.5])
    t = forward_one(params, [2.0, 1.0], [0.0, 1.0])
    J = long_form_one(params, t).jacobians
    assert J["dL/dz2"][0] == pytest.approx([t.p[0], t.p[1] - 1.0], abs=1e-15)


@pytest.mark.parametrize("sizes", [(4, 3, 3), (2, 5, 3), (6, 2, 4)])
def test_each_jacobian_has_the_shape_jacobian_shapes_names(sizes):
    params = he_init(sizes, 0)
    n_in, _, n_out = sizes
    t = forward_one(params, [0.5] * n_in, one_hot(0, n_out))
    J = long_form_one(params, t).jacobians
    expected = {name: (rows, cols) for name, rows, cols in jacobian_shapes(sizes)}
    assert {name: shape(matrix) for name, matrix in J.items()} == expected


def test_total_entries_of_a_4_3_3_net():
    # Jacobians 3 + 9 + 27 + 9 + 9 + 9 + 36 + 9 = 111, products 3 + 9 + 3 + 3 + 3 + 12 + 3 = 36,
    # the other bracketing dp/dh (3 x 3) and dL/dp . dp/dh (1 x 3): 12.
    assert total_entries((4, 3, 3)) == 159


def test_the_other_bracketing_multiplies_two_matrices_and_gives_dL_dh_again():
    # dp/dh = dp/dz2 . dz2/dh entry by entry, and dL/dp . dp/dh = dL/dh up to rounding.
    params = he_init((4, 3, 3), 3)
    t = forward_one(params, [0.5, -0.25, 1.0, 0.75], one_hot(2, 3))
    J = long_form_one(params, t).jacobians
    P = dp_dz2(t.p)
    # total adds left to right as matrix.dot does; sum() of floats compensates from Python 3.12
    assert J["dp/dh"] == [[total(P[i][k] * params.W2[k][j] for k in range(3)) for j in range(3)]
                          for i in range(3)]
    assert J["dL/dp . dp/dh"][0] == pytest.approx(J["dL/dh"][0], rel=1e-12, abs=1e-15)
    assert J["dL/dp . dp/dh"][0] != pytest.approx([0.0, 0.0, 0.0])


# --- the budget ----------------------------------------------------------------------

BIG = (784, 512, 10)


def test_long_form_refuses_784_512_10_with_the_figure():
    with pytest.raises(BudgetError) as caught:
        check_budget(BIG)
    message = str(caught.value)
    assert "512 x 401,408 = 205,520,896" in message
    assert "dz1/dW1" in message
    assert "\n" not in message  # one line, for "purenet: error: ..."


def test_the_budget_is_a_limit_not_a_guess():
    total = total_entries((4, 3, 3))
    check_budget((4, 3, 3), max_entries=total)  # exactly at the budget: allowed
    with pytest.raises(BudgetError, match="159 entries"):
        check_budget((4, 3, 3), max_entries=total - 1)


def test_the_refusal_names_the_jacobian_with_the_most_entries():
    # 2-10-3: dz1/dW1 is 10 x 20 = 200 entries; dz2/dW2 is 3 x 30 = 90, with more columns
    with pytest.raises(BudgetError) as caught:
        check_budget((2, 10, 3), max_entries=600)
    assert str(caught.value) == (
        "long form refused for 2-10-3: its Jacobians hold 667 entries (at least 5,336 bytes "
        "at 8 bytes each), over the budget of 600; dz1/dW1 alone has 10 x 20 = 200 entries "
        "(biases separate, not folded in); raise --max-entries to try anyway")


def test_the_long_form_checks_the_budget_it_was_given(monkeypatch):
    budgets = []
    monkeypatch.setattr(jacobian, "check_budget", lambda sizes, m: budgets.append((sizes, m)))
    params = he_init((4, 3, 3), 0)
    traces = forward(params, [[0.1, 0.2, 0.3, 0.4]] * 2, [one_hot(1, 3)] * 2)
    long_form(params, traces, max_entries=777)
    long_form_one(params, traces[0], max_entries=888)
    assert budgets == [((4, 3, 3), 777)] * 3 + [((4, 3, 3), 888)]


def test_a_budget_error_is_one_the_command_line_reports_in_one_line():
    # (instead of a traceback; cli.py maps each such error to an exit code)
    from purenet.cli import EXIT_CODES
    assert EXIT_CODES[BudgetError] == 1


def test_long_form_on_a_small_net_obeys_a_small_budget():
    params = he_init((4, 3, 3), 0)
    traces = forward(params, [[0.1, 0.2, 0.3, 0.4]], [one_hot(1, 3)])
    with pytest.raises(BudgetError):
        long_form(params, traces, max_entries=100)


class _Untouchable:
    """Any attribute read or iteration fails: proof that nothing looked at it."""

    def __getattr__(self, name):
        raise AssertionError(f"the refused call read .{name}")

    def __iter__(self):
        raise AssertionError("the refused call iterated over the traces")


def refused_calls():
    """The long form asked for 784-512-10 with a stub that has only .sizes: refused both ways."""
    stub = SimpleNamespace(sizes=BIG)
    with pytest.raises(BudgetError):
        long_form(stub, _Untouchable())
    with pytest.raises(BudgetError):
        long_form_one(stub, _Untouchable())


def test_the_refusal_reads_no_weight_and_no_input():
    # The params stub has only .sizes and the traces and trace are
    # untouchable, so the call cannot have read a weight or an input before refusing.
    refused_calls()


def test_the_refusal_allocates_nothing_large(peak_bytes):
    # The peak memory of the refused calls stays under 1 MB, while the first
    # row of dz1/dW1 alone ([0.0] * 401,408 pointers) would be 3.2 MB, so not
    # even one row of one Jacobian was built.
    assert peak_bytes(refused_calls) < 1_000_000


def test_the_memory_probe_would_see_one_row_of_dz1_dW1(peak_bytes):
    # The 1 MB bound above can fail: building a single row that the long
    # form would build for 784-512-10 goes over it.
    assert peak_bytes(lambda: [0.0] * (512 * 784)) > 1_000_000
