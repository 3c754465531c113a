"""``purenet train``: train on MNIST, checkpoint every epoch, evaluate on the test set.

Files written in ``--out DIR``:

    checkpoint.json   after every epoch: the weights plus everything needed
                      to resume (momentum velocities, shuffling RNG, epoch);
                      ``--resume DIR`` continues from it and ends with
                      exactly the weights an uninterrupted run would have
    model.json        at the end: the trained weights, hyper-parameters,
                      per-epoch history and test-set results, and the
                      digit predicted for each test image with its
                      probability (``test_predictions``, model_io.py),
                      which ``purenet report`` reuses instead of
                      classifying the 10,000 images again
    report.xlsx       with --report, at the end: the training report
                      workbook of ``purenet report`` (needs openpyxl)

Both record, beside the hyper-parameters, ``train_examples`` and
``val_size``: which images the run trained and validated on, so that a
resumed run uses the same ones.

The training set is the first 60,000 - VAL images of MNIST's training file
(or the first ``--limit`` of them); the last VAL (default 5,000) are held
out to report validation accuracy after each epoch.  The 10,000 test
images are read and checked before training starts (a broken file should
not wait hours to be found) but used only once, at the end.
"""

import argparse
import contextlib
import math
import os
import random
import signal
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

from .. import metrics
from ..errors import DataError, ModelError, TrainingDiverged, UsageError
from ..fast import FastNet, predict_with_confidence
from ..mnist import FILES, Dataset, load_mnist
from ..model_io import Model, is_whole, load_model, save_model, stored_predictions
from ..parallel import make_engine
from ..progress import ProgressLine, format_duration
from ..train import (SCHEDULES, TrainConfig, TrainState, accuracy, new_state,
                     train_epoch_)
from ._args import add_data_arguments, fraction, nonnegative_int, positive_float, positive_int
from ..xlsx import require_openpyxl
from .report import write_report

CHECKPOINT = "checkpoint.json"
MODEL = "model.json"
REPORT = "report.xlsx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    parser.add_argument("--epochs", type=positive_int, default=d.epochs,
                        help=f"passes over the training set (default {d.epochs})")
    parser.add_argument("--lr", type=positive_float, default=d.lr,
                        help=f"initial learning rate eta_0 (default {d.lr})")
    parser.add_argument("--momentum", type=fraction, default=d.momentum,
                        help=f"momentum mu in [0, 1) (default {d.momentum})")
    parser.add_argument("--batch-size", type=positive_int, default=d.batch_size,
                        help=f"examples per mini-batch (default {d.batch_size})")
    parser.add_argument("--schedule", choices=SCHEDULES, default=d.schedule,
                        help=f"learning-rate schedule (default {d.schedule})")
    parser.add_argument("--hidden", type=positive_int, default=d.sizes[1],
                        help=f"hidden units n_hidden (default {d.sizes[1]})")
    parser.add_argument("--seed", type=nonnegative_int, default=d.seed,
                        help=f"seed of the initial weights and the shuffling (default {d.seed})")
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="train on only the first N training images, for a quick look")
    parser.add_argument("--val-size", type=positive_int, default=5000,
                        help="training images held out (the last ones) for validation (default 5000)")
    parser.add_argument("--out", default="model",
                        help="directory for checkpoint.json and model.json (default ./model)")
    parser.add_argument("--resume", metavar="DIR", default=None,
                        help="continue the run saved in DIR with its own settings")
    parser.add_argument("--overwrite", action="store_true",
                        help="start a new run even if --out already holds one")
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="processes that share each mini-batch, e.g. one per core "
                             "(default 1); any number gives the same weights, bit for bit")
    add_data_arguments(parser)
    parser.add_argument("--report", action="store_true",
                        help="at the end, also write DIR/report.xlsx: charts, confusion heatmap, "
                             "mistakes (needs openpyxl; see purenet report)")


# --- saving and restoring state ---------------------------------------------

def params_dict(net: FastNet) -> Dict[str, Any]:
    p = net.to_params()
    return {"W1": p.W1, "b1": p.b1, "W2": p.W2, "b2": p.b2}


