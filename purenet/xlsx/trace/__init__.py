"""The backprop trace workbooks of ``purenet export-xlsx``: one step of a tiny network, every
number a formula.

    one_step.py        forward_and_short_form.xlsx
    long_form.py       long_form.xlsx
    training.py        training_steps.xlsx
    digit.py           digit_trace.xlsx

built from numbers.py (every number, computed by network.py, jacobian.py
and gradcheck.py), layout.py (the blocks they share), checks.py (live
central differences) and start.py (the first sheet and the links).
"""

from typing import Dict

from ..book import Book
from .numbers import Digit, Settings

WORKBOOKS = ("forward_and_short_form.xlsx", "long_form.xlsx",
             "training_steps.xlsx", "digit_trace.xlsx")


def build(settings: Settings, digit: Digit) -> Dict[str, Book]:
    """The four workbooks, by file name."""
    from .digit import digit_trace
    from .long_form import long_form
    from .one_step import forward_and_short_form
    from .training import training_steps
    return {"forward_and_short_form.xlsx": forward_and_short_form(settings),
            "long_form.xlsx": long_form(settings),
            "training_steps.xlsx": training_steps(settings),
            "digit_trace.xlsx": digit_trace(settings, digit)}


__all__ = ["WORKBOOKS", "Digit", "Settings", "build"]
