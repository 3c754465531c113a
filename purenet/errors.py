"""The few kinds of failure purenet reports to a person.

Library code raises one of these; the command line (cli.py) catches
``PurenetError`` once and prints ``purenet: error: <message>`` on one line.
A caller using purenet as a library gets the exception itself.
"""


class PurenetError(Exception):
    """Base class: anything a user can cause and should be told about in one line."""


class DataError(PurenetError):
    """A data file is missing, truncated, corrupt or inconsistent."""


class ModelError(PurenetError):
    """A model or checkpoint file cannot be used (wrong format, shape, values)."""


class UsageError(PurenetError):
    """A flag or argument has a value that makes no sense."""


class TrainingDiverged(PurenetError):
    """The loss became NaN or infinite during training."""


class BudgetError(PurenetError):
    """A computation would need more memory than the budget allows."""
