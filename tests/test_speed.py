"""purenet/speed computes network.py's numbers: every kernel equals the plain path to 1e-12.

The plain path is the textbook one: network.forward and network.backward
on dense lists x, then train.momentum_step_ (v <- mu v + g,
theta <- theta - eta v).  A kernel skips zero pixels, keeps W1 transposed,
gathers each column of dW1 over the lit examples and updates in place.
The two do the same arithmetic in a different order, so they agree to
rounding (relative error below 1e-12), not bit for bit.  Every test of a
kernel runs for each kernel in speed.KERNELS.

Networks are small (hidden width 6) so each test takes milliseconds; the
images are real MNIST digits, whose zero pixels are the case the fast
path exists for, plus tiny synthetic ones where every pixel is chosen.
"""

import copy
import math
import random
from typing import List, Sequence

import pytest

from purenet import speed, train
from purenet.matrix import argmax, flatten
from purenet.mnist import load_mnist
from purenet.network import (X_OF_PIXEL, Params, backward, backward_one, forward, forward_one,
                             he_init, one_hot, predict, to_vector)
from purenet.speed import sumprod
from purenet.speed.serial import batch_gradients
from purenet.speed.stages import Backprop, FastNet, dense_grads, joined, lit_pixels, sparse_x

KERNELS = sorted(speed.KERNELS)
TOLERANCE = 1e-12


def relative_error(a: Sequence[float], b: Sequence[float]) -> float:
    """max_i |a_i - b_i| / max_i |b_i|: the error measured against the size of b."""
    assert len(a) == len(b)
    scale = max(abs(v) for v in b)
    return max(abs(u - v) for u, v in zip(a, b)) / scale


def params_entries(p: Params) -> List[float]:
    return flatten(p.W1) + p.b1 + flatten(p.W2) + p.b2


@pytest.fixture(scope="module")
def digits():
    """70 real MNIST images and their labels."""
    data = load_mnist("test")
    return data.images[:70], data.labels[:70]


def trained_params(sizes, seed: int) -> Params:
    """He-initialised weights with non-zero biases, so b1 and b2 take part too."""
    params = he_init(sizes, seed)
    rng = random.Random(seed + 1)
    params.b1 = [rng.uniform(-0.1, 0.1) for _ in params.b1]
    params.b2 = [rng.uniform(-0.1, 0.1) for _ in params.b2]
    return params


def plain_gradients(params: Params, images, labels) -> Params:
    """network.py's short form on dense inputs: the reference."""
    n_out = len(params.b2)
    traces = forward(params, [to_vector(im) for im in images], [one_hot(k, n_out) for k in labels])
    return backward(params, traces)


# --- pieces ------------------------------------------------------------------

def test_sparse_x_lists_the_lit_pixels_and_their_values():
    index, xs = sparse_x(bytes([0, 255, 0, 0, 51, 0]))
    assert index == [1, 4]
    assert xs == [1.0, 0.2]            # 255 / 255, 51 / 255


def test_lit_pixels_lists_for_each_pixel_the_examples_where_it_is_lit():
    images = [bytes([0, 255, 51]), bytes([0, 0, 102]), bytes([0, 255, 0])]
    lit = lit_pixels(images)
    assert sorted(lit) == [1, 2]                    # pixel 0 is dark everywhere
    assert lit[1] == ([0, 2], [1.0, 1.0])
    assert lit[2] == ([0, 1], [0.2, 0.4])           # 51 / 255, 102 / 255


def test_joined_puts_runs_of_examples_one_after_the_other():
    first = Backprop(H=[[1.0]], dZ2=[[0.5, -0.5]], dZ1=[[0.25]], L=[0.7], correct=1)
    second = Backprop(H=[[2.0], [3.0]], dZ2=[[0.1, -0.1], [-0.2, 0.2]], dZ1=[[0.0], [-1.0]],
                      L=[0.1, 2.3], correct=0)
    assert joined([first, second]) == Backprop(
        H=[[1.0], [2.0], [3.0]], dZ2=[[0.5, -0.5], [0.1, -0.1], [-0.2, 0.2]],
        dZ1=[[0.25], [0.0], [-1.0]], L=[0.7, 0.1, 2.3], correct=1)
    assert joined([second, first, first]).correct == 2


