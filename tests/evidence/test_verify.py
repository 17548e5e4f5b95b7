"""Each kind of tampering is detected and the first bad record named; what cannot be
detected from the file alone is shown too, with what does detect it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.evidence import Checkpoint, Ledger, SigningKey, keyring, verify_ledger
from monitor.evidence.canonical import canonical_json
from monitor.evidence.checkpoint import sign_checkpoint
from tests.evidence.conftest import edit_body, fill, rehash_from, row_formats, rows, tamper


@pytest.fixture
def chain(ledger: Ledger, key: SigningKey) -> list[int]:
    """40 control runs with a checkpoint after every 10: runs at 1-10, 12-21, 23-32, 34-43."""
    checkpoints = fill(ledger, key, 40, every=10)
    assert checkpoints == [11, 22, 33, 44]
    ledger.close()
    return checkpoints


def test_an_untouched_ledger_verifies(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.ok, report.summary()
    assert (report.records, report.first_seq, report.last_seq, report.checkpoints) == (44, 1, 44, 4)
    assert report.anchored_through == 44 and report.unanchored == 0
    assert report.first_bad is None
    assert "OK" in report.summary()


def test_records_after_the_last_checkpoint_are_reported_as_not_yet_anchored(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    with Ledger(ledger_path) as ledger:
        fill(ledger, None, 3)
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.ok
    assert report.unanchored == 3
    assert "3 records after the last checkpoint are not yet anchored" in report.summary()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("body", '{"control":"FW-01","scope":"shop-prod","status":"pass"}'),
        ("time", "2026-03-02T00:04:30.000000Z"),
        ("kind", "daemon_start"),
    ],
)
def test_editing_a_field_is_caught_at_that_record(
    ledger_path: Path, key: SigningKey, chain: list[int], column: str, value: str
) -> None:
    tamper(ledger_path, (f"UPDATE records SET {column} = ? WHERE seq = 5", (value,)))
    report = verify_ledger(ledger_path, keyring([key]))
    assert not report.ok
    assert report.first_bad is not None
    assert report.first_bad.seq == 5
    assert "hash mismatch" in report.first_bad.reason


def test_editing_a_body_and_its_hash_is_caught_at_the_next_link(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    rehash_only_5 = rows(ledger_path)[4]
    body = canonical_json({**json.loads(rehash_only_5[3]), "status": "fail"})
    tamper(ledger_path, ("UPDATE records SET body = ? WHERE seq = 5", (body,)))
    from monitor.evidence.records import body_digest, record_hash

    new_hash = record_hash(
        5, rehash_only_5[1], rehash_only_5[2], body_digest(body), rehash_only_5[4], format=row_formats(ledger_path)[5]
    )
    tamper(ledger_path, ("UPDATE records SET hash = ? WHERE seq = 5", (new_hash,)))
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 6
    assert "prev_hash does not match the hash of record 5" in report.first_bad.reason


def test_a_non_canonical_body_is_caught(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    seq, kind, time, body, prev, _ = rows(ledger_path)[2]
    spaced = body.replace(",", ", ")
    from monitor.evidence.records import body_digest, record_hash

    tamper(
        ledger_path,
        (
            "UPDATE records SET body = ?, hash = ? WHERE seq = 3",
            (spaced, record_hash(seq, kind, time, body_digest(spaced), prev, format=row_formats(ledger_path)[3])),
        ),
    )
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 3
    assert "canonical" in report.first_bad.reason


def test_deleting_a_middle_record_is_caught(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    tamper(ledger_path, "DELETE FROM records WHERE seq = 15")
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 16
    assert "records 15..15 are missing" in report.first_bad.reason


def test_deleting_the_last_record_before_a_checkpoint_is_caught(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    tamper(ledger_path, "DELETE FROM records WHERE seq = 21")  # record 22 is the checkpoint signing 21
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 22
    assert "missing" in report.first_bad.reason


def test_deleting_the_first_record_is_caught(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    tamper(ledger_path, "DELETE FROM records WHERE seq = 1")
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 2
    assert "no prune anchor" in report.first_bad.reason


def test_inserting_a_record_is_caught(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    """Room is made by renumbering the later records; seqs are hashed, so that shows."""
    seq, kind, time, body, prev, digest = rows(ledger_path)[9]
    tamper(
        ledger_path,
        "UPDATE records SET seq = seq + 1000 WHERE seq >= 10",
        "UPDATE records SET seq = seq - 999 WHERE seq >= 1010",
        (
            "INSERT INTO records (seq, kind, time, body, prev_hash, hash) VALUES (10, ?, ?, ?, ?, ?)",
            (kind, time, canonical_json({**json.loads(body), "status": "fail"}), prev, digest),
        ),
    )
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 10


def test_reordering_two_records_is_caught(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    tamper(
        ledger_path,
        "UPDATE records SET seq = -1 WHERE seq = 7",
        "UPDATE records SET seq = 7 WHERE seq = 8",
        "UPDATE records SET seq = 8 WHERE seq = -1",
    )
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 7
    assert "hash mismatch" in report.first_bad.reason


def test_rewriting_the_whole_chain_without_the_key_fails_at_the_next_checkpoint(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    """A careful forger fixes every hash and link and the checkpoints' head hashes; the
    signatures they cannot redo give them away."""
    edit_body(ledger_path, 5, status="fail")
    _resign_checkpoints(ledger_path, None)
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 11
    assert "signature does not verify" in report.first_bad.reason
    # Without a public key the rewrite is invisible, and the report says why it could be.
    blind = verify_ledger(ledger_path)
    assert blind.ok and not blind.signatures_checked
    assert any("signatures were not checked" in note for note in blind.notes)


def test_re_signing_with_another_key_is_caught(
    ledger_path: Path, key: SigningKey, other_key: SigningKey, chain: list[int]
) -> None:
    edit_body(ledger_path, 5, status="fail")
    _resign_checkpoints(ledger_path, other_key)
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 11
    assert f"unknown key id {other_key.key_id}" in report.first_bad.reason
    # with both keys (rotation), the attacker's key would be trusted: keys must come from outside
    assert verify_ledger(ledger_path, keyring([key, other_key])).ok


def test_truncating_the_tail_after_the_last_checkpoint_is_not_detectable_alone(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    with Ledger(ledger_path) as ledger:
        fill(ledger, None, 5)
    tamper(ledger_path, "DELETE FROM records WHERE seq > 46")
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.ok  # by construction: those records were not yet anchored
    assert report.unanchored == 2


def test_truncating_the_tail_with_its_checkpoint_is_caught_only_against_a_retained_checkpoint(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    last = rows(ledger_path)[-1]
    retained = Checkpoint.from_json(json.loads(last[3]))  # e.g. from the Cloud Logging copy
    tamper(ledger_path, "DELETE FROM records WHERE seq > 33")
    alone = verify_ledger(ledger_path, keyring([key]))
    assert alone.ok and alone.last_seq == 33  # a shorter chain is still a valid chain
    report = verify_ledger(ledger_path, keyring([key]), retained=[retained])
    assert report.first_bad is not None and report.first_bad.seq == 43
    assert "truncation" in report.first_bad.reason


def test_a_retained_checkpoint_must_itself_verify(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    forged = sign_checkpoint(key, 43, "0" * 64, "2026-03-02T00:39:00.000000Z")
    report = verify_ledger(ledger_path, keyring([key]), retained=[forged])
    assert report.first_bad is not None and report.first_bad.seq == 43
    assert "retained checkpoint signed" in report.first_bad.reason


def test_a_checkpoint_not_matching_its_predecessor_is_caught(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    """Someone moves a genuine checkpoint to sign a different position."""
    cp_seq, kind, time, body, prev, _ = rows(ledger_path)[10]
    moved = canonical_json({**json.loads(body), "seq": 9})
    tamper(ledger_path, ("UPDATE records SET body = ? WHERE seq = 11", (moved,)))
    rehash_from(ledger_path, 11)
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 11
    assert "not the record before it" in report.first_bad.reason


def test_problems_are_listed_in_order_with_the_first_bad_one_first(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    tamper(
        ledger_path,
        ("UPDATE records SET body = ? WHERE seq = 30", ('{"x":1}',)),
        ("UPDATE records SET body = ? WHERE seq = 3", ('{"x":2}',)),
    )
    report = verify_ledger(ledger_path, keyring([key]))
    assert [p.seq for p in report.problems] == [3, 30]
    assert report.to_json()["first_bad"] == {"seq": 3, "reason": report.problems[0].reason}


def test_incremental_verification_resumes_from_a_known_good_record(
    ledger_path: Path, key: SigningKey, chain: list[int]
) -> None:
    first = verify_ledger(ledger_path, keyring([key]))
    assert first.head_hash is not None and first.last_seq is not None
    with Ledger(ledger_path) as ledger:
        fill(ledger, key, 10, every=10)
    later = verify_ledger(ledger_path, keyring([key]), since=(first.last_seq, first.head_hash))
    assert later.ok and later.records == 12 and later.first_seq == 44
    tamper(ledger_path, ("UPDATE records SET hash = ? WHERE seq = 44", ("f" * 64,)))
    broken = verify_ledger(ledger_path, keyring([key]), since=(first.last_seq, first.head_hash))
    assert broken.first_bad is not None and broken.first_bad.seq == 44


def _resign_checkpoints(path: Path, signer: SigningKey | None) -> None:
    """Recompute every link, pointing each checkpoint at the new head hash; re-sign if given a key."""
    from monitor.evidence.records import body_digest, record_hash

    prev = "0" * 64
    updates = []
    formats = row_formats(path)
    for seq, kind, time, body, _, _ in rows(path):
        if kind == "checkpoint":
            data = json.loads(body)
            if signer is not None:
                data = sign_checkpoint(signer, data["seq"], prev, data["time"]).to_json()
            else:
                data["head_hash"] = prev
            body = canonical_json(data)
        new_hash = record_hash(seq, kind, time, body_digest(body), prev, format=formats[seq])
        updates.append(
            ("UPDATE records SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?", (body, prev, new_hash, seq))
        )
        prev = new_hash
    tamper(path, *updates)


def test_a_file_that_is_not_a_ledger_fails_verification(tmp_path: Path) -> None:
    path = tmp_path / "evidence.sqlite3"
    path.write_bytes(b"this is not SQLite" * 100)
    report = verify_ledger(path)
    assert not report.ok and "cannot be read" in str(report.first_bad)


def test_a_read_only_ledger_reads_but_refuses_appends(ledger_path: Path, key: SigningKey, chain: list[int]) -> None:
    from monitor.evidence import LedgerError

    with Ledger(ledger_path, readonly=True) as reader:
        assert reader.length() == 44
        with pytest.raises(LedgerError, match="read-only"):
            reader.append("daemon_start", {})
