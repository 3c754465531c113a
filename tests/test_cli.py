"""The ``purenet`` command line: help, exit codes, one-line errors.

Exit codes: 0 success, 1 a failure purenet reports (PurenetError), 2 a
bad command line (argparse's own code, and UsageError), 130 Ctrl-C.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from purenet import cli
from purenet.commands import gradcheck as gradcheck_command
from purenet.commands import UsageError
from purenet.mnist import DataError

REPO = Path(__file__).resolve().parents[1]


def purenet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purenet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_top_level_help_exits_0_and_lists_gradcheck():
    done = purenet("--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: purenet")
    assert "gradcheck" in done.stdout


def test_gradcheck_help_exits_0_and_lists_its_flags():
    done = purenet("gradcheck", "--help")
    assert done.returncode == 0
    for flag in ("--sizes", "--batch", "--seed", "--tolerance", "--max-entries"):
        assert flag in done.stdout


def test_no_command_exits_2_with_one_error_line():
    done = purenet()
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "purenet: error: the following arguments are required: COMMAND (see: purenet --help)"]


def test_an_unknown_command_exits_2():
    done = purenet("no-such-command")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback_instead_of_one_line():
    done = purenet("--debug", "gradcheck", "--sizes", "784,512,10")
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert "BudgetError" in done.stderr


# --- main() turns the project's exceptions into exit codes ------------------------------

def _failing_run(exception):
    def run(args):
        raise exception
    return run


@pytest.mark.parametrize("exception, code, message", [
    (UsageError("--lr must be positive"), 2, "purenet: error: --lr must be positive\n"),
    (DataError("train-images is truncated"), 1, "purenet: error: train-images is truncated\n"),
    (KeyboardInterrupt(), 130, "purenet: interrupted\n"),
])
def test_main_maps_exceptions_to_exit_codes(monkeypatch, capsys, exception, code, message):
    monkeypatch.setattr(gradcheck_command, "run", _failing_run(exception))
    assert cli.main(["gradcheck"]) == code
    assert capsys.readouterr().err == message


def test_main_returns_the_commands_exit_code(capsys):
    assert cli.main(["gradcheck", "--sizes", "3,2,2", "--batch", "1"]) == 0
    assert "PASS" in capsys.readouterr().out
