"""One module per subcommand of ``purenet``: ``add_arguments(parser)`` and ``run(args) -> int``.

Besides the errors of the modules they use (mnist.DataError,
model_io.ModelError, train.TrainingDiverged, ...), a command fails with
one of these two; cli.py turns each into one line and an exit code.
"""


class UsageError(Exception):
    """A flag or argument has a value that makes no sense (exit code 2, as argparse's own)."""


class CommandError(Exception):
    """A command cannot do what was asked, e.g. write its output (exit code 1)."""
