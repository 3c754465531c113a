"""Fixtures shared by several test files."""

import gzip
import os
import signal
import struct
from pathlib import Path

import pytest

import purenet.xlsx  # noqa: F401  (first: it makes openpyxl use its standard-library XML writer)
from purenet import jacobian_cost
from purenet.mnist import BUNDLED_DIR, FILES

# Several tests press Ctrl-C (SIGINT) on a run.  A shell starts background
# jobs with SIGINT ignored, and an ignored signal stays ignored in every
# child; Python's own handler here is reset to the default in each child
# it starts, so the tests behave the same however pytest was launched.
signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """The first 400 training and 100 test images of the bundled MNIST, as gzip IDX files."""
    directory = tmp_path_factory.mktemp("data")
    for split, count in (("train", 400), ("test", 100)):
        for name, header, size in zip(FILES[split], (16, 8), (784, 1)):
            with gzip.open(os.path.join(BUNDLED_DIR, name), "rb") as f:
                raw = f.read(header + count * size)
            raw = raw[:4] + struct.pack(">I", count) + raw[8:]
            (directory / name).write_bytes(gzip.compress(raw, mtime=0))
    return directory


@pytest.fixture
def peak_bytes():
    """jacobian_cost.peak_bytes(call): bytes allocated at the peak of call(), above those before.

    It needs tracemalloc, which CPython has and PyPy lacks; a test that
    asks for it is skipped, saying so, where there is none.
    """
    if not jacobian_cost.memory_measurable():
        pytest.skip("measures memory with tracemalloc, which CPython has and PyPy lacks")
    return jacobian_cost.peak_bytes
