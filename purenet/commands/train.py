"""``purenet train``: train on MNIST, checkpoint every epoch, evaluate on the test set.

The algorithm is train.fit; this file gives it the data and the flags,
saves what it produces in ``--out DIR`` (_run_dir.py), prints, and stops
cleanly on Ctrl-C, SIGTERM or SIGHUP (_signals.py).

The training set is the first 60,000 - VAL images of MNIST's training
file (or the first ``--limit`` of them); the last VAL (default 5,000) are
held out to report validation accuracy after each epoch.  The 10,000
test images are read and checked before training starts (a broken file
should not wait hours to be found) but used only once, at the end.
"""

import argparse
import os
import sys
import time
from typing import Any, Dict, Optional

from .. import metrics, speed
from ..mnist import Dataset, check_image_size, load_mnist
from ..model_io import Model, save_model
from ..predictions import stored_predictions
from ..progress import ProgressLine, epoch_line
from ..train import SCHEDULES, TrainConfig, TrainingDiverged, fit
from . import UsageError
from ._args import (add_data_arguments, add_kernel_argument, fraction, nonnegative_int,
                    positive_float, positive_int)
from ._run_dir import (CHECKPOINT, MODEL, REPORT, RunLock, check_run_files, clear_leftovers,
                       save_checkpoint)
from ._settings import new_run, resumed_run, split
from ._signals import stop_signals_wait


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Run settings default to None, so that a flag given with --resume can be told apart.
    d = TrainConfig()
    flag = parser.add_argument
    flag("--epochs", type=positive_int, help=f"passes over the training set (default {d.epochs})")
    flag("--lr", type=positive_float, help=f"initial learning rate eta_0 (default {d.lr})")
    flag("--momentum", type=fraction, help=f"momentum mu in [0, 1) (default {d.momentum})")
    flag("--batch-size", type=positive_int,
         help=f"examples per mini-batch (default {d.batch_size})")
    flag("--schedule", choices=SCHEDULES, help=f"learning-rate schedule (default {d.schedule})")
    flag("--hidden", type=positive_int, help=f"hidden units n_hidden (default {d.sizes[1]})")
    flag("--seed", type=nonnegative_int,
         help=f"seed of the initial weights and the shuffling (default {d.seed})")
    flag("--limit", type=positive_int,
         help="train on only the first N training images, for a quick look")
    flag("--val-size", type=positive_int,
         help="training images held out (the last ones) for validation (default 5000)")
    flag("--out", help="directory for checkpoint.json and model.json (default ./model)")
    flag("--resume", metavar="DIR",
         help="continue the run saved in DIR (--epochs may extend it; see --help of each flag)")
    flag("--overwrite", action="store_true", help="start a new run even if --out holds one")
    cores = speed.usable_cores()
    flag("--workers", type=positive_int, default=cores,
         help=f"processes that share each mini-batch (default {cores}: every core this process "
              f"may use); any number gives the same weights, bit for bit; 1 trains in this "
              f"process alone")
    add_kernel_argument(parser)
    add_data_arguments(parser)
    flag("--report", action="store_true",
         help="at the end, also write DIR/report.xlsx (needs openpyxl; see purenet report)")


def run(args: argparse.Namespace) -> int:
    if args.report:
        from ..xlsx import require_openpyxl
        require_openpyxl("a report")   # now, not after hours of training
    config, state, n_train, val_size = resumed_run(args) if args.resume else new_run(args)
    out = args.resume or args.out
    check_run_files(out, report=args.report, overwrite=args.overwrite)
    with RunLock(out):
        clear_leftovers(out)
        return train_and_test(args, config, state, out, n_train, val_size)


def train_and_test(args, config: TrainConfig, state, out: str, limit: Optional[int],
                   val_size: int) -> int:
    train_data = load_mnist("train", args.data_dir, verify=args.verify)
    test_data = load_mnist("test", args.data_dir, verify=args.verify)
    check_image_size(train_data, "train", config.sizes[0])
    check_image_size(test_data, "test", config.sizes[0])
    images, labels, val_images, val_labels = split(train_data, limit, val_size)
    if config.batch_size > len(images):
        raise UsageError(f"--batch-size {config.batch_size} is larger than the "
                         f"{len(images):,} training images")
    hyperparameters = {**config.to_dict(), "train_examples": len(images), "val_size": val_size}
    n_in, n_hidden, n_out = config.sizes
    print(f"purenet: training {n_in}-{n_hidden}-{n_out} on {len(images):,} images "
          f"(validation {len(val_images):,}), batch {config.batch_size}, lr {config.lr:g} "
          f"({config.schedule}), momentum {config.momentum:g}, {config.epochs} epochs, "
          f"seed {config.seed}; saving to {out}/", flush=True)
    if state.epoch:
        print(f"purenet: resuming after epoch {state.epoch}", flush=True)
    progress = ProgressLine(config.epochs)
    saved = [state.epoch]   # the epoch of the checkpoint on disk (0: none)

    def on_epoch(state, entry) -> None:
        progress.clear()
        with stop_signals_wait():
            save_checkpoint(out, hyperparameters, state)
            saved[0] = state.epoch
            print(epoch_line(entry, config.epochs), flush=True)

    try:
        fit(config, state, images, labels, val_images, val_labels,
            engine=speed.engine(args.workers, args.kernel), on_batch=progress.update,
            on_epoch=on_epoch)
    except KeyboardInterrupt as e:
        progress.clear()
        kept = (f"the checkpoint of epoch {saved[0]} is kept in {out}/{CHECKPOINT}; "
                f"continue with: purenet train --resume {out}") if saved[0] else \
            "no epoch had finished, so this run saved no checkpoint"
        print(f"purenet: interrupted during epoch {saved[0] + 1}; {kept}", file=sys.stderr)
        return getattr(e, "exit_code", 130)
    except TrainingDiverged as e:
        progress.clear()
        kept = (f"; the checkpoint of epoch {saved[0]} in {out}/{CHECKPOINT} is kept"
                if saved[0] else "; nothing was saved")
        raise TrainingDiverged(str(e) + kept) from None
    model = test_model(state, hyperparameters, test_data, args.kernel)
    save_model(os.path.join(out, MODEL), model)
    print(f"\npurenet: test accuracy {model.hyperparameters['test']['accuracy']:.4f}; "
          f"model saved to {out}/{MODEL}")
    if args.report:
        from .report import write_report
        write_report(model, test_data, os.path.join(out, REPORT), MODEL, kernel=args.kernel)
    return 0


def test_model(state, hyperparameters: Dict[str, Any], test_data: Dataset,
               kernel: str = "auto") -> Model:
    """The trained model with its test-set results, printed as they are found.

    One pass over the test set gives the metrics printed now and the
    answers a report needs later (stored in the model, see model_io.py).
    """
    params = state.params
    started = time.perf_counter()
    predicted, p_predicted = speed.predict_with_confidence(params, test_data.images, kernel)
    report = metrics.classification_report(test_data.labels, predicted, params.sizes[2])
    test = {"accuracy": report.accuracy, "macro_f1": report.macro.f1,
            "seconds": time.perf_counter() - started}
    print(f"\nTest set ({len(test_data):,} images):")
    print(metrics.format_report(report))
    return Model(params=params,
                 hyperparameters={**hyperparameters, "test": test,
                                  "train_seconds": sum(e["seconds"] for e in state.history),
                                  "python": sys.version.split()[0],
                                  "kernel": speed.kernel_name(kernel)},
                 history=state.history,
                 test_predictions=stored_predictions(params, test_data.images, test_data.labels,
                                                     predicted, p_predicted))
