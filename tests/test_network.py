"""network.py, specified by numbers worked out by hand.

The reference values were worked to 40 digits with Python's ``decimal``
module and rounded to float; the comments give the arithmetic.
"""

import copy
import math

import pytest

from purenet.network import (Params, backward, backward_one, cross_entropy,
                             forward, forward_one, he_init, log_sum_exp,
                             mean_loss, one_hot, predict, relu, relu_step,
                             sgd_step, softmax)


# --- softmax, log_sum_exp, cross_entropy ---------------------------------------

def test_softmax_of_1_2_3():
    # e^1, e^2, e^3 over their sum (e^1 + e^2 + e^3 = 30.19287485057736):
    # p = [0.0900305731703805, 0.2447284710547976, 0.6652409557748219]
    p = softmax([1.0, 2.0, 3.0])
    expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219]
    assert p == pytest.approx(expected, abs=1e-12)


def test_softmax_sums_to_one_and_ignores_a_shift():
    z = [0.3, -1.2, 2.5, 0.0]
    p = softmax(z)
    assert sum(p) == pytest.approx(1.0, abs=1e-15)
    # softmax(z + c) = softmax(z): the factor e^c cancels.
    assert softmax([zi + 100.0 for zi in z]) == pytest.approx(p, abs=1e-15)


def test_softmax_does_not_overflow_on_large_logits():
    # Naively e^1000 overflows.  Shifted by m = 1000: [e^0, e^-1000] / (1 + e^-1000),
    # and e^-1000 is below the smallest float, so p = [1, e^-1000] = [1.0, 0.0].
    p = softmax([1000.0, 0.0])
    assert p == [1.0, math.exp(-1000.0)]
    assert all(math.isfinite(pi) for pi in p)


def test_softmax_of_two_large_close_logits():
    # softmax([1000, 1001]) = softmax([0, 1]) = [1 / (1 + e), e / (1 + e)]
    p = softmax([1000.0, 1001.0])
    assert p == pytest.approx([1.0 / (1.0 + math.e), math.e / (1.0 + math.e)], abs=1e-15)


def test_log_sum_exp_is_stable_for_large_inputs():
    # ln(e^1000 + e^1000) = 1000 + ln 2; ln(e^-1000 + e^-1000) = -1000 + ln 2.
    assert log_sum_exp([1000.0, 1000.0]) == pytest.approx(1000.0 + math.log(2.0), abs=1e-12)
    assert log_sum_exp([-1000.0, -1000.0]) == pytest.approx(-1000.0 + math.log(2.0), abs=1e-12)


def test_log_sum_exp_of_small_inputs_matches_the_formula():
    z = [0.5, -1.0, 2.0]
    assert log_sum_exp(z) == pytest.approx(math.log(sum(math.exp(zi) for zi in z)), abs=1e-14)


def test_cross_entropy_is_minus_log_p_of_the_true_class():
    # z2 = [1, 2, 3], true class 0: p_0 = 0.09003057317038046,
    # L = -ln p_0 = 2.40760596444438 (= ln(e + e^2 + e^3) - 1).
    z2 = [1.0, 2.0, 3.0]
    L = cross_entropy(z2, one_hot(0, 3))
    assert L == pytest.approx(2.40760596444438, abs=1e-12)
    assert L == pytest.approx(-math.log(softmax(z2)[0]), abs=1e-12)


def test_cross_entropy_stays_finite_when_p_underflows():
    # p_1 = e^-1000 underflows to 0, so -ln p_1 would be infinite; from z2,
    # L = logsumexp - z2_1 = 1000 + ln(1 + e^-1000) - 0 = 1000.
    assert cross_entropy([1000.0, 0.0], one_hot(1, 2)) == pytest.approx(1000.0, abs=1e-9)


# --- relu, one_hot ------------------------------------------------------------

def test_relu_and_its_step_at_zero():
    z = [-2.0, 0.0, 3.0]
    assert relu(z) == [0.0, 0.0, 3.0]
    # The derivative at the kink z = 0 is taken as 0.
    assert relu_step(z) == [0.0, 0.0, 1.0]


