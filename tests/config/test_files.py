"""`monitor.files.read_regular_file`: what an operator names is read, or refused at once with the reason."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.files import NotRegularFileError, read_regular_file
from tests.tools import fifo_released_after


def test_a_regular_file_is_read_whole_or_one_byte_past_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "baselines.json"
    path.write_bytes(b"x" * 10)
    assert read_regular_file(path) == b"x" * 10
    assert read_regular_file(str(path), limit=20) == b"x" * 10
    assert read_regular_file(path, limit=9) == b"x" * 10  # limit + 1 bytes: the caller can tell "too large"


def test_a_fifo_is_refused_at_once_never_waited_on(tmp_path: Path) -> None:
    with fifo_released_after(tmp_path / "baselines.json", 3.0) as fifo:
        started = time.monotonic()
        with pytest.raises(NotRegularFileError) as caught:
            read_regular_file(fifo)
        assert time.monotonic() - started < 1.0
    assert caught.value.strerror == "is a FIFO (named pipe), not a regular file"
    assert isinstance(caught.value, OSError)  # callers catching OSError keep catching it


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp, "is a directory, not a file"),
        (lambda tmp: Path("/dev/zero"), "is a character device, not a regular file"),
    ],
    ids=["directory", "device"],
)
def test_what_is_not_a_regular_file_is_named(tmp_path: Path, make: Callable[[Path], Path], reason: str) -> None:
    with pytest.raises(NotRegularFileError) as caught:
        read_regular_file(make(tmp_path))
    assert caught.value.strerror == reason


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cw.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        with pytest.raises(NotRegularFileError) as caught:
            read_regular_file(path)
    assert caught.value.strerror == "is a socket, not a regular file"


def test_a_missing_file_is_the_system_s_own_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "missing.json")
