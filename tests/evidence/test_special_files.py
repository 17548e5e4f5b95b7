"""Files an auditor or an operator names are refused at once when they are not regular files.

Opening a FIFO for reading waits for a writer: as the signing key it hung the daemon's
start-up, as `--public-key`, `--retained` or `--export` it hung `evidence verify`. Each is
now a usage failure (exit 2) in one line, at once. So that the old code fails these tests
instead of hanging them, `fifo` opens the write end after a few seconds, releasing a
reader that waits (it then reads nothing).
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.commands.main import cli
from monitor.evidence import KeyFileError, SigningKey, load_public_key, load_signing_key, verify_export
from monitor.evidence.retained import read_retained
from monitor.files import NotRegularFileError, read_regular_file
from tests.evidence.test_cli import CONFIG, FROM, TO, build, invoke

FIFO = "is a FIFO (named pipe), not a regular file"
# Seconds. Generous for a loaded 2-core CI machine (a cold `controlwatch run` import takes a few
# seconds there); the release below comes much later, so a reader that waited fails the timing.
AT_ONCE = 15.0
RELEASE_AFTER = 30.0


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "named.pipe"
    os.mkfifo(path)
    stop = threading.Event()

    def release() -> None:
        if stop.wait(RELEASE_AFTER):
            return
        while not stop.wait(0.05):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:  # ENXIO: nobody is reading
                if exc.errno != errno.ENXIO:
                    return
                continue
            os.close(fd)

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join(5)


@pytest.fixture
def ledger_file(tmp_path: Path, key: SigningKey) -> Path:
    path = tmp_path / "evidence.sqlite3"
    build(path, key)
    return path


def exits_2_at_once(*args: str | Path, expected: str = FIFO) -> str:
    started = time.monotonic()
    result = invoke(*args)
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert elapsed < AT_ONCE, elapsed
    return result.stderr


def test_a_fifo_as_public_key_exits_2_at_once(ledger_file: Path, fifo: Path) -> None:
    line = exits_2_at_once("verify", "--ledger", ledger_file, "--public-key", fifo)
    assert f"{fifo}: cannot read public key: {FIFO}" in line


def test_a_fifo_as_the_configured_signing_key_exits_2_at_once(ledger_file: Path, fifo: Path, tmp_path: Path) -> None:
    config = tmp_path / "controlwatch.yaml"
    config.write_text(CONFIG.format(ledger=ledger_file, key=fifo))
    exits_2_at_once("verify", "--config", config)
    exits_2_at_once("report", "--config", config, "--from", FROM, "--to", TO, "--out", tmp_path / "r.html")


def test_a_fifo_as_retained_exits_2_at_once(ledger_file: Path, fifo: Path) -> None:
    line = exits_2_at_once("verify", "--ledger", ledger_file, "--retained", fifo)
    assert f"{fifo}: cannot read the retained export: {FIFO}" in line


def test_a_fifo_as_export_or_its_sidecar_exits_2_at_once(ledger_file: Path, fifo: Path, tmp_path: Path) -> None:
    line = exits_2_at_once("verify", "--export", fifo)
    assert f"{fifo}: cannot read the export: {FIFO}" in line
    out = tmp_path / "period.csv"
    assert invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--format", "csv", "--out", out)
    sidecar = Path(f"{out}.chain.jsonl")
    sidecar.unlink()
    os.mkfifo(sidecar)
    line = exits_2_at_once("verify", "--export", out)
    assert f"{sidecar}: cannot read the export: {FIFO}" in line


def test_a_fifo_as_the_daemons_signing_key_stops_start_up_at_once(fifo: Path, tmp_path: Path) -> None:
    """`controlwatch run` with it: the key is read before anything starts."""
    config = tmp_path / "controlwatch.yaml"
    config.write_text(
        "scopes: {projects: [{id: shop-prod}]}\n"
        "gcp: {api_endpoint: 'http://127.0.0.1:9'}\n"
        "metrics: {listen: '127.0.0.1:0'}\n"
        f"evidence: {{path: '{tmp_path / 'ev.sqlite3'}', signing_key_file: '{fifo}'}}\n"
    )
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["run", "--config", str(config)], catch_exceptions=False)
    assert time.monotonic() - started < AT_ONCE
    assert result.exit_code == 2 and f"evidence.signing_key_file: {fifo}" in result.stderr and FIFO in result.stderr


@pytest.mark.parametrize("reader", [load_signing_key, load_public_key])
def test_key_loaders_refuse_special_files(reader: Callable[[Path], object], fifo: Path) -> None:
    for path in (fifo, Path("/dev/null")):
        started = time.monotonic()
        with pytest.raises(KeyFileError, match="not a regular file"):
            reader(path)
        assert time.monotonic() - started < AT_ONCE


def test_the_library_readers_refuse_a_fifo_with_an_os_error(fifo: Path) -> None:
    for read in (read_retained, lambda p: verify_export(p, None), read_regular_file):
        started = time.monotonic()
        with pytest.raises(NotRegularFileError) as caught:
            read(fifo)
        assert time.monotonic() - started < AT_ONCE
        assert isinstance(caught.value, OSError) and caught.value.strerror == FIFO
        assert str(caught.value) == f"{fifo}: {FIFO}"