def test_one_hot():
    assert one_hot(2, 4) == [0.0, 0.0, 1.0, 0.0]
    assert one_hot(0, 1) == [1.0]


@pytest.mark.parametrize("k, n", [(-1, 3), (3, 3), (10, 10), (0, 0)])
def test_one_hot_refuses_a_class_outside_the_range(k, n):
    with pytest.raises(ValueError) as caught:
        one_hot(k, n)
    assert str(caught.value) == f"one_hot: class {k} is outside 0..{n - 1}"


# --- He initialisation ----------------------------------------------------------

def test_he_init_same_seed_same_weights():
    assert he_init((5, 4, 3), seed=7) == he_init((5, 4, 3), seed=7)
    assert he_init((5, 4, 3)) == he_init((5, 4, 3), seed=0)      # the seed is 0 unless given


def test_he_init_different_seed_different_weights():
    a, b = he_init((5, 4, 3), seed=7), he_init((5, 4, 3), seed=8)
    assert a.W1 != b.W1
    assert a.W2 != b.W2


def test_he_init_gives_the_same_numbers_on_every_python():
    # Pinned from random.Random(0).gauss: CI runs this on Python 3.9 and 3.13,
    # so a change in the random module would show here, exactly.
    params = he_init((2, 2, 2), seed=0)
    assert params.W1 == [[0.9417154046806644, -1.3965781047011498],
                         [-0.6797144480784211, 0.3705035674606598]]
    assert params.W2 == [[-1.016348894188071, -0.07212002278507135],
                         [0.17919648727485687, -0.8310992152709882]]


def test_he_init_shapes_and_zero_biases():
    params = he_init((5, 4, 3), seed=0)
    assert params.sizes == (5, 4, 3)
    assert len(params.W1) == 4 and all(len(row) == 5 for row in params.W1)
    assert len(params.W2) == 3 and all(len(row) == 4 for row in params.W2)
    assert params.b1 == [0.0] * 4
    assert params.b2 == [0.0] * 3


@pytest.mark.parametrize("sizes, message", [((0, 4, 3), "n_in must be at least 1, not 0"),
                                             ((5, 0, 3), "n_hidden must be at least 1, not 0"),
                                             ((5, 4, -1), "n_out must be at least 1, not -1")])
def test_he_init_refuses_an_empty_layer_naming_it(sizes, message):
    with pytest.raises(ValueError) as caught:
        he_init(sizes)
    assert str(caught.value) == message


@pytest.fixture(scope="module")
def large_layer():
    # W1 is 256 x 1000 (fan_in 1000), W2 is 10 x 256 (fan_in 256).
    return he_init((1000, 256, 10), seed=3)


def _within_sampling_error(sample, sigma):
    """Mean and std of N draws from Normal(0, sigma), checked to 5 standard errors.

    The sample mean has standard error sigma / sqrt(N).  The sample standard
    deviation s has standard error about sigma / sqrt(2 (N - 1)), so
    s / sigma - 1 has about 1 / sqrt(2 N).  Five standard errors: a correct
    draw fails with probability below 1e-6, while a wrong variance (2 / fan_out
    instead of 2 / fan_in, or 1 / fan_in without He's factor 2) is off by
    tens of percent and fails.
    """
    n = len(sample)
    mean = math.fsum(sample) / n
    s = math.sqrt(math.fsum((w - mean) ** 2 for w in sample) / (n - 1))
    assert abs(mean) < 5.0 * sigma / math.sqrt(n)
    assert abs(s / sigma - 1.0) < 5.0 / math.sqrt(2.0 * n)


def test_he_init_first_layer_has_std_sqrt_2_over_fan_in(large_layer):
    # N = 256,000: |mean| < 5 * 0.0447 / 506 = 4.4e-4, |s / sigma - 1| < 0.0070.
    _within_sampling_error([w for row in large_layer.W1 for w in row], math.sqrt(2.0 / 1000))


def test_he_init_second_layer_has_std_sqrt_2_over_fan_in(large_layer):
    # N = 2,560: |mean| < 5 * 0.0884 / 50.6 = 8.7e-3, |s / sigma - 1| < 0.070.
    _within_sampling_error([w for row in large_layer.W2 for w in row], math.sqrt(2.0 / 256))