@pytest.mark.parametrize("name", KERNELS)
def test_examples_backprop_refuses_images_and_labels_of_different_lengths(name):
    net = FastNet.from_params(trained_params((5, 3, 2), seed=6))
    with pytest.raises(ValueError) as caught:
        speed.KERNELS[name].examples_backprop(net, [bytes(5)] * 2, [1])
    assert str(caught.value) == "examples_backprop: 2 images for 1 labels"


@pytest.mark.parametrize("name", KERNELS)
def test_pixel_columns_are_the_columns_of_the_pixels_asked_for(name):
    kernel = speed.KERNELS[name]
    dZ1 = [[1.0, -2.0], [0.5, 0.0], [3.0, 4.0]]
    lit = {7: ([0, 2], [0.5, 0.25]), 9: ([1], [1.0])}
    assert kernel.pixel_columns(dZ1, lit, [9]) == {9: [0.5, 0.0]}
    # x = 0.5 in example 0 and x = 0.25 in example 2:
    # [0.5 * 1 + 0.25 * 3, 0.5 * -2 + 0.25 * 4] = [1.25, 0.0]
    assert kernel.pixel_columns(dZ1, lit, lit) == {7: [1.25, 0.0], 9: [0.5, 0.0]}


@pytest.mark.parametrize("name", KERNELS)
def test_no_examples_light_no_pixel_and_give_no_columns(name):
    assert speed.KERNELS[name].pixel_columns([], {}, []) == {}


def test_sumprods_column_of_one_example_is_the_same_bits_as_the_general_sum():
    # One lit example takes the shortcut xj * dz1; a one-term sumprod is the
    # same rounded product, so the two agree exactly, not just to rounding.
    rng = random.Random(3)
    dZ1 = [[rng.gauss(0.0, 1e-3) if rng.random() < 0.5 else 0.0 for _ in range(50)]
           for _ in range(4)]
    for pixel in (1, 37, 128, 255):
        xj = X_OF_PIXEL[pixel]
        shortcut = sumprod.pixel_column(dZ1, [2], [xj])
        general = list(map(sumprod.sumprod, zip(dZ1[2]), [[xj]] * 50))
        assert shortcut == general
        assert [math.copysign(1.0, v) for v in shortcut] == [math.copysign(1.0, v) for v in general]


# --- each kernel against the plain path -----------------------------------------

@pytest.mark.parametrize("name", KERNELS)
def test_batch_gradients_equal_the_short_form_on_mnist_digits(digits, name):
    images, labels = digits
    params = trained_params((784, 6, 10), seed=0)
    grads = batch_gradients(speed.KERNELS[name], FastNet.from_params(params), images, labels)
    assert grads.count == 70
    fast_grads = dense_grads(grads, 784)
    plain = plain_gradients(params, images, labels)
    for what in ("W1", "b1", "W2", "b2"):
        a, b = getattr(fast_grads, what), getattr(plain, what)
        if what in ("W1", "W2"):
            a, b = flatten(a), flatten(b)
        assert relative_error(a, b) < TOLERANCE, what


@pytest.mark.parametrize("name", KERNELS)
def test_pixels_dark_in_the_whole_batch_have_no_column_and_a_zero_gradient(digits, name):
    images, labels = digits
    params = trained_params((784, 6, 10), seed=0)
    grads = batch_gradients(speed.KERNELS[name], FastNet.from_params(params), images, labels)
    dark = [j for j in range(784) if all(im[j] == 0 for im in images)]
    assert 0 in dark                  # MNIST's corners are always 0
    assert not set(dark) & set(grads.dW1T)
    W1 = dense_grads(grads, 784).W1
    assert all(W1[i][j] == 0.0 for i in range(6) for j in dark)


@pytest.mark.parametrize("name", KERNELS)
def test_loss_sum_and_correct_count_match_the_plain_forward_pass(digits, name):
    images, labels = digits
    params = trained_params((784, 6, 10), seed=1)
    grads = batch_gradients(speed.KERNELS[name], FastNet.from_params(params), images, labels)
    traces = forward(params, [to_vector(im) for im in images], [one_hot(k, 10) for k in labels])
    assert grads.loss_sum == pytest.approx(sum(t.L for t in traces), rel=TOLERANCE)
    assert grads.correct == sum(argmax(t.z2) == k for t, k in zip(traces, labels))


