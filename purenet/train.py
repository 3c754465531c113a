"""Training: mini-batch SGD with momentum, epoch after epoch.

The whole algorithm, as ``fit`` runs it.  Each epoch visits the N
training examples once, in an order shuffled by a seeded random.Random,
in mini-batches of B examples.  For each mini-batch, with theta each of
W1, b1, W2, b2:

    g     = dL/dtheta             the batch's mean gradient (network.backward, the short form)
    v     <- mu v + g             momentum: a running sum of past gradients, decaying by mu
    theta <- theta - eta_e v      the step

mu (``momentum``) is the fraction of the previous step kept.  While the
gradient stays the same, v grows to g / (1 - mu), so with mu = 0.9 a
steady gradient moves theta ten times as far per step as plain SGD
would, while gradients that flip sign cancel out.  (This is the form
PyTorch uses; ``momentum_step_`` below is it, line by line.)

eta_e, the learning rate of epoch e (0-based, E epochs), follows a schedule:

    cosine    eta_e = eta_0 (1 + cos(pi e / E)) / 2     (default)
    step      eta_e = eta_0 / 2^(e // max(1, E // 3))
    constant  eta_e = eta_0

Large steps early travel fast; small steps late settle into a minimum
instead of bouncing around it.

After each epoch, the validation accuracy (the fraction of held-out
images whose predicted digit, argmax_k p_k, is their label) goes into
the run's history, and ``on_epoch`` is called (the command line saves a
checkpoint there).  ``on_batch`` is called after every mini-batch (the
command line shows progress there).

A step too large makes the loss blow up instead of fall; a batch whose
mean loss is NaN, infinite or above ``DIVERGED_LOSS`` stops the run with
``TrainingDiverged``, naming the step and the learning rate.

Examples are images as ``bytes`` (one pixel value 0..255 each) and their
labels k; the network sees x = network.to_vector(image) and
y = one_hot(k).  What computes each step is an *engine*.  ``PlainEngine``
below is the definition: network.py's forward pass and short-form
backward pass, then ``momentum_step_``; it needs nothing else and is
slow (about a tenth of a second per MNIST example).  purenet/speed has
engines that compute the same numbers faster (tested equal to this one).

Everything that decides the next weights is in ``TrainState``, and
``TrainState.to_dict`` / ``from_dict`` turn it into plain data (lists,
numbers) and back, so that a run restored from a saved state continues
exactly as if it had never stopped.
"""

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple

from .matrix import argmax, total
from .network import (Params, Sizes, backward, forward, he_init, one_hot, predict,
                      to_vector)

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


class TrainingDiverged(ArithmeticError):
    """The loss became NaN, infinite or larger than DIVERGED_LOSS."""


# --- the settings and the state ---------------------------------------------------

