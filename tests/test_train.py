"""Training (purenet/train.py): the schedule, the epoch loop, divergence, and that it learns.

The loop is specified by what it must guarantee: every example once per
epoch in a seeded order that changes between epochs, the same seed giving
the same weights, a blown-up loss stopping the run with the step and the
learning rate named, and a small real run learning MNIST well above chance.
"""

import math
import random
from typing import List

import pytest

from purenet.errors import TrainingDiverged, UsageError
from purenet.mnist import load_mnist
from purenet.train import (DIVERGED_LOSS, TrainConfig, accuracy, learning_rate, new_state,
                           train_epoch_)

ETA0 = 0.2


# --- the learning-rate schedule ---------------------------------------------------

def test_cosine_starts_at_eta0_halves_at_mid_run_and_never_reaches_zero():
    config = TrainConfig(lr=ETA0, epochs=4, schedule="cosine")
    # eta_e = eta_0 (1 + cos(pi e / 4)) / 2
    assert learning_rate(config, 0) == ETA0
    assert learning_rate(config, 1) == pytest.approx(0.1 * (1 + math.sqrt(0.5)), rel=1e-15)
    assert learning_rate(config, 2) == 0.1        # cos(pi/2) is 6e-17: 1 + that rounds to 1
    assert learning_rate(config, 3) == pytest.approx(0.1 * (1 - math.sqrt(0.5)), rel=1e-15)
    assert learning_rate(config, 3) > 0.0         # the last epoch still learns


def test_cosine_over_six_epochs_the_default():
    config = TrainConfig(lr=ETA0, epochs=6, schedule="cosine")
    # (1 + cos(pi e / 6)) / 2 for e = 0..5: 1, (2 + sqrt 3)/4, 3/4, 1/2, 1/4, (2 - sqrt 3)/4
    expected = [1.0, (2 + math.sqrt(3)) / 4, 0.75, 0.5, 0.25, (2 - math.sqrt(3)) / 4]
    got = [learning_rate(config, e) for e in range(6)]
    assert got == pytest.approx([ETA0 * f for f in expected], rel=1e-14)


def test_step_halves_every_third_of_the_run():
    # E = 6: E // 3 = 2 epochs per step
    config = TrainConfig(lr=ETA0, epochs=6, schedule="step")
    assert [learning_rate(config, e) for e in range(6)] == [0.2, 0.2, 0.1, 0.1, 0.05, 0.05]
    # E = 7: still 2 epochs per step, so the seventh epoch starts a fourth level
    config = TrainConfig(lr=ETA0, epochs=7, schedule="step")
    assert learning_rate(config, 6) == 0.025


def test_step_on_runs_shorter_than_three_epochs_halves_every_epoch():
    # E // 3 = 0 would divide by zero; max(1, E // 3) makes it one epoch per step
    config = TrainConfig(lr=ETA0, epochs=2, schedule="step")
    assert [learning_rate(config, e) for e in range(2)] == [0.2, 0.1]


def test_constant_is_eta0_at_every_epoch():
    config = TrainConfig(lr=ETA0, epochs=5, schedule="constant")
    assert [learning_rate(config, e) for e in range(5)] == [ETA0] * 5


def test_an_unknown_schedule_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown schedule 'linear'"):
        learning_rate(TrainConfig(schedule="linear"), 0)


def test_config_survives_a_round_trip_through_a_dict():
    config = TrainConfig(sizes=(784, 16, 10), lr=0.05, momentum=0.5, batch_size=7, epochs=3,
                         schedule="step", seed=11)
    d = config.to_dict()
    assert d["sizes"] == [784, 16, 10]  # a list, as JSON gives it back
    assert TrainConfig.from_dict({**d, "train_examples": 500}) == config  # extra keys ignored


# --- the epoch loop, with a stand-in engine that records what it is given ------------

class RecordingEngine:
    """Takes the place of the gradient step: records the batches, returns loss 1 per example."""

    def __init__(self) -> None:
        self.batches: List[List[int]] = []
        self.lrs: List[float] = []

    def step(self, state, batch, lr, momentum, images, labels):
        self.batches.append(list(batch))
        self.lrs.append(lr)
        return float(len(batch)), 0

    def close(self) -> None:
        pass


TINY = TrainConfig(sizes=(4, 3, 2), batch_size=4, epochs=3, seed=5)
N = 10  # examples; batches of 4, 4, 2


def run_recorded(config: TrainConfig, epochs: int) -> List[List[int]]:
    """The visiting order of each epoch."""
    state = new_state(config)
    engine = RecordingEngine()
    orders = []
    for _ in range(epochs):
        before = len(engine.batches)
        train_epoch_(state, config, [b"\0" * 4] * N, [0] * N, engine=engine)
        orders.append([n for batch in engine.batches[before:] for n in batch])
    return orders


def test_each_epoch_visits_every_example_once_in_batches_of_B():
    state = new_state(TINY)
    engine = RecordingEngine()
    entry = train_epoch_(state, TINY, [b"\0" * 4] * N, [0] * N, engine=engine)
    assert [len(b) for b in engine.batches] == [4, 4, 2]
    assert sorted(n for b in engine.batches for n in b) == list(range(N))
    assert (state.epoch, state.step) == (1, 3)
    assert entry["epoch"] == 1 and entry["lr"] == TINY.lr
    assert entry["train_loss"] == 1.0  # the mean over examples of the engine's 1 per example


