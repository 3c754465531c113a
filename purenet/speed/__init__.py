"""Speed: the same numbers as network.py and train.py, computed faster.

network.py says what is computed, and train.PlainEngine computes it as
written: every pixel of every example, one Python-level operation per
number.  That costs about a tenth of a second per MNIST example, an hour
and a half per epoch.  This chapter computes the same numbers faster;
every piece is tested equal to the plain path (tests/test_speed.py), so
nothing here needs to be read to understand what the network does.

The tricks, and why each is faster:

1. The sparse first layer (stages.py).  About 81% of MNIST's pixels are
   0, and 0 * w adds nothing, so z1 = W1 x + b1 only needs the lit
   pixels, and so does dW1 = dz1 x^T.  W1 is kept transposed so that the
   column of a lit pixel is one row.  About 5x less work.

2. The right loops for the running Python: a *kernel*.  On CPython a
   Python-level loop step costs tens of nanoseconds, so sumprod.py runs
   every inner product in C (``math.sumprod``).  On PyPy the JIT compiles
   plain loops to machine code, so loops.py writes the step as the
   equations read, and is the fastest of all.  "auto" picks by Python.

3. Two stages, shared by processes (stages.py, parallel.py).  Each
   example up to dz1 is independent of the others, and so is each
   pixel's column of dW1; N processes share both and get the same
   weights, bit for bit, as one.

A *kernel* is a module with the five functions sumprod.py lists
(logits, examples_backprop, pixel_columns, batch_gradients_from,
momentum_step_); an *engine* (serial.py, parallel.py) is train.py's
Engine, running a kernel in one process or several.

    engine(workers, kernel)   an engine factory for train.fit
    usable_cores()            the default number of workers: every core this process may use
    predict_labels, predict_probabilities, predict_with_confidence
                              the forward pass of many images, by a kernel
"""

import functools
import os
import platform
from types import ModuleType
from typing import List, Sequence, Tuple

from ..matrix import Vector, argmax
from ..network import Params, softmax
from ..train import EngineFactory
from . import loops, sumprod
from .parallel import ParallelEngine, WorkerFailed
from .serial import SerialEngine
from .serial import predict_labels as _predict_labels
from .stages import FastNet

KERNELS = {"loops": loops, "sumprod": sumprod}
KERNEL_CHOICES = ("auto",) + tuple(KERNELS)


def auto_kernel() -> str:
    """The fastest kernel on the running Python: loops on PyPy (its JIT), sumprod on CPython."""
    return "loops" if platform.python_implementation() == "PyPy" else "sumprod"


def kernel_name(name: str = "auto") -> str:
    """The kernel `name` stands for: itself, or for "auto" the fastest on the running Python."""
    return auto_kernel() if name == "auto" else name


def kernel_named(name: str = "auto") -> ModuleType:
    """The kernel called `name`; "auto" picks the fastest for the running Python."""
    name = kernel_name(name)
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {', '.join(KERNEL_CHOICES)}")
    return KERNELS[name]


def usable_cores() -> int:
    """How many CPU cores this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):         # CPython on Linux: taskset, cgroups' cpusets
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1                   # elsewhere, PyPy included: the machine's cores


def engine(workers: int = 1, kernel: str = "auto") -> EngineFactory:
    """What train.fit builds its engine with: `workers` processes, each step by `kernel`."""
    module = kernel_named(kernel)
    if workers == 1:
        return functools.partial(SerialEngine, module)
    return functools.partial(ParallelEngine, module, workers)


def logits(params: Params, images: Sequence[bytes], kernel: str = "auto") -> List[Vector]:
    """z2 of each image (the forward pass without the loss)."""
    module, net = kernel_named(kernel), FastNet.from_params(params)
    return [module.logits(net, image) for image in images]


def predict_labels(params: Params, images: Sequence[bytes], kernel: str = "auto") -> List[int]:
    """The predicted digit argmax_k z2_k of each image (p = softmax(z2) is monotone in z2)."""
    return _predict_labels(kernel_named(kernel), params, images)


def predict_probabilities(params: Params, images: Sequence[bytes],
                          kernel: str = "auto") -> List[Vector]:
    """p = softmax(z2) of each image."""
    return [softmax(z2) for z2 in logits(params, images, kernel)]


def predict_with_confidence(params: Params, images: Sequence[bytes], kernel: str = "auto"
                            ) -> Tuple[List[int], List[float]]:
    """Each image's predicted digit k = argmax_k z2_k and its probability p_k, p = softmax(z2).

    One forward pass gives both: the digits of predict_labels, and how sure
    the network was of each (what the training report ranks mistakes by).
    """
    predicted, p_predicted = [], []
    for z2 in logits(params, images, kernel):
        k = argmax(z2)
        predicted.append(k)
        p_predicted.append(softmax(z2)[k])
    return predicted, p_predicted


__all__ = ["KERNELS", "KERNEL_CHOICES", "ParallelEngine", "SerialEngine", "WorkerFailed",
           "auto_kernel", "engine", "kernel_name", "kernel_named", "logits", "predict_labels",
           "predict_probabilities", "predict_with_confidence", "usable_cores"]
