"""The one-process engine: train.py's Engine, each step computed by a kernel.

train.PlainEngine runs network.py on every pixel of every example.  This
engine computes the same step with a kernel (sumprod.py or loops.py) on
the lit pixels only, in the two stages of stages.py, one after the other:

    stage 1   every example of the batch: h, dz2, dz1            (examples_backprop)
    stage 2   every pixel lit in the batch: its column of dW1     (pixel_columns)
    then      dW2, db1, db2 and the update                       (batch_gradients_from,
                                                                  momentum_step_)

It keeps the weights and velocities as FastNets (W1 transposed) during
an epoch and hands them back as Params at its end (``finish_``).
"""

import math
from types import ModuleType
from typing import List, Optional, Sequence, Tuple

from ..matrix import argmax
from ..network import Params
from ..train import TrainState
from .stages import BatchGrads, FastNet, lit_pixels


def batch_gradients(kernel: ModuleType, net: FastNet, images: Sequence[bytes],
                    labels: Sequence[int]) -> BatchGrads:
    """Gradient sums of a whole mini-batch in one process: every example, then every lit pixel."""
    bp = kernel.examples_backprop(net, images, labels)
    lit = lit_pixels(images)
    return kernel.batch_gradients_from(bp, kernel.pixel_columns(bp.dZ1, lit, lit))


def predict_labels(kernel: ModuleType, params: Params, images: Sequence[bytes]) -> List[int]:
    """The predicted digit argmax_k z2_k of each image (p = softmax(z2) is monotone in z2)."""
    net = FastNet.from_params(params)
    return [argmax(kernel.logits(net, image)) for image in images]


class SerialEngine:
    """train.Engine in this process, with `kernel` computing each step."""

    def __init__(self, kernel: ModuleType, images: Sequence[bytes], labels: Sequence[int]):
        self.kernel = kernel
        self.images, self.labels = images, labels
        self.net: Optional[FastNet] = None
        self.velocity: Optional[FastNet] = None

    def start(self, state: TrainState) -> None:
        self.net = FastNet.from_params(state.params)
        self.velocity = FastNet.from_params(state.velocity)

    def step(self, batch: Sequence[int], lr: float, mu: float) -> Tuple[float, int]:
        grads = batch_gradients(self.kernel, self.net, [self.images[n] for n in batch],
                                [self.labels[n] for n in batch])
        if math.isfinite(grads.loss_sum):
            self.kernel.momentum_step_(self.net, self.velocity, grads, lr, mu)
        return grads.loss_sum, grads.correct

    def finish_(self, state: TrainState) -> None:
        state.params = self.net.to_params()
        state.velocity = self.velocity.to_params()

    def predict_labels(self, params: Params, images: Sequence[bytes]) -> List[int]:
        return predict_labels(self.kernel, params, images)

    def close(self) -> None:
        self.net = self.velocity = None