# --- a 2-2-2 network worked by hand ------------------------------------------------
#
#   x  = [2, 1]                         y = [0, 1]  (the true class is 1)
#   W1 = [[1, -1], [0.5, 2]]            b1 = [0, -4]
#   z1 = [1*2 + (-1)*1 + 0,  0.5*2 + 2*1 - 4] = [1, -1]
#   h  = relu(z1) = [1, 0]
#   W2 = [[1, 2], [-1, 1]]              b2 = [0.5, -0.5]
#   z2 = [1*1 + 2*0 + 0.5,  -1*1 + 1*0 - 0.5] = [1.5, -1.5]
#   p  = softmax(z2) = [1 / (1 + e^-3),  1 / (1 + e^3)]
#      = [0.9525741268224333, 0.04742587317756678]       call p_0 = a
#   L  = -ln p_1 = ln(1 + e^3) = 3.048587351573742
#
# Backward, short form:
#   dz2 = p - y = [a, (1 - a) - 1] = [a, -a]
#   dW2 = dz2 h^T = [[a*1, a*0], [-a*1, -a*0]] = [[a, 0], [-a, 0]]
#   db2 = dz2 = [a, -a]
#   dh  = W2^T dz2 = [1*a + (-1)(-a),  2*a + 1*(-a)] = [2a, a]
#   dz1 = dh * [z1 > 0] = [2a * 1, a * 0] = [2a, 0]
#   dW1 = dz1 x^T = [[2a*2, 2a*1], [0*2, 0*1]] = [[4a, 2a], [0, 0]]
#   db1 = dz1 = [2a, 0]

a = 0.9525741268224333


def hand_params() -> Params:
    return Params(W1=[[1.0, -1.0], [0.5, 2.0]], b1=[0.0, -4.0],
                  W2=[[1.0, 2.0], [-1.0, 1.0]], b2=[0.5, -0.5])


X_HAND = [2.0, 1.0]
Y_HAND = [0.0, 1.0]


def test_forward_on_the_hand_worked_net():
    t = forward_one(hand_params(), X_HAND, Y_HAND)
    assert t.z1 == [1.0, -1.0]
    assert t.h == [1.0, 0.0]
    assert t.z2 == [1.5, -1.5]
    assert t.p == pytest.approx([a, 1.0 - a], abs=1e-15)
    assert t.L == pytest.approx(3.048587351573742, abs=1e-14)


def test_backward_on_the_hand_worked_net():
    # p = [a, 1 - a], y = [0, 1], h = [1, 0], z1 = [1, -1], x = [2, 1]
    params = hand_params()
    b = backward_one(params, forward_one(params, X_HAND, Y_HAND))
    assert b.dz2 == pytest.approx([a, -a], abs=1e-15)              # p - y
    assert b.dW2 == [pytest.approx([a, 0.0], abs=1e-15), pytest.approx([-a, 0.0], abs=1e-15)]
    assert b.db2 == b.dz2
    assert b.dh == pytest.approx([2 * a, a], abs=1e-15)            # W2^T dz2
    assert b.dz1 == pytest.approx([2 * a, 0.0], abs=1e-15)         # dh * [z1 > 0]
    assert b.dW1 == [pytest.approx([4 * a, 2 * a], abs=1e-14), [0.0, 0.0]]
    assert b.db1 == b.dz1
    assert b.grads == Params(W1=b.dW1, b1=b.db1, W2=b.dW2, b2=b.db2)


def test_the_relu_passes_no_gradient_where_z1_is_exactly_0():
    # [z1 > 0] is 0 at z1 = 0: with b1[0] = -1, z1 = [0, -1] and dz1 must be [0, 0]
    # although dh is not 0 there.
    params = hand_params()
    params.b1 = [-1.0, -4.0]
    t = forward_one(params, X_HAND, Y_HAND)
    assert t.z1 == [0.0, -1.0]
    b = backward_one(params, t)
    assert b.dh[0] != 0.0
    assert b.dz1 == [0.0, 0.0]


