"""What the command line says reads right: counts agree with their nouns ("1 checkpoint"), and the
evidence signing warning says what a TEST-key signature is worth and how to sign for real."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.evidence import Checkpointer, Ledger, demo_key, generate_key
from monitor.plurals import counted
from monitor.sinks.logs import configure_logging
from monitor.sinks.signing_notice import log_signing_state
from tests.test_cli import invoke

ROOT = Path(__file__).resolve().parents[1]
#: a count (`{len(x)}`, `{n}`, `{self.records}`) written straight before a plural noun in an f-string
COUNT_THEN_PLURAL = re.compile(
    r"\{(?:len\([^{}]*\)|[\w.]*(?:count|records|checkpoints|attempts|total)\w*)\} (?!of\b|owns\b)[a-z]+s\b"
)


def test_counted_agrees_with_its_count() -> None:
    assert [counted(n, "checkpoint") for n in (0, 1, 2)] == ["0 checkpoints", "1 checkpoint", "2 checkpoints"]
    assert counted(1, "(control, scope) pair") == "1 (control, scope) pair"


def test_no_command_writes_a_count_before_a_fixed_plural() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "monitor" / "commands").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if COUNT_THEN_PLURAL.search(line)
    ]
    assert offenders == []
    assert COUNT_THEN_PLURAL.search('f"{len(drawn)} samples of"')
    assert COUNT_THEN_PLURAL.search('f"{self.records} records"')


def test_verify_says_1_checkpoint_and_1_record(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "key.pem")
    ledger = Ledger(tmp_path / "ev.sqlite3")
    try:
        now = datetime.now(UTC)
        ledger.append("daemon_start", {}, time=now)
        Checkpointer(ledger, key).checkpoint(now)
        ledger.append("daemon_start", {}, time=now)  # one record after the checkpoint
    finally:
        ledger.close()
    code, out, err = invoke(
        "evidence", "verify", "--ledger", str(tmp_path / "ev.sqlite3"), "--public-key", str(tmp_path / "key.pem.pub")
    )
    assert code == 0, err
    assert ": OK: 3 records (seq 1..3)" in out and "anchored by 1 checkpoint through seq 2" in out
    assert "1 record after the last checkpoint is not yet anchored" in out


def test_config_validate_counts_one_scope(tmp_path: Path) -> None:
    config = tmp_path / "cw.yaml"
    config.write_text("scopes: {projects: [{id: shop-prod}]}\n")
    code, out, _ = invoke("config", "validate", str(config))
    assert code == 0 and "ok (1 scope, " in out


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Log lines as the daemon renders them (JSON), in a buffer; the root handlers put back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("info", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_the_test_key_warning_says_the_signatures_prove_nothing(logged: io.StringIO) -> None:
    log_signing_state(demo_key())
    [line] = [json.loads(text) for text in logged.getvalue().splitlines()]
    assert line["message"] == "evidence_test_key" and line["severity"] == "WARNING"
    assert "public TEST key" in line["detail"] and "prove nothing" in line["detail"]
    assert "evidence.signing_key_file" in line["detail"] and "openssl genpkey -algorithm ed25519" in line["detail"]


def test_a_real_key_needs_no_warning(logged: io.StringIO, tmp_path: Path) -> None:
    log_signing_state(generate_key(tmp_path / "key.pem"))
    assert logged.getvalue() == ""