def training_state_dict(state: TrainState) -> Dict[str, Any]:
    version, internal, gauss_next = state.rng_state
    return {"epoch": state.epoch, "step": state.step,
            "rng_state": [version, list(internal), gauss_next],
            "velocity": params_dict(state.velocity)}


def is_finite_number(a: Any) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a)


def restore_state(model: Model, path: str) -> TrainState:
    from ..network import Params
    t = model.training_state
    if not t:
        raise ModelError(f"{path}: holds no training state, so it cannot be resumed")
    try:
        v = t["velocity"]
        velocity = FastNet.from_params(Params(W1=v["W1"], b1=v["b1"], W2=v["W2"], b2=v["b2"]))
        velocity.to_params().check_shapes()
        if velocity.to_params().sizes != model.params.sizes:
            raise ValueError("velocity shapes differ from the weights")
        rows = velocity.W1T + velocity.W2 + [velocity.b1, velocity.b2]
        if not all(is_finite_number(a) for row in rows for a in row):
            # a NaN here would surface later as "the loss became nan ... try a smaller --lr"
            raise ValueError("velocity holds a value that is not a finite number")
        epoch, step = t["epoch"], t["step"]
        if not (is_whole(epoch) and is_whole(step)):
            raise ValueError(f"epoch {epoch!r} and step {step!r} must be whole numbers, 0 or more")
        if len(model.history) != epoch:
            raise ValueError(f"it is at epoch {epoch} but its history has "
                             f"{len(model.history)} epochs")
        if not all(is_finite_number(entry.get("seconds")) for entry in model.history):
            raise ValueError("a history entry has no \"seconds\"")
        version, internal, gauss_next = t["rng_state"]
        rng_state = (version, tuple(internal), gauss_next)
        random.Random().setstate(rng_state)  # a damaged state fails here, not mid-run
        return TrainState(net=FastNet.from_params(model.params), velocity=velocity,
                          rng_state=rng_state, epoch=epoch, step=step,
                          history=list(model.history))
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{path}: training_state is damaged ({e})") from None


@contextlib.contextmanager
def ctrl_c_waits():
    """Hold a Ctrl-C (SIGINT) back until the block ends, then deliver it.

    Around saving a checkpoint: the file itself is replaced atomically, but
    the run must also record which epoch is now on disk and print the
    epoch's line, and a KeyboardInterrupt in between would name the wrong
    checkpoint or leave a saved epoch unreported.
    """
    pressed = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    except ValueError:  # not the main thread, which is the only one that gets signals
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
            if pressed:
                signal.raise_signal(signal.SIGINT)  # to the previous handler, as if just pressed


def save_checkpoint(out: str, hyperparameters: Dict[str, Any], state: TrainState) -> None:
    model = Model(params=state.net.to_params(), hyperparameters=hyperparameters,
                  history=state.history, training_state=training_state_dict(state))
    save_model(os.path.join(out, CHECKPOINT), model)


# --- setting up -----------------------------------------------------------------

def prepare_out_dir(out: str, overwrite: bool) -> None:
    if not out:
        raise UsageError("--out is empty: give the directory to save the run in")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out}: is a file, not a directory")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot create the directory: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out {out}: directory is not writable")
    taken = [name for name in (CHECKPOINT, MODEL) if os.path.exists(os.path.join(out, name))]
    if taken and not overwrite:
        raise UsageError(f"--out {out}: already holds {' and '.join(taken)}; continue it with "
                         f"--resume {out}, pick another --out, or pass --overwrite")


def check_pixels(data: Dataset, split: str, n_in: int) -> None:
    """The network has one input x_j per pixel, so each image must have n_in pixels."""
    if data.rows * data.cols != n_in:
        # more pixels would index past W1's columns; fewer would train on a wrong picture
        raise DataError(f"{FILES[split][0]}: images of {data.rows}x{data.cols} = "
                        f"{data.rows * data.cols} pixels, but the network takes {n_in}")