@pytest.mark.parametrize("name", KERNELS)
def test_gradients_on_tiny_images_with_every_pixel_chosen(name):
    # 5 pixels, 3 hidden units, 2 classes; pixel 4 is lit in one image only
    # (the shortcut), pixel 0 in none (no column), pixel 2 in all.
    images = [bytes([0, 255, 10, 0, 0]), bytes([0, 0, 200, 7, 0]), bytes([0, 128, 90, 0, 33])]
    labels = [1, 0, 1]
    params = trained_params((5, 3, 2), seed=4)
    grads = batch_gradients(speed.KERNELS[name], FastNet.from_params(params), images, labels)
    assert sorted(grads.dW1T) == [1, 2, 3, 4]
    a = params_entries(dense_grads(grads, 5))
    b = params_entries(plain_gradients(params, images, labels))
    assert relative_error(a, b) < TOLERANCE


@pytest.mark.parametrize("name", KERNELS)
def test_a_blank_image_has_z1_equal_to_b1_and_the_plain_gradients(name):
    # No lit pixel: z1 = W1 x + b1 = b1.  (A fast path that sums over the lit
    # pixels only must still give every hidden unit its bias.)
    kernel = speed.KERNELS[name]
    params = trained_params((5, 3, 2), seed=6)
    blank = bytes(5)
    z2 = kernel.logits(FastNet.from_params(params), blank)
    assert z2 == pytest.approx(forward_one(params, [0.0] * 5, [1.0, 0.0]).z2, rel=TOLERANCE)
    images, labels = [blank, bytes([0, 9, 0, 250, 0]), blank], [0, 1, 1]
    grads = batch_gradients(kernel, FastNet.from_params(params), images, labels)
    assert len(grads.db1) == 3 and all(len(row) == 3 for row in grads.dW2)
    a = params_entries(dense_grads(grads, 5))
    b = params_entries(plain_gradients(params, images, labels))
    assert relative_error(a, b) < TOLERANCE


@pytest.mark.parametrize("name", KERNELS)
def test_the_relu_passes_no_gradient_where_z1_is_exactly_0(name):
    # A blank image makes z1 = b1 exactly, so b1_0 = 0 puts z1_0 on the kink:
    # [z1 > 0] is 0 there, so dz1_0 = 0 although dh_0 is not.
    params = trained_params((5, 3, 2), seed=6)
    params.b1 = [0.0, 0.3, -0.2]
    t = forward_one(params, [0.0] * 5, [0.0, 1.0])
    assert t.z1[0] == 0.0 and backward_one(params, t).dh[0] != 0.0
    bp = speed.KERNELS[name].examples_backprop(FastNet.from_params(params), [bytes(5)], [1])
    assert bp.dZ1[0][0] == 0.0
    assert bp.dZ1[0][1] != 0.0          # the active unit passes its gradient on


@pytest.mark.parametrize("name", KERNELS)
def test_examples_backprop_refuses_images_and_labels_of_other_lengths(name):
    # zip would otherwise drop the images without a label, and train on silently
    net = FastNet.from_params(trained_params((5, 3, 2), seed=6))
    with pytest.raises(ValueError, match="3 images for 2 labels"):
        speed.KERNELS[name].examples_backprop(net, [bytes(5)] * 3, [0, 1])


@pytest.mark.parametrize("name", KERNELS)
def test_predictions_equal_network_predict(digits, name):
    images, _ = digits
    params = trained_params((784, 6, 10), seed=2)
    plain_p = [predict(params, to_vector(im)) for im in images]
    fast_p = speed.predict_probabilities(params, images, name)
    assert relative_error(flatten(fast_p), flatten(plain_p)) < TOLERANCE
    assert speed.predict_labels(params, images, name) == [argmax(p) for p in plain_p]


def test_predict_with_confidence_is_the_label_and_its_probability(digits):
    images, _ = digits
    params = trained_params((784, 6, 10), seed=2)
    predicted, p_predicted = speed.predict_with_confidence(params, images)
    P = speed.predict_probabilities(params, images)
    assert predicted == speed.predict_labels(params, images)
    assert p_predicted == [p[k] for p, k in zip(P, predicted)]       # the same floats, exactly
    assert p_predicted == [max(p) for p in P]


