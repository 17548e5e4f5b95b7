"""Malformed input is a failed verification, never a crash or a hang of the verifier.

A forger controls every byte of the ledger file and of an export: fields that cannot be
hashed (`prev_hash='not-hex'`), seqs no ledger writes, bodies no JSON reader takes. Each
used to escape `evidence verify` as a traceback (ValueError, struct.error, RecursionError),
to be skipped silently (seqs below 1), or to fail the whole file without naming the record.
Now each is a problem naming the first bad record, and `verify` exits 1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.evidence import SigningKey, verify_export, verify_ledger
from monitor.evidence.retained import RetainedCheck
from monitor.evidence.signing import public_key_pem
from tests.evidence.conftest import rows, tamper
from tests.evidence.test_cli import FROM, TO, build, invoke

K = 20  # a control_run in the middle of build()'s ledger

# What a forger runs first: without the generated columns (json_extract of the body), a row
# may hold a body that is not JSON; the append-only triggers go too (`tamper`).
UNGENERATED = (
    "DROP INDEX records_run",
    "DROP INDEX IF EXISTS records_repeat",
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


# --- exports ---------------------------------------------------------------------------------------


def _export(ledger_file: Path, out: Path) -> list[dict[str, Any]]:
    assert invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", out).exit_code == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def _write(path: Path, items: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(item) + "\n" for item in items))


def _without(header: dict[str, Any], name: str) -> None:
    del header[name]


def _covered(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda header: header["covered"].update(fields)


FORGED_HEADERS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("no from", lambda h: _without(h, "from"), "'from': time None is not an RFC 3339 UTC time"),
    ("to not a time", lambda h: h.update(to="tomorrow"), "'to': 'tomorrow' is not an RFC 3339 UTC time"),
    ("filter not an object", lambda h: h.update(filter=["FW-01"]), "'filter' is ['FW-01'], not an object"),
    ("covered not an object", lambda h: h.update(covered="all"), "'covered' is 'all', not an object"),
    ("first_seq not an integer", _covered(first_seq="x"), "covered.first_seq: seq 'x' is not an integer"),
    ("no last_seq", lambda h: _without(h["covered"], "last_seq"), "covered.last_seq: seq None is not an integer"),
    ("first_seq 0", _covered(first_seq=0), "covered.first_seq: seq 0 is not an integer from 1 to 2**63 - 1"),
    ("range reversed", _covered(first_seq=9, last_seq=3), "covered.first_seq 9 is after covered.last_seq 3"),
    ("start_prev_hash", _covered(start_prev_hash=None), "covered.start_prev_hash None is not 64 lowercase hex"),
]


@pytest.mark.parametrize(("edit", "reason"), [c[1:] for c in FORGED_HEADERS], ids=[c[0] for c in FORGED_HEADERS])
def test_a_forged_export_header_fails_verify(
    ledger_file: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None], reason: str
) -> None:
    out = tmp_path / "period.jsonl"
    items = _export(ledger_file, out)
    edit(items[0])
    _write(out, items)
    result = invoke("verify", "--export", out)
    assert result.exit_code == 1, result.output
    assert f"first bad: the export's header is malformed: {reason}" in result.stdout, result.stdout


def test_a_header_claiming_a_huge_range_fails_at_once(ledger_file: Path, key: SigningKey, tmp_path: Path) -> None:
    """`last_seq=10**12` used to walk the range one seq at a time: days, for a 200-byte file."""
    pub = tmp_path / "evidence.pub"
    pub.write_bytes(public_key_pem(key.public_key))
    out = tmp_path / "period.jsonl"
    items = _export(ledger_file, out)
    header = items[0]
    start, end = header["covered"]["first_seq"], header["covered"]["last_seq"]
    header["covered"]["last_seq"] = 10**12
    tiny = tmp_path / "tiny.jsonl"
    _write(tiny, [{**header, "covered": {**header["covered"], "first_seq": 1}}, items[-1]])
    assert len(tiny.read_bytes().splitlines()[0]) < 1000
    _write(out, items)
    for path, first, first_bad in ((out, start, f"record {end + 1}: missing from the export"), (tiny, 1, "record 1: ")):
        started = time.monotonic()
        result = invoke("verify", "--export", path, "--public-key", pub)
        assert time.monotonic() - started < 2.0
        assert result.exit_code == 1, result.output
        assert f"first bad: {first_bad}" in result.stdout, result.stdout
        doc = json.loads(invoke("verify", "--export", path, "--public-key", pub, "--format", "json").stdout)
        claim = f"the header covers seq {first}..{10**12} ({10**12 - first + 1} records) but the export holds"
        assert any(p["reason"].startswith(claim) for p in doc["problems"]), doc["problems"]


def test_an_export_whose_check_raises_fails_closed(
    ledger_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "period.jsonl"
    items = _export(ledger_file, out)
    checkpoint = next(i["seq"] for i in items if i["type"] == "record" and i["kind"] == "checkpoint")

    def boom(*args: object) -> bool:
        raise RuntimeError("unforeseen")

    monkeypatch.setattr("monitor.evidence.export_verify.check_checkpoint", boom)
    report = verify_export(out, None)
    assert not report.ok and f"record {checkpoint}: cannot be verified: RuntimeError: unforeseen" in map(
        str, report.problems
    )
    monkeypatch.setattr("monitor.evidence.export_verify._check_footer", boom)
    report = verify_export(out, None)
    assert not report.ok and str(report.first_bad) == "the export could not be verified: RuntimeError: unforeseen"
