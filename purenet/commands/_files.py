"""Where a command may write: its --out is checked before any work is done.

A command writes only its own kind of output, so it never destroys a file
it did not make.  ``purenet report model.json --out model.json`` once
replaced the trained model with a workbook and exited 0; given a device
node as --out, it replaced the device.  The rule, for each file a command
is about to write (``check_output_file``):

    does not exist                      written
    a directory, named pipe, device,    refused, always: nothing is ever
    socket (files.py names the kind)    written to or in place of one
    a workbook purenet wrote            replaced: it is this kind of output
    (its creator is "purenet":          (the README's `purenet export-xlsx`
    xlsx.written_by_purenet)            rewrites spreadsheets/ this way)
    any other .xlsx file                refused, unless --overwrite is given
    any other file                      refused, --overwrite or not: it is
                                        not a workbook (a model, notes...)

A refusal is a UsageError (one line, exit code 2) naming the file and why.
The write itself goes through atomic.py, which would still refuse to put
a workbook in place of anything but a regular file, should one appear at
the path meanwhile.
"""

import os

from ..files import not_a_regular_file
from ..xlsx import written_by_purenet
from . import UsageError

WORKBOOK_SUFFIX = ".xlsx"


def check_output_file(path: str, overwrite: bool, flag: str = "--out") -> None:
    """UsageError unless the workbook at path may be written (see the module docstring)."""
    kind = not_a_regular_file(path)
    if kind is not None:
        raise UsageError(f"{flag} {path}: is {kind}, not a file; nothing is written to it")
    if not os.path.lexists(path) or written_by_purenet(path):
        return
    if not path.lower().endswith(WORKBOOK_SUFFIX):
        if overwrite:
            raise UsageError(f"{flag} {path}: --overwrite replaces only an {WORKBOOK_SUFFIX} "
                             "file, and this one is not a workbook; give another name")
        raise UsageError(f"{flag} {path}: exists and is not a workbook written by purenet; "
                         "give another name")
    if not overwrite:
        raise UsageError(f"{flag} {path}: exists and is not a workbook written by purenet; "
                         "give another name, or --overwrite to replace it")