def split_train_val(data: Dataset, limit: Optional[int], val_size: int
                    ) -> Tuple[List[bytes], List[int], List[bytes], List[int]]:
    """First images for training (at most `limit`), the last `val_size` for validation."""
    n = len(data)
    if val_size >= n:
        raise UsageError(f"--val-size {val_size} leaves no training images (the set has {n})")
    n_train = n - val_size
    if limit is not None:
        if limit > n_train:
            raise UsageError(f"--limit {limit} is more than the {n_train:,} training images "
                             f"left after holding out {val_size:,} for validation")
        n_train = limit
    return (data.images[:n_train], data.labels[:n_train],
            data.images[n - val_size:], data.labels[n - val_size:])


# Each hidden unit holds 785 weights and 785 velocities, about 32 bytes each
# as Python floats in lists: 16,384 units are already some 800 MB.  A typo
# such as --hidden 5120000 should be a message, not a machine out of memory.
MAX_HIDDEN = 16384


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    if args.hidden > MAX_HIDDEN:
        raise UsageError(f"--hidden {args.hidden}: at most {MAX_HIDDEN:,} hidden units "
                         f"(each costs 1,570 floats of weights and velocities)")
    return TrainConfig(sizes=(784, args.hidden, 10), lr=args.lr, momentum=args.momentum,
                       batch_size=args.batch_size, epochs=args.epochs,
                       schedule=args.schedule, seed=args.seed)


# Flags that set up a new run; a resumed run keeps the settings it was started with.
RUN_SETTINGS = ("epochs", "lr", "momentum", "batch_size", "schedule", "hidden", "seed",
                "limit", "val_size", "out", "overwrite")


