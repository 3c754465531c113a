"""Time to save and load a full-size model file (the figures quoted in the report).

    python3 benchmarks/bench_model_io.py

A 784-512-10 network with a training_state holding momentum velocities of
the same shapes, as a resumable checkpoint has: about 814,000 floats.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from purenet.model_io import Model, load_model, save_model  # noqa: E402
from purenet.network import he_init  # noqa: E402

SIZES = (784, 512, 10)


def checkpoint() -> Model:
    params = he_init(SIZES, seed=0)
    velocity = he_init(SIZES, seed=1)
    return Model(params=params,
                 hyperparameters={"lr": 0.1, "batch_size": 32, "momentum": 0.9},
                 history=[{"epoch": e, "train_loss": 0.1 / e} for e in range(1, 21)],
                 training_state={"epoch": 20, "velocity": vars(velocity)})


def main() -> None:
    model = checkpoint()
    n_floats = 2 * sum(len(row) for row in model.params.W1 + model.params.W2) \
        + 2 * (len(model.params.b1) + len(model.params.b2))
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.json")
        for run in (1, 2):
            start = time.perf_counter()
            save_model(path, model)
            saved = time.perf_counter()
            load_model(path, expect_sizes=SIZES)
            loaded = time.perf_counter()
            print(f"run {run}: {n_floats} floats, file {os.path.getsize(path) / 1e6:.1f} MB, "
                  f"save {saved - start:.2f} s, load {loaded - saved:.2f} s")


if __name__ == "__main__":
    main()