def test_predict_is_the_hand_worked_p_without_a_target():
    assert predict(hand_params(), X_HAND) == pytest.approx([a, 1.0 - a], abs=1e-15)
    # z1 = [1, 1] with b1 = [0, -2]: both units active, z2 = [3.5, -0.5], p_0 = 1 / (1 + e^-4)
    params = hand_params()
    params.b1 = [0.0, -2.0]
    p0 = 1.0 / (1.0 + math.exp(-4.0))
    assert predict(params, X_HAND) == pytest.approx([p0, 1.0 - p0], abs=1e-15)


def test_batch_loss_and_gradient_are_the_means_of_the_examples():
    params = hand_params()
    X = [X_HAND, [0.5, -1.0]]
    Y = [Y_HAND, [1.0, 0.0]]
    traces = forward(params, X, Y)
    assert mean_loss(traces) == pytest.approx((traces[0].L + traces[1].L) / 2, abs=1e-15)
    g = backward(params, traces)
    g0, g1 = (backward_one(params, t).grads for t in traces)
    for i in range(2):
        assert g.b1[i] == pytest.approx((g0.b1[i] + g1.b1[i]) / 2, abs=1e-15)
        assert g.b2[i] == pytest.approx((g0.b2[i] + g1.b2[i]) / 2, abs=1e-15)
        for j in range(2):
            assert g.W1[i][j] == pytest.approx((g0.W1[i][j] + g1.W1[i][j]) / 2, abs=1e-15)
            assert g.W2[i][j] == pytest.approx((g0.W2[i][j] + g1.W2[i][j]) / 2, abs=1e-15)


def test_forward_refuses_unequal_inputs_and_targets():
    with pytest.raises(ValueError, match="2 inputs but 1 targets"):
        forward(hand_params(), [X_HAND, X_HAND], [Y_HAND])


def test_forward_and_backward_do_not_mutate_their_arguments():
    params = hand_params()
    X, Y = [list(X_HAND)], [list(Y_HAND)]
    before = copy.deepcopy((params, X, Y))
    traces = forward(params, X, Y)
    backward(params, traces)
    assert (params, X, Y) == before


def test_check_shapes_names_the_mismatch():
    bad = Params(W1=[[1.0, 2.0]], b1=[0.0, 0.0], W2=[[1.0]], b2=[0.0])
    with pytest.raises(ValueError, match=r"b1 \(2,\)"):
        bad.check_shapes()
    hand_params().check_shapes()  # a consistent set passes silently


# --- SGD -------------------------------------------------------------------------

def test_sgd_step_returns_new_params_and_mutates_nothing():
    params = hand_params()
    grads = backward_one(params, forward_one(params, X_HAND, Y_HAND)).grads
    before = copy.deepcopy((params, grads))
    new = sgd_step(params, grads, lr=0.1)
    assert (params, grads) == before
    assert new is not params
    # theta - lr * grad, e.g. W1[0][0] = 1 - 0.1 * 4a and b2[1] = -0.5 - 0.1 * (-a)
    assert new.W1[0][0] == pytest.approx(1.0 - 0.1 * 4 * a, abs=1e-15)
    assert new.W1[1] == [0.5, 2.0]  # zero gradient: unchanged
    assert new.b1 == pytest.approx([0.0 - 0.1 * 2 * a, -4.0], abs=1e-15)
    assert new.W2[1][0] == pytest.approx(-1.0 + 0.1 * a, abs=1e-15)
    assert new.b2 == pytest.approx([0.5 - 0.1 * a, -0.5 + 0.1 * a], abs=1e-15)
    # Writing into the new parameters leaves the old ones alone.
    new.W1[0][0] = 42.0
    new.b1[0] = 42.0
    assert params == before[0]


def test_an_sgd_step_lowers_the_loss_of_the_hand_worked_example():
    params = hand_params()
    t = forward_one(params, X_HAND, Y_HAND)
    after = forward_one(sgd_step(params, backward_one(params, t).grads, lr=0.1), X_HAND, Y_HAND)
    assert after.L < t.L
