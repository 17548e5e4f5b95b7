"""Opening files a user or an auditor names, refusing anything that is not a regular file.

Opening a FIFO for reading waits until a writer comes, so a named pipe given as a config,
a key or an export would hang the daemon's start-up or a verification for good; a socket
cannot be opened at all and a device never ends. The type is checked before opening, and
again on the descriptor (opened without blocking), in case the path changed in between.
Imports nothing of the project, so the config and the evidence modules can share it.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

__all__ = ["NotRegularFileError", "open_regular_file", "read_regular_file", "special_kind"]


class NotRegularFileError(OSError):
    """The path names a directory, FIFO, socket or device; `strerror` says which, in one phrase."""

    def __init__(self, path: str | Path, kind: str) -> None:
        self.kind = kind
        reason = "is a directory, not a file" if kind == "directory" else f"is a {kind}, not a regular file"
        super().__init__(errno.EISDIR if kind == "directory" else errno.EINVAL, reason, str(path))

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def special_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO (named pipe)"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return name
    return "special file"


def _refuse_special(path: str | Path, mode: int) -> None:
    kind = special_kind(mode)
    if kind is not None:
        raise NotRegularFileError(path, kind)


def open_regular_file(path: str | Path) -> io.BufferedReader:
    """`path` opened for binary reading; `NotRegularFileError` (an `OSError`) at once for a special file.

    Other failures are the `OSError`s `open` raises (`FileNotFoundError`, `PermissionError`, …).
    """
    _refuse_special(path, os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        _refuse_special(path, os.fstat(fd).st_mode)
        os.set_blocking(fd, True)  # a regular file: reads never wait anyway; no surprise for callers
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of the regular file at `path` (at most `limit` + 1 of them, to tell "too large")."""
    with open_regular_file(path) as handle:
        return handle.read() if limit is None else handle.read(limit + 1)
