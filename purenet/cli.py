"""The ``purenet`` command: argparse front end over the subcommands.

Each subcommand lives in its own module under ``purenet/commands/`` and
offers two functions: ``add_arguments(parser)`` and ``run(args) -> int``
(the exit code).  This file only wires them together and turns every
failure a user can cause into one line on stderr,

    purenet: error: <what went wrong>

with the exit code of ``EXIT_CODES``: 2 for a bad flag (as argparse does),
1 for a bad file or a failed run; 128 + the signal's number for Ctrl-C
(130), SIGTERM (143) and SIGHUP (129); 1 when standard output cannot be
written (a full disk, a closed pipe).  A bad flag is one line too:
``purenet train: error: argument --lr: ...``.  Any other exception is a
bug in purenet and shows its traceback; ``--debug`` shows the traceback
of the expected ones too.
"""

import argparse
import errno
import importlib
import importlib.util
import os
import sys
from typing import List, Optional

from .commands import CommandError, UsageError
from .commands._signals import Interrupted, stop_signals_interrupt
from .image import ImageError
from .jacobian import BudgetError
from .mnist import DataError
from .model_io import ModelError
from .speed import WorkerFailed
from .train import TrainingDiverged
from .xlsx import WorkbookError

# Every failure a user can cause, and the exit code it ends with.
EXIT_CODES = {UsageError: 2, CommandError: 1, DataError: 1, ModelError: 1, TrainingDiverged: 1,
              BudgetError: 1, WorkerFailed: 1, WorkbookError: 1, ImageError: 1}
EXPECTED = tuple(EXIT_CODES)

# What writing to standard output fails with when nobody can read it (a closed
# pipe) or there is no room for it (a full disk or quota).
STDOUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EFBIG,
                 getattr(errno, "EDQUOT", errno.ENOSPC)}

# (name, module under purenet.commands, one-line help).  Modules are
# imported only when their command runs, so a missing optional package
# (openpyxl) never stops the other commands.
COMMANDS = [
    ("train", "train", "train a network on MNIST"),
    ("evaluate", "evaluate", "accuracy, per-class metrics and confusion matrix of a model"),
    ("show", "show", "draw one MNIST digit as text, with a model's prediction"),
    ("predict", "predict", "classify your own pictures of digits (PNG, PGM) with a trained model"),
    ("gradcheck", "gradcheck", "long form vs short form vs finite differences"),
    ("jacobian-cost", "jacobian_cost", "measure the long form's time and memory"),
    ("export-xlsx", "export_xlsx", "write the backprop trace workbooks (with --model: draw_a_digit.xlsx)"),
    ("report", "report", "write a training report workbook for a model"),
]


class OneLineParser(argparse.ArgumentParser):
    """argparse, except that a bad flag is reported on one line.

    argparse prints its whole usage synopsis before the error; a learner
    needs the error, and the synopsis is one --help away.
    """

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def _available_commands():
    for name, module, help_text in COMMANDS:
        if importlib.util.find_spec(f"purenet.commands.{module}") is not None:
            yield name, module, help_text


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="purenet",
        description="A neural network that learns MNIST, in pure Python.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module, help_text in _available_commands():
        command = importlib.import_module(f"purenet.commands.{module}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = None     # until the flags are read: --debug is one of them
    try:
        with stop_signals_interrupt():
            # inside: a Ctrl-C while the commands are imported ends the same way
            args = build_parser().parse_args(argv)
            code = args.run(args)
            sys.stdout.flush()      # a full disk shows here, while it can still be reported
        return code
    except EXPECTED as e:
        if args is not None and args.debug:
            raise
        print(f"purenet: error: {e}", file=sys.stderr)
        return _code_of(e)
    except KeyboardInterrupt as e:
        if args is not None and args.debug:
            raise
        print("purenet: interrupted", file=sys.stderr)
        return e.exit_code if isinstance(e, Interrupted) else 130
    except OSError as e:
        if e.errno not in STDOUT_ERRNOS or e.filename is not None:
            raise
        _silence_stdout()
        print(f"purenet: error: cannot write the output: {e.strerror}", file=sys.stderr)
        return 1


def _code_of(error: Exception) -> int:
    """The exit code of the first class in EXIT_CODES that error is an instance of."""
    return next(code for kind, code in EXIT_CODES.items() if isinstance(error, kind))


def _silence_stdout() -> None:
    """Point standard output at os.devnull, so that Python's last flush at exit cannot fail too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