def refuse_run_settings(args: argparse.Namespace) -> None:
    """UsageError if a flag of RUN_SETTINGS was changed along with --resume (it would be ignored)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = vars(parser.parse_args([]))
    given = ["--" + name.replace("_", "-") for name in RUN_SETTINGS
             if getattr(args, name) != defaults[name]]
    if given:
        raise UsageError(f"--resume {args.resume} continues that run with its own settings, "
                         f"so {', '.join(given)} cannot be used with it")


# The rule each saved setting must follow: the rule of the flag that set it.
# (train_examples and val_size are missing from older checkpoints.)
SAVED_SETTINGS = {"epochs": positive_int, "lr": positive_float, "momentum": fraction,
                  "batch_size": positive_int, "seed": nonnegative_int}
LATER_SETTINGS = {"train_examples": positive_int, "val_size": nonnegative_int}


def check_saved_settings(path: str, saved: Dict[str, Any]) -> None:
    """ModelError naming a saved setting its flag would have refused (after a hand edit, say)."""
    rules = {**SAVED_SETTINGS, **{k: v for k, v in LATER_SETTINGS.items() if k in saved}}
    for name, rule in rules.items():
        if name not in saved:
            raise ModelError(f"{path}: hyperparameters.{name} is missing")
        value = saved[name]
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise argparse.ArgumentTypeError(f"expected a number, got {value!r}")
            rule(repr(value))
        except argparse.ArgumentTypeError as e:
            raise ModelError(f"{path}: hyperparameters.{name}: {e}") from None
    if saved.get("schedule") not in SCHEDULES:
        raise ModelError(f"{path}: hyperparameters.schedule is {saved.get('schedule')!r}, "
                         f"expected one of {', '.join(SCHEDULES)}")


def resume_run(directory: str) -> Tuple[TrainConfig, TrainState, Dict[str, Any]]:
    """The run saved in directory: its config, its state, and its saved hyper-parameters."""
    path = os.path.join(directory, CHECKPOINT)
    model = load_model(path, expect_sizes=(784, None, 10))
    check_saved_settings(path, model.hyperparameters)
    config = TrainConfig.from_dict({**model.hyperparameters, "sizes": model.params.sizes})
    return config, restore_state(model, path), model.hyperparameters


# --- the run --------------------------------------------------------------------

def epoch_line(entry: Dict[str, Any], epochs: int) -> str:
    return (f"epoch {entry['epoch']:>2}/{epochs}  lr {entry['lr']:.4f}  "
            f"train loss {entry['train_loss']:.4f}  train acc {entry['train_accuracy']:.4f}  "
            f"val acc {entry['val_accuracy']:.4f}  {format_duration(entry['seconds'])}")


def run(args: argparse.Namespace) -> int:
    if args.report:
        require_openpyxl("a report")   # now, not after hours of training
    if args.resume:
        refuse_run_settings(args)
        config, state, settings = resume_run(args.resume)
        out = args.resume
        # The same split as before (checkpoints older than these two keys
        # hold the training count in their history and used the default split).
        limit = settings.get("train_examples",
                             state.history[-1].get("train_examples") if state.history else None)
        val_size = settings.get("val_size", args.val_size)
    else:
        config = config_from_args(args)
        out = args.out
        prepare_out_dir(out, args.overwrite)
        state = new_state(config)
        limit, val_size = args.limit, args.val_size
    train_data = load_mnist("train", args.data_dir, verify=args.verify)
    test_data = load_mnist("test", args.data_dir, verify=args.verify)
    check_pixels(train_data, "train", config.sizes[0])
    check_pixels(test_data, "test", config.sizes[0])
    images, labels, val_images, val_labels = split_train_val(train_data, limit, val_size)
    hyperparameters = {**config.to_dict(), "train_examples": len(images),
                       "val_size": len(val_images)}
    if config.batch_size > len(images):
        raise UsageError(f"--batch-size {config.batch_size} is larger than the "
                         f"{len(images):,} training images")
    n_in, n_hidden, n_out = config.sizes
    print(f"purenet: training {n_in}-{n_hidden}-{n_out} on {len(images):,} images "
          f"(validation {len(val_images):,}), batch {config.batch_size}, lr {config.lr:g} "
          f"({config.schedule}), momentum {config.momentum:g}, {config.epochs} epochs, "
          f"seed {config.seed}; saving to {out}/", flush=True)
    if state.epoch:
        print(f"purenet: resuming after epoch {state.epoch}", flush=True)

    progress = ProgressLine(config.epochs)
    saved = state.epoch  # the epoch of the checkpoint on disk (0: none)
    engine = make_engine(args.workers)
    try:
        while state.epoch < config.epochs:
            entry = train_epoch_(state, config, images, labels, engine=engine,
                                 on_batch=progress.update)
            progress.clear()
            entry["val_accuracy"] = accuracy(state.net.to_params(), val_images, val_labels)
            entry["train_examples"] = len(images)
            state.history.append(entry)
            with ctrl_c_waits():
                save_checkpoint(out, hyperparameters, state)
                saved = state.epoch
                print(epoch_line(entry, config.epochs), flush=True)
    except KeyboardInterrupt:
        progress.clear()
        kept = (f"the checkpoint of epoch {saved} is kept in {out}/{CHECKPOINT}; "
                f"continue with: purenet train --resume {out}") if saved else \
            "no epoch had finished, so this run saved no checkpoint"
        print(f"purenet: interrupted during epoch {saved + 1}; {kept}", file=sys.stderr)
        return 130
    except TrainingDiverged as e:
        progress.clear()
        kept = (f"; the checkpoint of epoch {saved} in {out}/{CHECKPOINT} is kept"
                if saved else "; nothing was saved")
        raise TrainingDiverged(str(e) + kept) from None
    finally:
        engine.close()  # stops the worker processes, however the loop ended

    # One pass over the test set gives the metrics printed now and the
    # answers a report needs later (stored in the model, see model_io.py).
    params = state.net.to_params()
    started = time.perf_counter()
    predicted, p_predicted = predict_with_confidence(params, test_data.images)
    report = metrics.classification_report(test_data.labels, predicted, n_out)
    test = {"accuracy": report.accuracy, "macro_f1": report.macro.f1,
            "seconds": time.perf_counter() - started}
    model = Model(params=params,
                  hyperparameters={**hyperparameters, "test": test,
                                   "train_seconds": sum(e["seconds"] for e in state.history),
                                   "python": sys.version.split()[0]},
                  history=state.history,
                  test_predictions=stored_predictions(params, test_data.images,
                                                      test_data.labels, predicted, p_predicted))
    save_model(os.path.join(out, MODEL), model)
    print(f"\nTest set ({len(test_data):,} images):")
    print(metrics.format_report(report))
    print(f"\npurenet: test accuracy {report.accuracy:.4f}; model saved to {out}/{MODEL}")
    if args.report:
        write_report(model, test_data, os.path.join(out, REPORT), MODEL)
    return 0
