"""`read_regular_file`: what the operator names is read, or refused at once with the reason."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.config.files import UnreadableFile, read_regular_file
from tests.tools import fifo_released_after


def test_a_regular_file_is_read_whole_or_up_to_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "baselines.json"
    path.write_bytes(b"x" * 10)

    assert read_regular_file(path) == b"x" * 10
    assert read_regular_file(str(path), limit=10) == b"x" * 10
    with pytest.raises(UnreadableFile, match=r"^larger than 9 bytes$"):
        read_regular_file(path, limit=9)


def test_a_fifo_is_refused_at_once_never_waited_on(tmp_path: Path) -> None:
    with fifo_released_after(tmp_path / "baselines.json", 3.0) as fifo:
        started = time.monotonic()
        with pytest.raises(UnreadableFile) as caught:
            read_regular_file(fifo)
        assert time.monotonic() - started < 1.0
    assert str(caught.value) == "is a FIFO (named pipe), not a regular file"
    assert isinstance(caught.value, OSError)  # callers catching OSError keep catching it


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp, "is a directory, not a file"),
        (lambda tmp: Path("/dev/zero"), "is a character device, not a regular file"),
        (lambda tmp: tmp / "missing.json", "no such file"),
    ],
    ids=["directory", "device", "missing"],
)
def test_what_is_not_a_regular_file_is_named(tmp_path: Path, make: Callable[[Path], Path], reason: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read_regular_file(make(tmp_path))
    assert str(caught.value) == reason


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cw.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        with pytest.raises(UnreadableFile, match=r"^is a socket, not a regular file$"):
            read_regular_file(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_says_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_text("{}")
    path.chmod(0)
    with pytest.raises(UnreadableFile, match=r"^permission denied$"):
        read_regular_file(path)


def test_the_system_s_own_words_are_kept_beside_the_reason(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read_regular_file(tmp_path / "missing.json")
    assert (str(caught.value), caught.value.strerror) == ("no such file", "No such file or directory")
    with pytest.raises(UnreadableFile) as special:
        read_regular_file("/dev/null")
    assert special.value.strerror is None and str(special.value) == "is a character device, not a regular file"
