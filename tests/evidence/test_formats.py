"""Record formats 1 and 2 side by side: a ledger and exports written before RFC 8785 (the
checked-in fixtures, see fixtures/README.md) open, verify, migrate and take new records;
mixed ledgers and their exports verify; an edited or downgraded format is caught."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.evidence import (
    Checkpoint,
    Checkpointer,
    Ledger,
    PruneAnchor,
    demo_key,
    export,
    keyring,
    prune,
    verify_export,
    verify_ledger,
)
from monitor.evidence.canonical import canonical_json, legacy_json
from monitor.evidence.checkpoint import CHECKPOINT_STATEMENT
from monitor.evidence.records import record_hash
from tests.evidence.conftest import T0, rehash_from, row_formats, rows, run_body, tamper

FIXTURES = Path(__file__).with_name("fixtures")
KEYS = keyring([demo_key()])
LATER = T0 + timedelta(minutes=30)  # new records go here, after the fixture's last (00:15)


def lines(path: Path) -> list[dict[str, Any]]:
    """Export lines, split at newlines only (`str.splitlines` also splits at U+2028, inside a body here)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def clock_at(moment: datetime) -> Any:
    return lambda: moment


@pytest.fixture
def old_ledger(tmp_path: Path) -> Path:
    """A copy of the ledger written before format 2 (records 4..21, all format 1)."""
    path = tmp_path / "ledger-v1.sqlite3"
    shutil.copyfile(FIXTURES / "ledger-v1.sqlite3", path)
    return path


def schema(path: Path) -> tuple[int, list[str]]:
    conn = sqlite3.connect(path)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        columns = [str(row[1]) for row in conn.execute("PRAGMA table_info(records)")]  # generated ones not listed
    finally:
        conn.close()
    return version, columns


def extend(path: Path, runs: int = 6) -> list[int]:
    """Open the ledger for writing (migrating it) and append format-2 records and a checkpoint."""
    with Ledger(path, clock=clock_at(LATER)) as ledger:
        appended = []
        for index in range(runs):
            moment = LATER + timedelta(minutes=index)
            scope = ("shop-prod", "shop-dev")[index % 2]
            appended.append(ledger.append("control_run", run_body("FW-01", scope, moment), time=moment).seq)
        checkpoint = Checkpointer(ledger, demo_key()).checkpoint(LATER + timedelta(minutes=runs))
        assert checkpoint is not None
        appended.append(checkpoint.seq)
    return appended


def test_a_ledger_written_before_format_2_verifies_as_it_is(old_ledger: Path) -> None:
    report = verify_ledger(old_ledger, KEYS, clock=clock_at(T0 + timedelta(days=1)))
    assert report.ok, report.summary()
    assert (report.records, report.first_seq, report.last_seq) == (18, 4, 21)
    assert (report.checkpoints, report.anchored_through) == (5, 21)
    assert report.notes == ()
    assert schema(old_ledger) == (1, ["seq", "kind", "time", "body", "prev_hash", "hash"])  # never migrated


def test_the_format_1_hash_is_the_documented_encoding(old_ledger: Path) -> None:
    """Record 17 holds values format 1 and RFC 8785 write differently: verification must use format 1."""
    seq, kind, time, body, prev, stored = rows(old_ledger)[13]
    assert (seq, kind) == (17, "config_reload")
    assert '"numbers":[24.0,-0.0,1e-07,1e+21,1e+20,0.1]' in body
    assert legacy_json(json.loads(body)) == body != canonical_json(json.loads(body))
    data = body.encode()
    expected = hashlib.sha256(
        b"controlwatch-evidence/record/v1\x00"
        + struct.pack(">Q", 17)
        + struct.pack(">I", len(kind))
        + kind.encode()
        + struct.pack(">I", len(time))
        + time.encode()
        + hashlib.sha256(data).digest()
        + bytes.fromhex(prev)
    ).hexdigest()
    assert stored == expected


