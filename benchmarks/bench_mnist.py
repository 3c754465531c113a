"""Time and memory of loading MNIST (the figures quoted in purenet/mnist.py).

    python3 benchmarks/bench_mnist.py

Loads both splits with their checksums, once timed and once under
tracemalloc (which slows Python down, so the two are measured separately),
then prints what the same 60,000 training images would cost as lists of
floats, from sys.getsizeof rather than from a guess.  Those two are
CPython's: on PyPy, which has neither tracemalloc nor sys.getsizeof, only
the times are measured, and it says so.
"""

import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from purenet.mnist import load_mnist  # noqa: E402
from purenet.network import to_vector  # noqa: E402

MB = 1e6


def load_both():
    return load_mnist("train"), load_mnist("test")


def main() -> None:
    start = time.perf_counter()
    train, test = load_both()
    seconds = time.perf_counter() - start
    print(f"load train + test ({len(train) + len(test)} images, checksums on): {seconds:.2f} s")
    del train, test
    if platform.python_implementation() != "CPython":
        print(f"memory: not measured on {platform.python_implementation()} "
              f"(no tracemalloc, no sys.getsizeof)")
        train, test = load_both()
        time_to_vector(train)
        return

    import tracemalloc    # CPython's; imported here so that PyPy can run the rest
    tracemalloc.start()
    train, test = load_both()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"tracemalloc peak while loading: {peak / MB:.0f} MB")

    n = len(train)
    pixels = train.rows * train.cols
    one_bytes = sys.getsizeof(train.images[0])
    print(f"as bytes:  {n} x {one_bytes} B = {n * one_bytes / MB:.0f} MB")

    x = to_vector(train.images[0])
    list_size = sys.getsizeof(x)
    float_size = sys.getsizeof(0.5)
    fresh = list_size + pixels * float_size
    print(f"as floats: list {list_size} B + {pixels} floats x {float_size} B = {fresh} B per image; "
          f"{n} images = {n * fresh / MB:.0f} MB")
    print(f"           sharing the 256 float values: {n} x {list_size} B = {n * list_size / MB:.0f} MB")
    time_to_vector(train)


def time_to_vector(train) -> None:
    start = time.perf_counter()
    for image in train.images[:1000]:
        to_vector(image)
    per_image = (time.perf_counter() - start) / 1000
    print(f"to_vector: {per_image * 1e6:.1f} us per image")


if __name__ == "__main__":
    main()