def test_fast_net_round_trips_the_parameters_exactly():
    params = trained_params((7, 4, 3), seed=5)
    assert FastNet.from_params(params).to_params() == params


def test_an_unknown_kernel_is_refused():
    with pytest.raises(ValueError, match="unknown kernel 'numpy'"):
        speed.kernel_named("numpy")


@pytest.mark.parametrize("implementation, expected", [("PyPy", "loops"), ("CPython", "sumprod")])
def test_auto_picks_loops_on_pypy_and_sumprod_on_cpython(monkeypatch, implementation, expected):
    monkeypatch.setattr(speed.platform, "python_implementation", lambda: implementation)
    assert speed.auto_kernel() == expected
    assert speed.kernel_named("auto") is speed.KERNELS[expected]
    assert speed.kernel_named() is speed.KERNELS[expected]


# --- one momentum step against train.momentum_step_ --------------------------------

@pytest.mark.parametrize("name", KERNELS)
def test_momentum_step_equals_the_textbook_update(digits, name):
    kernel = speed.KERNELS[name]
    images, labels = digits
    params = trained_params((784, 6, 10), seed=3)
    # a non-zero starting velocity, so that mu v matters, also in rows the batch leaves dark
    velocity = trained_params((784, 6, 10), seed=9)
    lr, mu = 0.2, 0.5
    net, v_net = FastNet.from_params(params), FastNet.from_params(velocity)
    kernel.momentum_step_(net, v_net, batch_gradients(kernel, net, images, labels), lr, mu)

    theta, v = copy.deepcopy(params), copy.deepcopy(velocity)
    train.momentum_step_(theta, v, plain_gradients(params, images, labels), lr, mu)
    assert relative_error(params_entries(v_net.to_params()), params_entries(v)) < TOLERANCE
    assert relative_error(params_entries(net.to_params()), params_entries(theta)) < TOLERANCE
    # and the step moved the weights by far more than the tolerance
    assert relative_error(params_entries(theta), params_entries(params)) > 1e-3


@pytest.mark.parametrize("name", KERNELS)
def test_momentum_step_decays_the_velocity_of_dark_pixels_only(digits, name):
    kernel = speed.KERNELS[name]
    images, labels = digits
    params = trained_params((784, 6, 10), seed=3)
    velocity = trained_params((784, 6, 10), seed=9)
    net, v_net = FastNet.from_params(params), FastNet.from_params(velocity)
    before = copy.deepcopy(v_net.W1T[0])
    kernel.momentum_step_(net, v_net, batch_gradients(kernel, net, images, labels), 0.2, 0.9)
    # pixel 0 is dark in every image: v <- 0.9 v exactly, and W1T[0] <- W1T[0] - 0.2 v
    assert v_net.W1T[0] == [0.9 * a for a in before]
    assert net.W1T[0] == [t - 0.2 * a for t, a in
                          zip(FastNet.from_params(params).W1T[0], v_net.W1T[0])]


# --- engines: the same training as train.PlainEngine --------------------------------

def small_fit(engine, epochs: int = 2, momentum: float = 0.9):
    data = load_mnist("test")
    config = train.TrainConfig(sizes=(784, 5, 10), lr=0.1, momentum=momentum, batch_size=16,
                               epochs=epochs, seed=1)
    state = train.new_state(config)
    return train.fit(config, state, data.images[:64], data.labels[:64], data.images[64:96],
                     data.labels[64:96], engine=engine)


@pytest.mark.parametrize("name", KERNELS)
def test_a_kernel_engine_trains_to_the_plain_engines_weights(name):
    plain = small_fit(train.PlainEngine)
    fast = small_fit(speed.engine(1, name))
    assert relative_error(params_entries(fast.params), params_entries(plain.params)) < 1e-10
    assert relative_error(params_entries(fast.velocity), params_entries(plain.velocity)) < 1e-10
    assert [e["val_accuracy"] for e in fast.history] == [e["val_accuracy"] for e in plain.history]
    assert [e["train_accuracy"] for e in fast.history] == \
        [e["train_accuracy"] for e in plain.history]
    assert [e["train_loss"] for e in fast.history] == \
        pytest.approx([e["train_loss"] for e in plain.history], rel=1e-12)
    assert fast.step == plain.step == 8