def test_checkpoints_signed_before_rfc_8785_sign_the_same_bytes(old_ledger: Path) -> None:
    """Their fields are ASCII strings and small integers, which both encodings write alike."""
    signed = [json.loads(body) for _, kind, _, body, _, _ in rows(old_ledger) if kind == "checkpoint"]
    assert len(signed) == 5
    for body in signed:
        checkpoint = Checkpoint.from_json(body)
        fields = {"statement": CHECKPOINT_STATEMENT, **{k: v for k, v in body.items() if k != "signature"}}
        assert checkpoint.statement() == legacy_json(fields).encode()
        assert checkpoint.check_signature(KEYS) is None
    anchor_body = next(json.loads(body) for _, kind, _, body, _, _ in rows(old_ledger) if kind == "prune_anchor")
    assert PruneAnchor.from_json(anchor_body).check_signature(KEYS) is None


def test_reading_an_old_ledger_never_migrates_it(old_ledger: Path) -> None:
    before = old_ledger.read_bytes()
    with Ledger(old_ledger, readonly=True) as reader:
        records = list(reader.records())
        head = reader.head()
    assert [r.format for r in records] == [1] * 18
    assert all(r.computed_hash() == r.hash for r in records)
    assert head is not None and head.seq == 21 and head.format == 1
    verify_ledger(old_ledger, KEYS)
    assert schema(old_ledger)[0] == 1 and "format" not in schema(old_ledger)[1]
    assert old_ledger.read_bytes() == before


def test_opening_an_old_ledger_for_writing_migrates_it_and_appends_format_2(old_ledger: Path) -> None:
    appended = extend(old_ledger)
    version, columns = schema(old_ledger)
    assert version == 2 and "format" in columns
    formats = row_formats(old_ledger)
    assert [formats[seq] for seq in range(4, 22)] == [1] * 18
    assert [formats[seq] for seq in appended] == [2] * 7
    report = verify_ledger(old_ledger, KEYS, clock=clock_at(LATER + timedelta(days=1)))
    assert report.ok, report.summary()
    assert (report.first_seq, report.last_seq, report.checkpoints) == (4, 28, 6)
    assert report.anchored_through == 28 and report.unanchored == 0
    with Ledger(old_ledger) as reopened:  # migrating twice is a no-op
        assert reopened.head() is not None and reopened.length() == 25
    assert schema(old_ledger) == (version, columns)


def test_a_reader_opened_before_the_migration_sees_the_records_after_it(old_ledger: Path) -> None:
    with Ledger(old_ledger, readonly=True) as reader:
        assert reader.head() is not None
        extend(old_ledger, runs=1)
        head = reader.head()
        assert head is not None and head.format == 2 and head.computed_hash() == head.hash
        assert [r.format for r in reader.records(20)] == [1, 1, 2, 2]


def test_new_bodies_are_stored_as_rfc_8785(old_ledger: Path) -> None:
    body = {"numbers": [24.0, -0.0, 1e-07, 1e21, 1e20, 0.1], "keys": {"\ue000": 1, "😀": 2, "a": 3}}
    with Ledger(old_ledger) as ledger:
        record = ledger.append("config_reload", body, time=LATER)
    assert record.body == '{"keys":{"a":3,"😀":2,"\ue000":1},"numbers":[24,0,1e-7,1e+21,100000000000000000000,0.1]}'
    assert verify_ledger(old_ledger, KEYS).ok


def test_refused_values_leave_the_ledger_untouched(old_ledger: Path) -> None:
    with Ledger(old_ledger) as ledger, pytest.raises(ValueError):
        ledger.append("config_reload", {"pid": 2**53}, time=LATER)
    assert verify_ledger(old_ledger, KEYS).last_seq == 21


@pytest.mark.parametrize(
    ("seq", "value", "reason"),
    [
        (24, 1, "hash mismatch"),  # a format-2 run, canonical in format 1 too: only the hash tells
        (20, 2, "hash mismatch"),  # a format-1 daemon_stop, canonical in format 2 too
        (10, 2, "body is not in canonical JSON form"),  # `900.0` is not RFC 8785
    ],
    ids=["2-to-1", "1-to-2", "1-to-2-not-canonical"],
)
def test_editing_a_records_format_is_caught_at_that_record(old_ledger: Path, seq: int, value: int, reason: str) -> None:
    extend(old_ledger)
    tamper(old_ledger, ("UPDATE records SET format = ? WHERE seq = ?", (value, seq)))
    report = verify_ledger(old_ledger, KEYS)
    assert report.first_bad is not None and report.first_bad.seq == seq
    assert reason in report.first_bad.reason


