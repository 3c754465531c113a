"""Saving a file all at once or not at all.

A crash, a kill -9 or a full disk in the middle of a save must never
leave half a file where a good one was.  So a file is never written in
place: the new bytes go to a temporary file beside it, are flushed to
the disk (fsync), and then the temporary file is renamed over the old
one with os.replace, which the operating system performs in one step.
Whoever reads the path afterwards sees either the old file or the new
one, complete.  Model files (model_io.py) and workbooks (xlsx/book.py)
are both saved this way.

Only a regular file is ever replaced.  os.replace would just as happily
put the new file in place of a named pipe or a device node (as root, in
place of /dev/null), so a path that is one of those is refused with an
OSError before anything is written (files.py).

A save killed in the middle (kill -9, a power cut) leaves its temporary
file behind, named

    .NAME.PID-RANDOM.tmp      e.g. .checkpoint.json.48213-9f0c2a51d3e4b6a7.tmp

beside the target NAME, PID being the process that wrote it and RANDOM 16
hex digits.  The next save of NAME in that directory removes such
leftovers (``remove_leftovers``), and only those that are certainly dead:

    its PID is not a running process (os.kill(PID, 0) says so), and
    it was last written more than LEFTOVER_SECONDS ago.

Either test alone could remove a file that another save is writing at
that moment: a PID that is not running *here* may be running in another
container or on another machine sharing the directory, and a save that
has just started has a young file.  A live save writes its whole file at
once and renames it within a second or so (fsync included), so a file
that has not changed for a minute and whose writer is not running is a
leftover.  The price: a leftover younger than a minute stays until the
save after.  Files of the form .NAME.RANDOM.tmp, which purenet wrote
before the PID was in the name, are removed once they are an hour old.
Nothing else in the directory is touched.
"""

import errno
import os
import re
import time

from .files import not_a_regular_file

LEFTOVER_SECONDS = 60          # a temporary file untouched for this long, writer gone: a leftover
OLD_STYLE_SECONDS = 3600       # the same for the names without a PID (no writer to ask)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Replace the file at path with data, all at once or not at all (any kind of file).

    Raises the OSError that stopped it (disk full, no permission, ...); the
    temporary file is removed on any failure, and the old file is untouched.
    """
    kind = not_a_regular_file(path)
    if kind is not None:
        raise OSError(errno.EINVAL, f"it is {kind}, not a file, and is never replaced", path)
    directory = os.path.dirname(os.path.abspath(path))
    remove_leftovers(path)
    # A name of its own in the same directory: os.replace is only atomic
    # within one file system, and two writers must not share a temporary file.
    temp = os.path.join(directory, temporary_name(os.path.basename(path)))
    fd = _create_new_file(temp)
    try:
        _write_and_sync(fd, data)
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    _sync_directory(directory)


def temporary_name(name: str) -> str:
    """.NAME.PID-RANDOM.tmp: the temporary file of a save of NAME by this process."""
    return f".{name}.{os.getpid()}-{os.urandom(8).hex()}.tmp"


def _leftover_pattern(name: str) -> "re.Pattern[str]":
    """Temporary files of saves of NAME: group 1 is the PID (None in the old names without one)."""
    return re.compile(r"\.%s\.(?:([0-9]+)-)?[0-9a-f]{16}\.tmp" % re.escape(name))


def remove_leftovers(path: str) -> list:
    """Remove the temporary files that killed saves of path left beside it; return their names.

    Only files of the pattern above whose writer is certainly gone (see
    the module docstring).  A file that cannot be examined or removed is
    left alone: cleaning up must never stop a save.
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = _leftover_pattern(os.path.basename(path))
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    now = time.time()
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        leftover = os.path.join(directory, name)
        try:
            age = now - os.lstat(leftover).st_mtime
            pid = match.group(1)
            if pid is None:
                gone = age > OLD_STYLE_SECONDS
            else:
                gone = age > LEFTOVER_SECONDS and not process_is_running(int(pid))
            if gone:
                os.remove(leftover)
                removed.append(name)
        except OSError:
            continue
    return removed


def process_is_running(pid: int) -> bool:
    """False only if no process with this id runs on this machine (as far as we can tell)."""
    if os.name != "posix" or pid <= 0:
        return True   # os.kill(pid, 0) on Windows would send Ctrl-C to the process
    try:
        os.kill(pid, 0)          # signal 0: checks the process exists, sends nothing
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True              # exists but is not ours (PermissionError), or cannot tell
    return True


def _create_new_file(path: str) -> int:
    # O_EXCL: fail rather than write into a file that is already there.
    # Mode 0o666 lets the umask decide permissions, as for any new file.
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)


def _write_and_sync(fd: int, data: bytes) -> None:
    """Write data to the open file fd, wait until it is on disk, close it."""
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (the directory entry lives in the directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a directory; its rename is durable enough
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the data is already safe
    finally:
        os.close(fd)
