"""Read a file the operator named, refusing at once what is not a regular file.

Opening a FIFO blocks until a writer comes, a character device can stream forever and a
socket cannot be opened at all: any of them given as a config, scenario or baseline file
would hang the command (or a daemon reloading on SIGHUP). So the type is checked before
opening, the file is opened without blocking, and the type is checked again on the
descriptor in case the path changed in between.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnreadableFile(OSError):
    """The file cannot be read as a regular file; `str()` is the reason (`is a FIFO (named pipe), …`).

    `strerror` is the system's own words when the system refused (`No such file or
    directory`), None when this module did: callers that print `strerror or str()` keep
    the message they printed before they read through here.
    """

    def __init__(self, reason: str, strerror: str | None = None) -> None:
        super().__init__(reason)
        self.strerror = strerror


def _special_kind(mode: int) -> str | None:
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


def _refuse_special(mode: int) -> None:
    kind = _special_kind(mode)
    if kind == "directory":
        raise UnreadableFile("is a directory, not a file")
    if kind is not None:
        raise UnreadableFile(f"is a {kind}, not a regular file")


def read_regular_file(path: Path | str, limit: int | None = None) -> bytes:
    """The bytes of the regular file at `path`, or UnreadableFile saying why not, never a wait.

    With `limit`, a file larger than `limit` bytes is refused (only `limit` + 1 are read).
    """
    try:
        _refuse_special(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            _refuse_special(os.fstat(handle.fileno()).st_mode)
            raw = handle.read() if limit is None else handle.read(limit + 1)
    except UnreadableFile:
        raise
    except FileNotFoundError as exc:
        raise UnreadableFile("no such file", exc.strerror) from None
    except IsADirectoryError as exc:
        raise UnreadableFile("is a directory, not a file", exc.strerror) from None
    except PermissionError as exc:
        raise UnreadableFile("permission denied", exc.strerror) from None
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc), exc.strerror) from None
    if limit is not None and len(raw) > limit:
        raise UnreadableFile(f"larger than {_size(limit)}")
    return raw


def _size(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit % mib == 0 else f"{limit} bytes"