@pytest.mark.parametrize(("value", "shown"), [(3, "3"), ("two", "0"), (2.5, "0")])
def test_an_unknown_format_is_named(old_ledger: Path, value: object, shown: str) -> None:
    extend(old_ledger)
    tamper(old_ledger, ("UPDATE records SET format = ? WHERE seq = 24", (value,)))
    report = verify_ledger(old_ledger, KEYS)
    assert report.first_bad is not None and report.first_bad.seq == 24
    assert report.first_bad.reason == f"unknown record format {shown}"


def test_a_downgrade_with_every_hash_recomputed_is_caught_at_the_next_checkpoint(old_ledger: Path) -> None:
    """The forger re-labels a format-2 record as format 1 and rehashes the chain after it, as
    for any rewrite: the links hold, the checkpoint signing the old head hash does not."""
    extend(old_ledger)
    seq, _, _, body, _, _ = rows(old_ledger)[20]
    assert seq == 24 and legacy_json(json.loads(body)) == body  # this body is canonical in format 1 too
    tamper(old_ledger, ("UPDATE records SET format = 1 WHERE seq = 24", ()))
    rehash_from(old_ledger, 24)
    report = verify_ledger(old_ledger, KEYS)
    assert report.first_bad is not None and report.first_bad.seq == 28
    assert "not the record before it" in report.first_bad.reason
    assert report.problems_total == 1


def test_format_1_records_after_format_2_ones_verify(old_ledger: Path) -> None:
    """An older controlwatch already running when a newer one migrated the file keeps appending
    format 1 (it only checks the schema when it opens the ledger): that chain is sound."""
    extend(old_ledger)
    with Ledger(old_ledger, readonly=True) as reader:
        head = reader.head()
    assert head is not None and head.format == 2
    body = legacy_json({"reason": "SIGTERM", "pid": 4242, "uptime": 60.0})
    stamp = head.time
    digest = hashlib.sha256(body.encode()).hexdigest()
    old_hash = record_hash(head.seq + 1, "daemon_stop", stamp, digest, head.hash, format=1)
    conn = sqlite3.connect(old_ledger)  # the old code's INSERT: no format column, so the default, 1
    conn.execute(
        "INSERT INTO records (seq, kind, time, body, prev_hash, hash) VALUES (?, 'daemon_stop', ?, ?, ?, ?)",
        (head.seq + 1, stamp, body, head.hash, old_hash),
    )
    conn.commit()
    conn.close()
    report = verify_ledger(old_ledger, KEYS)
    assert report.ok, report.summary()
    assert row_formats(old_ledger)[head.seq + 1] == 1 and report.unanchored == 1


def test_exports_made_before_format_2_still_verify(tmp_path: Path) -> None:
    for name, exported in (("export-v1.jsonl", 5), ("export-v1-filtered.jsonl", 11)):
        report = verify_export(FIXTURES / name, demo_key().public_key)
        assert report.ok, report.summary()
        assert report.extra["exported"] == exported
    items = lines(FIXTURES / "export-v1.jsonl")
    next(i for i in items if i["type"] == "record")["format"] = 2  # claim the other encoding
    edited = tmp_path / "edited.jsonl"
    edited.write_text("".join(json.dumps(item) + "\n" for item in items))
    assert "hash mismatch" in str(verify_export(edited, demo_key().public_key).first_bad)


@pytest.mark.parametrize("migrated", [False, True], ids=["read-only", "migrated"])
def test_an_old_ledger_exports_byte_for_byte_as_before(old_ledger: Path, tmp_path: Path, migrated: bool) -> None:
    if migrated:
        Ledger(old_ledger).close()
    with Ledger(old_ledger, readonly=not migrated) as ledger:
        export(
            ledger,
            T0 + timedelta(minutes=4),
            T0 + timedelta(minutes=9),
            out=tmp_path / "a.jsonl",
            now=T0 + timedelta(hours=1),
        )
        export(
            ledger,
            T0,
            T0 + timedelta(minutes=13),
            scope="shop-prod",
            out=tmp_path / "b.jsonl",
            now=T0 + timedelta(hours=1),
        )
    assert (tmp_path / "a.jsonl").read_bytes() == (FIXTURES / "export-v1.jsonl").read_bytes()
    assert (tmp_path / "b.jsonl").read_bytes() == (FIXTURES / "export-v1-filtered.jsonl").read_bytes()


