"""Malformed input is a failed verification, never a crash or a hang of the verifier.

A forger controls every byte of the ledger file and of an export: fields that cannot be
hashed (`prev_hash='not-hex'`), seqs no ledger writes, bodies no JSON reader takes. Each
used to escape `evidence verify` as a traceback (ValueError, struct.error, RecursionError),
to be skipped silently (seqs below 1), or to fail the whole file without naming the record.
Now each is a problem naming the first bad record, and `verify` exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.evidence import SigningKey, verify_ledger
from monitor.evidence.retained import RetainedCheck
from tests.evidence.conftest import rows, tamper
from tests.evidence.test_cli import build, invoke

K = 20  # a control_run in the middle of build()'s ledger

# What a forger runs first: without the generated columns (json_extract of the body), a row
# may hold a body that is not JSON; the append-only triggers go too (`tamper`).
UNGENERATED = (
    "DROP INDEX records_run",
    "ALTER TABLE records DROP COLUMN control",
    "ALTER TABLE records DROP COLUMN scope",
    "ALTER TABLE records DROP COLUMN ended",
)
# A table of untyped columns: a seq is then whatever was stored, e.g. text.
UNTYPED = (
    "CREATE TABLE forged (seq, kind, time, body, prev_hash, hash, format)",
    "INSERT INTO forged SELECT seq, kind, time, body, prev_hash, hash, format FROM records",
    "DROP TABLE records",
    "ALTER TABLE forged RENAME TO records",
)
COPY_OF_1 = "INSERT INTO records (seq, kind, time, body, prev_hash, hash, format) SELECT {seq}, kind, time, body, " + (
    "prev_hash, hash, format FROM records WHERE seq = 1"
)
HUGE = "1" + "0" * 30


@pytest.fixture
def ledger_file(tmp_path: Path, key: SigningKey) -> Path:
    path = tmp_path / "evidence.sqlite3"
    build(path, key)
    return path


FORGED_ROWS: list[tuple[str, tuple[str | tuple[str, tuple[Any, ...]], ...], str]] = [
    (
        "prev_hash not hex",
        (f"UPDATE records SET prev_hash = 'not-hex' WHERE seq = {K}",),
        f"record {K}: prev_hash 'not-hex' is not 64 lowercase hex digits",
    ),
    (
        "hash not hex",
        (f"UPDATE records SET hash = 'XYZ' WHERE seq = {K}",),
        f"record {K}: hash 'XYZ' is not 64 lowercase hex digits",
    ),
    ("negative seq", (COPY_OF_1.format(seq=-5),), "record -5: seq -5 is not an integer from 1 to 2**63 - 1"),
    ("seq 0", (COPY_OF_1.format(seq=0),), "record 0: seq 0 is not an integer from 1 to 2**63 - 1"),
    (
        "seq beyond 2**64",
        (*UNTYPED, f"UPDATE records SET seq = '{HUGE}' WHERE seq = (SELECT max(seq) FROM records)"),
        f"a record is stored with seq '{HUGE}', which is not an integer",
    ),
    ("unknown format", (f"UPDATE records SET format = 99 WHERE seq = {K}",), f"record {K}: unknown record format 99"),
    (
        "body not JSON",
        (*UNGENERATED, f"UPDATE records SET body = 'nope' WHERE seq = {K}"),
        f"record {K}: body is not JSON",
    ),
    (
        "body nested past any recursion limit",
        (*UNGENERATED, (f"UPDATE records SET body = ? WHERE seq = {K}", ("[" * 100_000 + "]" * 100_000,))),
        f"record {K}: body is not JSON",
    ),
    (
        "body not UTF-8",
        (*UNGENERATED, f"UPDATE records SET body = CAST(x'7b2261223a22ff227d' AS TEXT) WHERE seq = {K}"),
        f"record {K}: body is not UTF-8 text",
    ),
]


@pytest.mark.parametrize(
    ("statements", "first_bad"), [case[1:] for case in FORGED_ROWS], ids=[c[0] for c in FORGED_ROWS]
)
def test_a_forged_row_fails_verify_naming_it(
    ledger_file: Path, statements: tuple[str | tuple[str, tuple[Any, ...]], ...], first_bad: str
) -> None:
    tamper(ledger_file, *statements)
    result = invoke("verify", "--ledger", ledger_file)  # invoke lets any exception through: no traceback hidden
    assert result.exit_code == 1, result.output
    assert f"first bad: {first_bad}" in result.stdout, result.stdout


def test_a_record_whose_check_raises_is_a_problem_of_that_record(
    ledger_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: whatever a record provokes in the verifier is a problem of that record."""
    checkpoint = next(row[0] for row in rows(ledger_file) if row[1] == "checkpoint")

    def boom(*args: object) -> bool:
        raise RuntimeError("unforeseen")

    monkeypatch.setattr("monitor.evidence.verify.check_checkpoint", boom)
    report = verify_ledger(ledger_file)
    assert (
        not report.ok and str(report.first_bad) == f"record {checkpoint}: cannot be verified: RuntimeError: unforeseen"
    )


def test_a_verification_that_cannot_complete_fails(ledger_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(RetainedCheck, "finish", boom)
    report = verify_ledger(ledger_file)
    assert not report.ok and str(report.first_bad) == "the ledger could not be verified: RuntimeError: unforeseen"