@dataclass
class TrainConfig:
    """The hyper-parameters of a run (saved in every checkpoint and model)."""
    sizes: Sizes = (784, 512, 10)
    lr: float = 0.2               # eta_0
    momentum: float = 0.9         # mu
    batch_size: int = 128         # B
    epochs: int = 6               # E
    schedule: str = "cosine"
    seed: int = 0

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TrainConfig":
        """The config saved as d (other keys are ignored); ValueError naming a value that is wrong."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        config = cls(**known)
        config.sizes = tuple(config.sizes)  # type: ignore[assignment]
        config.check()
        return config

    def check(self) -> None:
        """ValueError naming the first setting no run could use (after a hand edit, say)."""
        rules = (("lr", _is_number(self.lr) and self.lr > 0.0, "a finite number above 0"),
                 ("momentum", _is_number(self.momentum) and 0.0 <= self.momentum < 1.0,
                  "a number in [0, 1)"),
                 ("batch_size", _is_count(self.batch_size, 1), "a whole number, at least 1"),
                 ("epochs", _is_count(self.epochs, 1), "a whole number, at least 1"),
                 ("seed", _is_count(self.seed, 0), "a whole number, 0 or more"),
                 ("schedule", self.schedule in SCHEDULES, f"one of {', '.join(SCHEDULES)}"))
        for name, ok, expected in rules:
            if not ok:
                raise ValueError(f"{name} is {getattr(self, name)!r}, expected {expected}")


def _is_number(a: Any) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a)


def _is_count(a: Any, least: int) -> bool:
    return isinstance(a, int) and not isinstance(a, bool) and a >= least


@dataclass
class TrainState:
    """Everything that decides what happens next: weights, velocities, RNG, progress."""
    params: Params                      # theta: W1, b1, W2, b2
    velocity: Params                    # v, one entry per entry of theta
    rng_state: Any                      # the shuffling RNG's state (random.Random.getstate())
    epoch: int = 0                      # epochs finished
    step: int = 0                       # mini-batches finished
    history: List[Dict[str, Any]] = field(default_factory=list)   # one entry per epoch

    def to_dict(self) -> Dict[str, Any]:
        """Plain data (as JSON holds it) for everything but the weights and the history."""
        version, internal, gauss_next = self.rng_state
        v = self.velocity
        return {"epoch": self.epoch, "step": self.step,
                "rng_state": [version, list(internal), gauss_next],
                "velocity": {"W1": v.W1, "b1": v.b1, "W2": v.W2, "b2": v.b2}}

    @classmethod
    def from_dict(cls, d: Dict[str, Any], params: Params,
                  history: List[Dict[str, Any]]) -> "TrainState":
        """The inverse of to_dict, with the weights and history saved beside it.

        Raises ValueError (or KeyError, TypeError) naming what is damaged, so
        that a hand-edited or truncated state fails here, not hours into a run.
        """
        v = d["velocity"]
        velocity = Params(W1=v["W1"], b1=v["b1"], W2=v["W2"], b2=v["b2"])
        velocity.check_shapes()
        if velocity.sizes != params.sizes:
            raise ValueError("velocity shapes differ from the weights")
        rows = velocity.W1 + velocity.W2 + [velocity.b1, velocity.b2]
        if not all(_is_number(a) for row in rows for a in row):
            # a NaN here would surface later as "the loss became nan ... try a smaller --lr"
            raise ValueError("velocity holds a value that is not a finite number")
        epoch, step = d["epoch"], d["step"]
        if not (_is_count(epoch, 0) and _is_count(step, 0)):
            raise ValueError(f"epoch {epoch!r} and step {step!r} must be whole numbers, 0 or more")
        if len(history) != epoch:
            raise ValueError(f"it is at epoch {epoch} but its history has {len(history)} epochs")
        if not all(_is_number(entry.get("seconds")) for entry in history):
            raise ValueError("a history entry has no \"seconds\"")
        version, internal, gauss_next = d["rng_state"]
        rng_state = (version, tuple(internal), gauss_next)
        random.Random().setstate(rng_state)  # a damaged state fails here, not mid-run
        return cls(params=params, velocity=velocity, rng_state=rng_state, epoch=epoch,
                   step=step, history=list(history))


def zeros_like(params: Params) -> Params:
    """Params of the same shapes, every entry 0.0 (the velocity before the first step)."""
    return Params(W1=[[0.0] * len(row) for row in params.W1], b1=[0.0] * len(params.b1),
                  W2=[[0.0] * len(row) for row in params.W2], b2=[0.0] * len(params.b2))


def shuffle_rng(seed: int) -> random.Random:
    """The RNG that orders the examples; separate from the one he_init uses."""
    return random.Random(f"purenet-shuffle-{seed}")


def new_state(config: TrainConfig) -> TrainState:
    """He-initialised weights (seeded), zero velocities, a fresh shuffling RNG."""
    params = he_init(config.sizes, config.seed)
    return TrainState(params=params, velocity=zeros_like(params),
                      rng_state=shuffle_rng(config.seed).getstate())


# --- the schedule and the update --------------------------------------------------

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
    raise ValueError(f"unknown schedule {config.schedule!r}; choose one of {', '.join(SCHEDULES)}")


def momentum_step_(params: Params, velocity: Params, g: Params, lr: float, mu: float) -> None:
    """In place, for each theta of W1, b1, W2, b2:  v <- mu v + g;  theta <- theta - lr v."""
    if not params.sizes == velocity.sizes == g.sizes:   # zip below would drop what does not fit
        raise ValueError(f"momentum_step_: weights {params.sizes}, velocities {velocity.sizes} "
                         f"and gradient {g.sizes} are not the same shapes")
    for name in ("W1", "W2"):
        theta, v, grad = getattr(params, name), getattr(velocity, name), getattr(g, name)
        for i in range(len(theta)):
            v[i] = [mu * vi + gi for vi, gi in zip(v[i], grad[i])]
            theta[i] = [ti - lr * vi for ti, vi in zip(theta[i], v[i])]
    for name in ("b1", "b2"):
        v = [mu * vi + gi for vi, gi in zip(getattr(velocity, name), getattr(g, name))]
        setattr(velocity, name, v)
        setattr(params, name, [ti - lr * vi for ti, vi in zip(getattr(params, name), v)])


# --- engines: what computes each step ---------------------------------------------

class Engine(Protocol):
    """What fit() asks of the code that computes each mini-batch's step.

    An engine is made for one run's training examples (images and labels)
    and works on the weights between ``start`` and ``finish_``.
    """

    def start(self, state: TrainState) -> None:
        """Begin an epoch from the state's weights and velocities."""

    def step(self, batch: Sequence[int], lr: float, mu: float) -> Tuple[float, int]:
        """One mini-batch (indices into the examples): g, then v <- mu v + g; theta <- theta - lr v.

        Returns the sum of the batch's losses L and how many of its
        examples the weights before the step classified right.  A batch
        whose loss sum is not finite is not applied (the run stops anyway).
        """

    def finish_(self, state: TrainState) -> None:
        """End the epoch: write the current weights and velocities into state."""

    def predict_labels(self, params: Params, images: Sequence[bytes]) -> List[int]:
        """The predicted digit argmax_k p_k of each image."""

    def close(self) -> None:
        """Let go of anything held (processes, memory); safe to call twice."""


