"""A run of ``purenet train`` from its flags: its settings (a new run, or one resumed), its images.

A new run takes each setting from its flag, or its default (``new_run``).
A resumed run continues with the settings it was started with.  Whether
a flag was *given* decides what happens to it (argparse leaves a run
setting None when it is not), never a comparison with its default:

    --epochs N                 applied: the run goes on until epoch N (N must be more
                               than the epochs it has finished); the learning-rate
                               schedule is then that of an N-epoch run
    --workers, --data-dir,     applied: they change how fast the run goes, or where it
    --no-verify, --report      reads the data from, not what it computes
    --kernel                   applied: the kernels compute the same numbers to rounding
                               (a run resumed with another kernel than it started with
                               differs from an uninterrupted one in the last bits)
    --lr, --momentum,          accepted when equal to the checkpoint's value, refused
    --batch-size, --schedule,  otherwise, naming the flag and the checkpoint's value
    --hidden, --seed,
    --limit, --val-size
    --out, --overwrite         refused: a resumed run is saved where it was
"""

import argparse
from typing import Any, Callable, Dict, Optional, Tuple

from ..mnist import Dataset, train_val_split
from ..train import TrainConfig, TrainState, new_state
from . import UsageError
from ._run_dir import load_checkpoint, prepare_out_dir

VAL_SIZE = 5000
OUT = "model"

# Each hidden unit holds 785 weights and 785 velocities, about 32 bytes each
# as Python floats in lists: 16,384 units are already some 800 MB.  A typo
# such as --hidden 5120000 should be a message, not a machine out of memory.
MAX_HIDDEN = 16384

# flag (as argparse names it) -> the checkpoint's value of it, from its config and hyperparameters
KEPT: Dict[str, Callable[[TrainConfig, Dict[str, Any]], Any]] = {
    "lr": lambda c, saved: c.lr,
    "momentum": lambda c, saved: c.momentum,
    "batch_size": lambda c, saved: c.batch_size,
    "schedule": lambda c, saved: c.schedule,
    "hidden": lambda c, saved: c.sizes[1],
    "seed": lambda c, saved: c.seed,
    "limit": lambda c, saved: saved.get("train_examples"),
    "val_size": lambda c, saved: saved.get("val_size", VAL_SIZE),
}


def flag_name(dest: str) -> str:
    return "--" + dest.replace("_", "-")


Run = Tuple[TrainConfig, TrainState, Optional[int], int]   # config, state, images to train on, to validate on


def new_run(args: argparse.Namespace) -> Run:
    """A new run's config and state, in --out made ready for it."""
    fill_in_defaults(args)
    config = TrainConfig(sizes=(784, args.hidden, 10), lr=args.lr, momentum=args.momentum,
                         batch_size=args.batch_size, epochs=args.epochs,
                         schedule=args.schedule, seed=args.seed)
    prepare_out_dir(args.out, args.overwrite)
    return config, new_state(config), args.limit, args.val_size


def fill_in_defaults(args: argparse.Namespace) -> None:
    """For a new run: every run setting not given takes its default; --hidden is bounded."""
    d = TrainConfig()
    defaults = {"epochs": d.epochs, "lr": d.lr, "momentum": d.momentum,
                "batch_size": d.batch_size, "schedule": d.schedule, "hidden": d.sizes[1],
                "seed": d.seed, "val_size": VAL_SIZE, "out": OUT}
    for dest, value in defaults.items():
        if getattr(args, dest) is None:
            setattr(args, dest, value)
    if args.hidden > MAX_HIDDEN:
        raise UsageError(f"--hidden {args.hidden}: at most {MAX_HIDDEN:,} hidden units "
                         f"(each costs 1,570 floats of weights and velocities)")


def resumed_run(args: argparse.Namespace) -> Run:
    """The resumed run's config and state, with the flags given applied or refused."""
    directory = args.resume
    if args.out is not None or args.overwrite:
        given = "--out" if args.out is not None else "--overwrite"
        raise UsageError(f"{given} cannot be used with --resume {directory}: "
                         f"a resumed run is saved where it was")
    config, state, saved = load_checkpoint(directory)
    for dest, kept in KEPT.items():
        value, theirs = getattr(args, dest), kept(config, saved)
        if value is not None and value != theirs:
            raise UsageError(f"{flag_name(dest)} {value}: the run in {directory} was started "
                             f"with {theirs if theirs is not None else 'no limit'}, and a "
                             f"resumed run keeps its settings (start a new run to change it)")
    if args.epochs is not None:
        if args.epochs <= state.epoch:
            raise UsageError(f"--epochs {args.epochs}: the run in {directory} has already "
                             f"finished {state.epoch} epochs; give more to extend it")
        config.epochs = args.epochs
    # The same split as before (checkpoints older than these two keys hold the
    # training count in their history, and used the default split).
    n_train = saved.get("train_examples",
                        state.history[-1].get("train_examples") if state.history else None)
    return config, state, n_train, saved.get("val_size", VAL_SIZE)


def split(data: Dataset, limit: Optional[int], val_size: int):
    """First images for training (at most `limit`), the last `val_size` for validation."""
    n = len(data)
    if val_size >= n:
        raise UsageError(f"--val-size {val_size} leaves no training images (the set has {n})")
    if limit is not None and limit > n - val_size:
        raise UsageError(f"--limit {limit} is more than the {n - val_size:,} training images "
                         f"left after holding out {val_size:,} for validation")
    return train_val_split(data, n - val_size if limit is None else limit, val_size)
