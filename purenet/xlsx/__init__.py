"""Spreadsheets of the network's numbers (needs openpyxl 3.1.5: ``pip install purenet[xlsx]``).

    book.py    the conventions every purenet workbook shares: colours per kind
               of cell, labelled blocks, formulas with cached values,
               byte-reproducible saving
    trace.py   the four backprop trace workbooks of ``purenet export-xlsx``
    report.py  the training report workbook of ``purenet report``

Nothing outside this package imports openpyxl, and this package is imported
only by the commands that write workbooks, so the rest of purenet runs on
the standard library alone.
"""

import os
import sys

OPENPYXL_VERSION = "3.1.5"  # pinned: another version writes other bytes

# openpyxl picks its XML writer once, when it is first imported: lxml's if
# lxml is installed, else the standard library's.  The two write the same
# workbook as different bytes, and lxml's writes a formula cell in a form
# book.py's cached values do not fit.  So this package always asks for the
# standard library's, before anything of it imports openpyxl.
os.environ["OPENPYXL_LXML"] = "False"


class WorkbookError(Exception):
    """A workbook cannot be written: openpyxl is missing or unusable, or the file cannot be saved."""


def require_openpyxl(what: str) -> None:
    """Fail before any work if openpyxl is missing; warn if it is not the pinned version.

    `what` names the workbook for the messages, e.g. "a report".
    """
    try:
        import openpyxl
    except ImportError:
        raise WorkbookError(f"writing {what} needs openpyxl: pip install 'openpyxl=={OPENPYXL_VERSION}' "
                             "(or pip install 'purenet[xlsx]')") from None
    if openpyxl.LXML:
        raise WorkbookError("openpyxl was imported before purenet.xlsx and chose lxml's XML "
                             "writer; import purenet.xlsx first (or set OPENPYXL_LXML=False)")
    if openpyxl.__version__ != OPENPYXL_VERSION:
        print(f"purenet: warning: openpyxl {openpyxl.__version__} is not {OPENPYXL_VERSION}; "
              f"{what} will differ byte for byte from what the pinned version writes",
              file=sys.stderr)
