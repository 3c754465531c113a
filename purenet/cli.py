"""The ``purenet`` command: argparse front end over the subcommands.

Each subcommand lives in its own module under ``purenet/commands/`` and
offers two functions: ``add_arguments(parser)`` and ``run(args) -> int``
(the exit code).  This file only wires them together and turns the
project's exceptions into one line on stderr:

    purenet: error: <what went wrong>

with exit code 1 (2 for a bad flag, as argparse does, and 130 for Ctrl-C).
A bad flag is one line too: ``purenet train: error: argument --lr: ...``.
``--debug`` shows the full traceback instead.
"""

import argparse
import importlib
import importlib.util
import sys
from typing import List, Optional

from .errors import PurenetError, UsageError

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
    ("export-xlsx", "export_xlsx", "write the backprop trace workbooks"),
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as e:
        if args.debug:
            raise
        print(f"purenet: error: {e}", file=sys.stderr)
        return 2
    except PurenetError as e:
        if args.debug:
            raise
        print(f"purenet: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("purenet: interrupted", file=sys.stderr)
        return 130
