"""Saving a file all at once or not at all.

A crash, a kill -9 or a full disk in the middle of a save must never
leave half a file where a good one was.  So a file is never written in
place: the new bytes go to a temporary file beside it, are flushed to
the disk (fsync), and then the temporary file is renamed over the old
one with os.replace, which the operating system performs in one step.
Whoever reads the path afterwards sees either the old file or the new
one, complete.  Model files (model_io.py) and workbooks (xlsx/book.py)
are both saved this way.
"""

import os


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Replace the file at path with data, all at once or not at all (any kind of file).

    Raises the OSError that stopped it (disk full, no permission, ...); the
    temporary file is removed on any failure, and the old file is untouched.
    """
    directory = os.path.dirname(os.path.abspath(path))
    # A random name in the same directory: os.replace is only atomic within
    # one file system, and two writers must not share a temporary file.
    temp = os.path.join(directory, f".{os.path.basename(path)}.{os.urandom(8).hex()}.tmp")
    fd = _create_new_file(temp)
    try:
        _write_and_sync(fd, data)
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    _sync_directory(directory)


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