EngineFactory = Callable[[Sequence[bytes], Sequence[int]], Engine]


class PlainEngine:
    """network.py's forward pass and short-form backward pass, then momentum_step_: the definition."""

    def __init__(self, images: Sequence[bytes], labels: Sequence[int]):
        self.images, self.labels = images, labels
        self.state: Optional[TrainState] = None

    def start(self, state: TrainState) -> None:
        self.state = state          # works on the state's own Params, in place

    def step(self, batch: Sequence[int], lr: float, mu: float) -> Tuple[float, int]:
        state = self.state
        X = [to_vector(self.images[n]) for n in batch]
        Y = [one_hot(self.labels[n], state.params.sizes[2]) for n in batch]
        traces = forward(state.params, X, Y)
        loss_sum = total(t.L for t in traces)
        correct = sum(argmax(t.p) == self.labels[n] for t, n in zip(traces, batch))
        if math.isfinite(loss_sum):
            g = backward(state.params, traces)
            momentum_step_(state.params, state.velocity, g, lr, mu)
        return loss_sum, correct

    def finish_(self, state: TrainState) -> None:
        pass                        # the state was updated in place all along

    def predict_labels(self, params: Params, images: Sequence[bytes]) -> List[int]:
        return [argmax(predict(params, to_vector(image))) for image in images]

    def close(self) -> None:
        self.state = None


# --- the loop ----------------------------------------------------------------------

@dataclass
class BatchProgress:
    """Where an epoch stands, after each mini-batch (what on_batch receives)."""
    epoch: int           # 1-based
    done: int            # examples finished this epoch
    total: int           # examples in the epoch
    running_loss: float  # mean loss of the examples finished this epoch
    elapsed: float       # seconds since the epoch started


def accuracy(predicted: Sequence[int], labels: Sequence[int]) -> float:
    """The fraction of predictions equal to their label (NaN for none)."""
    if len(predicted) != len(labels):
        raise ValueError(f"accuracy: {len(predicted)} predictions for {len(labels)} labels")
    if not labels:
        return float("nan")
    return sum(k == label for k, label in zip(predicted, labels)) / len(labels)


def train_epoch_(state: TrainState, config: TrainConfig, engine: Engine, n_examples: int,
                 on_batch: Optional[Callable[[BatchProgress], None]] = None) -> Dict[str, Any]:
    """One epoch, updating `state` in place; returns its training loss, accuracy, lr, seconds."""
    e = state.epoch
    lr = learning_rate(config, e)
    rng = random.Random()
    rng.setstate(state.rng_state)
    order = list(range(n_examples))
    rng.shuffle(order)
    loss_sum, correct, done = 0.0, 0, 0
    started = time.perf_counter()
    engine.start(state)
    for start in range(0, n_examples, config.batch_size):
        batch = order[start:start + config.batch_size]
        batch_loss, batch_correct = engine.step(batch, lr, config.momentum)
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
            on_batch(BatchProgress(e + 1, done, n_examples, loss_sum / done,
                                   time.perf_counter() - started))
    engine.finish_(state)
    state.rng_state = rng.getstate()
    state.epoch += 1
    return {"epoch": e + 1, "lr": lr, "train_loss": loss_sum / done,
            "train_accuracy": correct / done, "seconds": time.perf_counter() - started}


def fit(config: TrainConfig, state: TrainState,
        images: Sequence[bytes], labels: Sequence[int],
        val_images: Sequence[bytes], val_labels: Sequence[int],
        engine: EngineFactory = PlainEngine,
        on_batch: Optional[Callable[[BatchProgress], None]] = None,
        on_epoch: Optional[Callable[[TrainState, Dict[str, Any]], None]] = None) -> TrainState:
    """Train from `state` until config.epochs epochs are done; returns the state, updated in place.

    Each epoch: the shuffled mini-batches (train_epoch_), then the
    validation accuracy, one history entry, and on_epoch(state, entry).
    """
    if len(images) != len(labels) or len(val_images) != len(val_labels):
        raise ValueError(f"fit: {len(images)} images for {len(labels)} labels, "
                         f"{len(val_images)} validation images for {len(val_labels)} labels")
    worker = engine(images, labels)
    try:
        while state.epoch < config.epochs:
            entry = train_epoch_(state, config, worker, len(images), on_batch)
            predicted = worker.predict_labels(state.params, val_images)
            entry["val_accuracy"] = accuracy(predicted, val_labels)
            entry["train_examples"] = len(images)
            state.history.append(entry)
            if on_epoch:
                on_epoch(state, entry)
    finally:
        worker.close()   # stops any worker processes, however the loop ended
    return state
