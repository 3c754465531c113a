"""Training: mini-batch SGD with momentum and a learning-rate schedule.

Each epoch visits the training examples once, in an order shuffled by a
seeded random.Random, in mini-batches of B examples.  For each batch,
with g = dL/dtheta the batch's mean gradient (network.py's short form,
computed by fast.py) and theta each of W1, b1, W2, b2:

    v     <- mu v + g                  momentum: a running sum of past gradients
    theta <- theta - eta_e v

mu (``momentum``) is the fraction of the previous step kept; with
mu = 0.9 a steady gradient moves theta about ten times as far per step
as plain SGD would, while gradients that flip sign cancel out.

eta_e, the learning rate of epoch e (0-based, E epochs), follows a schedule:

    cosine    eta_e = eta_0 (1 + cos(pi e / E)) / 2     (default)
    step      eta_e = eta_0 / 2^(e // max(1, E // 3))
    constant  eta_e = eta_0

Large steps early travel fast; small steps late settle into a minimum
instead of bouncing around it.

A step too large makes the loss blow up instead of fall; a batch whose
mean loss is NaN, infinite or above ``DIVERGED_LOSS`` stops the run with
``TrainingDiverged``, naming the step and the learning rate.

This module knows nothing about files or the command line: it takes the
images and labels in memory, and a caller (commands/train.py) saves
checkpoints through the ``on_epoch`` callback and shows progress through
``on_batch``.  Everything that decides the next weights is in
``TrainState``, so a run restored from a saved state continues exactly
as if it had never stopped.
"""

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from .errors import TrainingDiverged, UsageError
from .fast import FastNet, batch_gradients, momentum_step_, predict_labels
from .network import Params, Sizes, he_init

SCHEDULES = ("cosine", "step", "constant")

# A batch whose mean loss L is above this has diverged, even while L is finite.
# L = -ln p_y, so L > 100 means the right class got p_y < e^-100 on average,
# where knowing nothing (p uniform) gives ln 10 = 2.3.  A ReLU network with a
# stable softmax rarely reaches NaN: its loss grows with its weights instead
# (measured on 500 images: --lr 1e6 gives L ~ 1e9 and --lr 1e100 L ~ 1e200,
# both finishing "successfully" at chance accuracy; only --lr 1e200 made NaN).
# Sane runs stay far below (peak batch loss 2.5 at --lr 0.2; --lr 5 peaked at
# 131 and ended at chance).
DIVERGED_LOSS = 100.0


@dataclass
class TrainConfig:
    """The hyper-parameters of a run (saved in every checkpoint and model)."""
    sizes: Sizes = (784, 512, 10)
    lr: float = 0.2
    momentum: float = 0.9
    batch_size: int = 128
    epochs: int = 6
    schedule: str = "cosine"
    seed: int = 0

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TrainConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        config = cls(**known)
        config.sizes = tuple(config.sizes)  # type: ignore[assignment]
        return config


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """eta_e for 0-based epoch e, by the schedule in the module docstring."""
    eta0, E = config.lr, config.epochs
    if config.schedule == "cosine":
        # halve before multiplying: eta0 * (1 + cos) would overflow for eta0 near
        # the largest float; the result is the same float either way
        return eta0 * ((1.0 + math.cos(math.pi * epoch / E)) / 2.0)
    if config.schedule == "step":
        return eta0 / 2 ** (epoch // max(1, E // 3))
    if config.schedule == "constant":
        return eta0
    raise UsageError(f"unknown schedule {config.schedule!r}; choose one of {', '.join(SCHEDULES)}")


@dataclass
class TrainState:
    """Everything that decides what happens next: weights, velocities, RNG, progress."""
    net: FastNet
    velocity: FastNet
    rng_state: Any
    epoch: int = 0                      # epochs finished
    step: int = 0                       # mini-batches finished
    history: List[Dict[str, Any]] = field(default_factory=list)


def zeros_like(net: FastNet) -> FastNet:
    return FastNet(W1T=[[0.0] * len(row) for row in net.W1T], b1=[0.0] * len(net.b1),
                   W2=[[0.0] * len(row) for row in net.W2], b2=[0.0] * len(net.b2))


def shuffle_rng(seed: int) -> random.Random:
    """The RNG that orders the examples; separate from the one he_init uses."""
    return random.Random(f"purenet-shuffle-{seed}")


def new_state(config: TrainConfig) -> TrainState:
    net = FastNet.from_params(he_init(config.sizes, config.seed))
    return TrainState(net=net, velocity=zeros_like(net),
                      rng_state=shuffle_rng(config.seed).getstate())


@dataclass
class BatchProgress:
    epoch: int
    done: int            # examples finished this epoch
    total: int           # examples in the epoch
    running_loss: float  # mean loss of the examples finished this epoch
    elapsed: float       # seconds since the epoch started


class SerialEngine:
    """Computes batch gradients and applies the update in this process."""

    def step(self, state: TrainState, batch: Sequence[int], lr: float, momentum: float,
             images: Sequence[bytes], labels: Sequence[int]):
        grads = batch_gradients(state.net, [images[n] for n in batch], [labels[n] for n in batch])
        if math.isfinite(grads.loss_sum):
            momentum_step_(state.net, state.velocity, grads, lr, momentum)
        return grads.loss_sum, grads.correct

    def close(self) -> None:
        pass


def accuracy(params: Params, images: Sequence[bytes], labels: Sequence[int]) -> float:
    """The fraction of images whose predicted class is their label."""
    if not images:
        return float("nan")
    predicted = predict_labels(params, images)
    return sum(p == t for p, t in zip(predicted, labels)) / len(labels)


def train_epoch_(state: TrainState, config: TrainConfig, images: Sequence[bytes],
                 labels: Sequence[int], engine=None,
                 on_batch: Optional[Callable[[BatchProgress], None]] = None) -> Dict[str, Any]:
    """One epoch, updating `state` in place; returns its training loss, accuracy, lr, seconds."""
    engine = engine or SerialEngine()
    e = state.epoch
    lr = learning_rate(config, e)
    rng = random.Random()
    rng.setstate(state.rng_state)
    order = list(range(len(images)))
    rng.shuffle(order)
    loss_sum, correct, done = 0.0, 0, 0
    started = time.perf_counter()
    for start in range(0, len(order), config.batch_size):
        batch = order[start:start + config.batch_size]
        batch_loss, batch_correct = engine.step(state, batch, lr, config.momentum, images, labels)
        mean_loss = batch_loss / len(batch)
        if not math.isfinite(mean_loss) or mean_loss > DIVERGED_LOSS:
            raise TrainingDiverged(
                f"the loss became {mean_loss:.4g} at step {state.step + 1} (epoch {e + 1}, "
                f"batch {start // config.batch_size + 1}) with learning rate {lr:g}; "
                f"try a smaller --lr")
        state.step += 1
        loss_sum += batch_loss
        correct += batch_correct
        done += len(batch)
        if on_batch:
            on_batch(BatchProgress(e + 1, done, len(order), loss_sum / done,
                                   time.perf_counter() - started))
    state.rng_state = rng.getstate()
    state.epoch += 1
    return {"epoch": e + 1, "lr": lr, "train_loss": loss_sum / done,
            "train_accuracy": correct / done, "seconds": time.perf_counter() - started}