@pytest.mark.parametrize("scope", [None, "shop-dev"])
def test_an_export_of_a_mixed_ledger_verifies_standalone(old_ledger: Path, tmp_path: Path, scope: str | None) -> None:
    extend(old_ledger)
    out = tmp_path / "mixed.jsonl"
    with Ledger(old_ledger, readonly=True) as ledger:
        result = export(ledger, T0 + timedelta(minutes=10), LATER + timedelta(minutes=6), scope=scope, out=out)
    assert result.anchored
    items = lines(out)
    records = {i["seq"]: i for i in items if i["type"] == "record"}
    assert "format" not in records[19] and records[28]["format"] == 2  # the anchor (1), the new checkpoint (2)
    omitted = [i for i in items if i["type"] == "omitted"]
    if scope is not None:
        assert {i.get("format", 1) for i in omitted} == {1, 2}  # one line per format
        assert all(len(entry) == 4 for i in omitted for entry in i["records"])
    report = verify_export(out, demo_key().public_key)
    assert report.ok, report.summary()
    assert report.first_seq == 13 and report.last_seq == 28 and report.anchored_through == 28
    # claiming format 1 for a format-2 record, or dropping the key, breaks its hash
    target = next(i for i in items if i["type"] in ("record", "omitted") and i.get("format") == 2)
    del target["format"]
    out.write_text("".join(json.dumps(item) + "\n" for item in items))
    assert not verify_export(out, demo_key().public_key).ok


def test_a_csv_export_of_a_mixed_ledger_verifies_standalone(old_ledger: Path, tmp_path: Path) -> None:
    extend(old_ledger)
    out = tmp_path / "mixed.csv"
    with Ledger(old_ledger, readonly=True) as ledger:
        export(ledger, T0 + timedelta(minutes=8), LATER + timedelta(minutes=6), fmt="csv", out=out)
    report = verify_export(out, demo_key().public_key)
    assert report.ok, report.summary()
    assert report.extra["csv_rows"] == 4 + 6  # runs at 00:08..00:11 (format 1), six new ones (format 2)


def test_pruning_across_the_formats_verifies(old_ledger: Path) -> None:
    extend(old_ledger)
    with Ledger(old_ledger) as ledger:
        result = prune(ledger, LATER + timedelta(minutes=2), demo_key(), now=LATER + timedelta(hours=1))
    assert result is not None and result.pruned_through == 23
    report = verify_ledger(old_ledger, KEYS)
    assert report.ok, report.summary()
    assert report.first_seq == 24


def test_the_future_note_compares_with_the_injected_clock(old_ledger: Path) -> None:
    before = verify_ledger(old_ledger, KEYS, clock=clock_at(datetime(2026, 3, 1, tzinfo=UTC)))
    assert before.ok and any("in the future" in note for note in before.notes)
    after = verify_ledger(old_ledger, KEYS, clock=clock_at(datetime(2026, 3, 2, 0, 15, tzinfo=UTC)))
    assert not any("in the future" in note for note in after.notes)


def test_a_statement_no_double_holds_fails_its_check_instead_of_crashing(old_ledger: Path) -> None:
    """A format-1 checkpoint body may hold any integer; RFC 8785 cannot encode one beyond 2^53."""
    Ledger(old_ledger).close()  # migrated, so the tamperer's helpers find the format column
    seq, _, _, body, _, _ = rows(old_ledger)[-1]
    huge = {**json.loads(body), "seq": 2**60}
    assert "statement cannot be encoded" in str(Checkpoint.from_json(huge).check_signature(KEYS))
    tamper(old_ledger, ("UPDATE records SET body = ? WHERE seq = ?", (legacy_json(huge), seq)))
    rehash_from(old_ledger, seq)
    report = verify_ledger(old_ledger, KEYS)
    assert report.first_bad is not None and report.first_bad.seq == seq
