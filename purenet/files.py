"""The paths purenet reads and writes are regular files: never pipes, devices or directories.

A path can name something that is not a file of bytes on a disk, and each
kind goes wrong in its own way if it is treated as one:

    a named pipe (FIFO)   opening it to read waits, forever, for a writer
    a device              /dev/zero never ends, /dev/urandom neither; /dev/null
                          reads as empty and swallows whatever is written
    a directory           cannot be read at all

So every file purenet reads (a model, an IDX file of --data-dir) is looked
at with ``os.stat`` before it is opened, and refused unless it is a regular
file.  ``os.stat`` follows symbolic links, so a link to /dev/zero counts as
the device it points to.  A file that does not exist passes here: opening
it then says so in the caller's own words.

Writes go through atomic.py, which puts a new regular file in place of the
old one and refuses to put it in place of anything else (replacing
/dev/null with a workbook, as root, would break the machine).
"""

import os
import stat
from typing import Optional

# (test of st_mode, what to call it in a message), in the order they are tried
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of_mode(mode: int) -> Optional[str]:
    """None for a regular file, else what st_mode says it is ("a named pipe (FIFO)", ...)."""
    if stat.S_ISREG(mode):
        return None
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"   # pragma: no cover - a kind POSIX does not name (Solaris doors)


def not_a_regular_file(path: str) -> Optional[str]:
    """What path is, if it exists and is not a regular file; None if it is one or is missing.

    "Missing" includes a path that cannot be looked at (a component that is
    a file, a directory without search permission): the open that follows
    fails with the operating system's reason, which says more.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):   # ValueError: a NUL byte in the path
        return None
    return kind_of_mode(mode)