def test_the_order_is_shuffled_differently_each_epoch_and_repeats_with_the_seed():
    orders = run_recorded(TINY, 3)
    assert orders[0] != list(range(N))
    assert orders[0] != orders[1] and orders[1] != orders[2]
    assert run_recorded(TINY, 3) == orders
    other_seed = TrainConfig(**{**TINY.__dict__, "seed": 6})
    assert run_recorded(other_seed, 1)[0] != orders[0]


def test_the_shuffle_rng_is_the_one_saved_in_the_state():
    # Resuming relies on this: the next epoch's order comes from state.rng_state alone.
    state = new_state(TINY)
    train_epoch_(state, TINY, [b"\0" * 4] * N, [0] * N, engine=RecordingEngine())
    expected = list(range(N))
    rng = random.Random()
    rng.setstate(state.rng_state)
    rng.shuffle(expected)
    engine = RecordingEngine()
    train_epoch_(state, TINY, [b"\0" * 4] * N, [0] * N, engine=engine)
    assert [n for b in engine.batches for n in b] == expected


def test_each_epoch_uses_its_scheduled_learning_rate():
    config = TrainConfig(sizes=(4, 3, 2), batch_size=4, epochs=3, schedule="step")
    state = new_state(config)
    engine = RecordingEngine()
    for _ in range(3):
        train_epoch_(state, config, [b"\0" * 4] * N, [0] * N, engine=engine)
    assert engine.lrs == [0.2] * 3 + [0.1] * 3 + [0.05] * 3


def test_on_batch_reports_the_epoch_examples_done_and_running_loss():
    state = new_state(TINY)
    seen = []
    train_epoch_(state, TINY, [b"\0" * 4] * N, [0] * N, engine=RecordingEngine(),
                 on_batch=seen.append)
    assert [(p.epoch, p.done, p.total, p.running_loss) for p in seen] == [
        (1, 4, 10, 1.0), (1, 8, 10, 1.0), (1, 10, 10, 1.0)]


# --- divergence --------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_train():
    return load_mnist("train")


def test_a_huge_learning_rate_stops_at_the_step_where_the_loss_blew_up(mnist_train):
    # Step 1 starts from He weights (loss about ln 10); its update, 1e6 times the
    # gradient, makes the loss of step 2 about 1e9: far above DIVERGED_LOSS, yet finite.
    config = TrainConfig(sizes=(784, 8, 10), lr=1e6, batch_size=32, epochs=1)
    state = new_state(config)
    with pytest.raises(TrainingDiverged) as caught:
        train_epoch_(state, config, mnist_train.images[:128], mnist_train.labels[:128])
    message = str(caught.value)
    assert message.startswith("the loss became ")
    assert float(message.split()[3]) > DIVERGED_LOSS
    assert "at step 2 (epoch 1, batch 2) with learning rate 1e+06" in message
    assert state.step == 1 and state.epoch == 0  # the failed step is not counted


def test_a_loss_that_becomes_nan_stops_the_run_too(mnist_train):
    # At 1e200 the weights overflow to inf after one step, and inf - inf is NaN.
    config = TrainConfig(sizes=(784, 8, 10), lr=1e200, batch_size=32, epochs=1)
    with pytest.raises(TrainingDiverged, match=r"^the loss became nan at step 2 .*1e\+200"):
        train_epoch_(new_state(config), config, mnist_train.images[:128],
                     mnist_train.labels[:128])


# --- it learns ---------------------------------------------------------------------

def test_two_epochs_on_2000_images_reach_80_percent_validation_accuracy(mnist_train):
    # The defaults (B = 128, eta_0 = 0.2, cosine, momentum 0.9) with 16 hidden units,
    # 2 epochs on the first 2,000 images = 32 steps, validated on the last 5,000.
    # Measured (Python 3.11, seeds 0-4): 0.8668, 0.8554, 0.8530, 0.8618, 0.8598.
    # The threshold 0.80 sits 5 points below the lowest: the seeds' spread is 1.4
    # points and one standard error of an accuracy near 0.86 on 5,000 images is
    # sqrt(0.86 * 0.14 / 5000) = 0.5 points, so rounding differences between
    # Pythons cannot reach it, while a broken gradient, update or shuffle lands
    # near chance (0.10); one epoch alone gave 0.75-0.81.
    config = TrainConfig(sizes=(784, 16, 10), epochs=2, seed=0)
    state = new_state(config)
    images, labels = mnist_train.images[:2000], mnist_train.labels[:2000]
    history = [train_epoch_(state, config, images, labels) for _ in range(config.epochs)]
    val_accuracy = accuracy(state.net.to_params(), mnist_train.images[-5000:],
                            mnist_train.labels[-5000:])
    assert val_accuracy > 0.80
    assert history[1]["train_loss"] < history[0]["train_loss"] < math.log(10)
    assert state.step == 2 * math.ceil(2000 / 128)
