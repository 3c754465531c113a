"""Spreadsheets of the network's numbers (needs openpyxl 3.1.5: ``pip install purenet[xlsx]``).

    cells.py           the cell layer: where a number sits (Ref, Area, Block), its
                       defined name, its formula, its kind's colour, its format
    book.py            a workbook being written: sheets of labelled blocks, notes,
                       links, charts, colour rules, the sheet's extent
    save.py            the same bytes every time, each formula's value cached
    pictures.py        digits and weights drawn as coloured cells
    trace/             the four backprop trace workbooks of ``purenet export-xlsx``
    draw.py            draw_a_digit.xlsx (``export-xlsx --model``): a trained network,
                       every number a formula, and a grid to draw a digit on
    report.py          the training report workbook of ``purenet report``, with
    report_metrics.py  its Metrics sheet and its Summary's facts

Nothing outside this package imports openpyxl, and this package is imported
only by the commands that write workbooks, so the rest of purenet runs on
the standard library alone.
"""

import os
import sys
import zipfile

OPENPYXL_VERSION = "3.1.5"  # pinned: another version writes other bytes

# Every workbook purenet saves names this creator in docProps/core.xml
# (book.Book.to_bytes): how a command knows that a file it is about to
# replace is a workbook of its own (commands/_files.py).
AUTHOR = "purenet"
_CORE = "docProps/core.xml"
_CREATOR = f"<dc:creator>{AUTHOR}</dc:creator>".encode("ascii")
_CORE_LIMIT = 1 << 16    # bytes of core.xml read at most (purenet's is 470)

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


def written_by_purenet(path: str) -> bool:
    """True if path is an .xlsx file whose docProps/core.xml names purenet as its creator.

    Reads with the standard library only (zipfile), and at most
    _CORE_LIMIT bytes of core.xml, so any file can be looked at safely.
    """
    try:
        with zipfile.ZipFile(path) as book, book.open(_CORE) as core:
            return _CREATOR in core.read(_CORE_LIMIT)
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError):
        # not a zip, no core.xml, encrypted, damaged: not a workbook of ours
        return False
