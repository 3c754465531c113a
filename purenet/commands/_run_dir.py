"""The directory of a training run (``purenet train --out DIR``): its files, and who may write them.

    checkpoint.json   after every epoch: the weights, hyper-parameters and
                      history, plus the training state (train.TrainState:
                      momentum velocities, shuffling RNG, epoch), so that
                      ``--resume DIR`` ends with exactly the weights an
                      uninterrupted run would have
    model.json        at the end: the trained weights, hyper-parameters,
                      per-epoch history and test-set results, and the
                      digit predicted for each test image with its
                      probability (``test_predictions``, model_io.py),
                      which ``purenet report`` reuses
    report.xlsx       with --report, at the end: the training report
    .lock             while a run writes here: its process id, so that a
                      second run on the same DIR stops at once instead of
                      both overwriting each other's checkpoints

Both JSON files record, beside the hyper-parameters, ``train_examples``
and ``val_size``: which images the run trained and validated on, so that
a resumed run uses the same ones.
"""

import os
import socket
from typing import Any, Dict, Optional, Tuple

from ..atomic import remove_leftovers
from ..files import not_a_regular_file
from ..model_io import Model, ModelError, load_model, save_model
from ..train import TrainConfig, TrainState
from . import UsageError
from ._files import check_output_file

CHECKPOINT = "checkpoint.json"
MODEL = "model.json"
REPORT = "report.xlsx"
LOCK = ".lock"


def prepare_out_dir(out: str, overwrite: bool) -> None:
    """Make sure out is a writable directory that holds no run (unless overwrite)."""
    if not out:
        raise UsageError("--out is empty: give the directory to save the run in")
    if os.path.exists(out) and not os.path.isdir(out):
        kind = not_a_regular_file(out)
        raise UsageError(f"--out {out}: is {kind or 'a file'}, not a directory")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot create the directory: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out {out}: directory is not writable")
    taken = [name for name in (CHECKPOINT, MODEL) if os.path.lexists(os.path.join(out, name))]
    if taken and not overwrite:
        raise UsageError(f"--out {out}: already holds {' and '.join(taken)}; continue it with "
                         f"--resume {out}, pick another --out, or pass --overwrite")
    check_run_files(out)


def check_run_files(out: str, report: bool = False, overwrite: bool = False) -> None:
    """Before any training: the files the run will write are files it may replace.

    A named pipe or a device where checkpoint.json or model.json goes would
    otherwise be found only when the first epoch is saved; a workbook that
    purenet did not write where the report goes, only at the end.
    """
    for name in (CHECKPOINT, MODEL):
        kind = not_a_regular_file(os.path.join(out, name))
        if kind is not None:
            raise UsageError(f"--out {out}: its {name} is {kind}, not a file; nothing is "
                             f"written in place of it")
    if report:
        check_output_file(os.path.join(out, REPORT), overwrite, flag="--report: the workbook")


def clear_leftovers(out: str) -> None:
    """Remove what killed saves of the run's files left behind (atomic.remove_leftovers)."""
    for name in (CHECKPOINT, MODEL):
        remove_leftovers(os.path.join(out, name))


def save_checkpoint(out: str, hyperparameters: Dict[str, Any], state: TrainState) -> None:
    model = Model(params=state.params, hyperparameters=hyperparameters,
                  history=state.history, training_state=state.to_dict())
    save_model(os.path.join(out, CHECKPOINT), model)


def load_checkpoint(directory: str) -> Tuple[TrainConfig, TrainState, Dict[str, Any]]:
    """The run saved in directory: its config, its state, and its saved hyper-parameters."""
    path = os.path.join(directory, CHECKPOINT)
    model = load_model(path, expect_sizes=(784, None, 10))
    saved = model.hyperparameters
    try:
        config = TrainConfig.from_dict({**saved, "sizes": model.params.sizes})
        for name in ("train_examples", "val_size"):   # missing from older checkpoints
            if name in saved and not _is_count(saved[name]):
                raise ValueError(f"{name} is {saved[name]!r}, expected a whole number, at least 1")
    except (TypeError, ValueError) as e:
        raise ModelError(f"{path}: hyperparameters.{e}") from None
    if not model.training_state:
        raise ModelError(f"{path}: holds no training state, so it cannot be resumed")
    try:
        state = TrainState.from_dict(model.training_state, model.params, model.history)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{path}: training_state is damaged ({e})") from None
    return config, state, saved


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# --- one run at a time ---------------------------------------------------------------

class RunLock:
    """DIR/.lock while a run writes DIR: created atomically (O_EXCL), removed at the end.

    A lock left by a run that was killed (kill -9, a power cut) is stale:
    the process it names is gone, so the next run takes it over.
    """

    def __init__(self, directory: str):
        self.path = os.path.join(directory, LOCK)
        self.held = False

    def __enter__(self) -> "RunLock":
        owner = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(2):          # a second try after removing a stale lock
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._live_holder()
                if holder is not None:
                    raise UsageError(f"--out {os.path.dirname(self.path)}: another purenet train "
                                     f"(process {holder}) is writing there; wait for it or pick "
                                     f"another --out") from None
                _remove(self.path)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(owner)
            self.held = True
            return self
        raise UsageError(f"--out {os.path.dirname(self.path)}: cannot take {LOCK}")

    def __exit__(self, *exc_info) -> None:
        if self.held:
            _remove(self.path)
            self.held = False

    def _live_holder(self) -> Optional[int]:
        """The process id in the lock, if that process is alive on this machine; else None."""
        try:
            with open(self.path) as f:
                pid_text, host = (f.read().split() + ["", ""])[:2]
            pid = int(pid_text)
        except (OSError, ValueError):
            return None             # unreadable or half written: its writer died
        if pid == os.getpid():
            return None             # left by an earlier process that had our number
        if host != socket.gethostname():
            return pid              # another machine's (a shared disk): it cannot be checked
        try:
            os.kill(pid, 0)         # signal 0: only asks whether the process exists
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid              # it exists, run by someone else
        return pid


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
