"""Pruning behind a signed anchor: verification starts there; pruning without the key is caught."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.evidence import Ledger, SigningKey, keyring, prune, verify_ledger
from monitor.evidence.canonical import canonical_json, format_time
from monitor.evidence.prune import PruneAnchor
from monitor.evidence.records import RECORD_FORMAT, body_digest, record_hash
from tests.evidence.conftest import T0, fill, rows, tamper

NOW = T0 + timedelta(days=1)


def test_prune_deletes_the_old_prefix_behind_a_signed_anchor(ledger: Ledger, key: SigningKey) -> None:
    fill(ledger, key, 40, every=10)  # runs at T0+0..39 min; checkpoints 11, 22, 33, 44
    result = prune(ledger, T0 + timedelta(minutes=20), key, now=NOW)
    assert result is not None
    # minutes 0..19 are seqs 1..21 (with the checkpoint at 11); the checkpoint 22 is stamped minute 19
    assert result.pruned_through == 22 and result.deleted == 22
    first = ledger.first()
    assert first is not None and first.seq == 23
    anchor = PruneAnchor.from_json(result.anchor.data)
    assert anchor.pruned_through == 22
    assert anchor.pruned_hash == first.prev_hash
    assert anchor.cutoff == format_time(T0 + timedelta(minutes=20))
    assert result.anchor.seq == 45
    report = verify_ledger(ledger.path, keyring([key]))
    assert report.ok, report.summary()
    assert (report.first_seq, report.last_seq, report.records) == (23, 45, 23)


def test_nothing_to_prune(ledger: Ledger, key: SigningKey) -> None:
    assert prune(ledger, T0, key, now=NOW) is None
    fill(ledger, key, 5)
    assert prune(ledger, T0, key, now=NOW) is None
    assert ledger.length() == 5


def test_pruning_twice_and_pruning_everything(ledger: Ledger, key: SigningKey) -> None:
    fill(ledger, key, 30, every=10)
    assert prune(ledger, T0 + timedelta(minutes=10), key, now=NOW) is not None
    assert prune(ledger, T0 + timedelta(minutes=20), key, now=NOW) is not None
    assert verify_ledger(ledger.path, keyring([key])).ok
    everything = prune(ledger, NOW + timedelta(days=1), key, now=NOW)
    assert everything is not None
    report = verify_ledger(ledger.path, keyring([key]))
    assert report.ok, report.summary()
    assert report.records == 1  # only the last anchor is left, and it explains the rest
    ledger.append("daemon_start", {}, time=NOW)
    assert verify_ledger(ledger.path, keyring([key])).ok


def test_deleting_old_rows_without_an_anchor_is_caught(ledger_path: Path, key: SigningKey) -> None:
    with Ledger(ledger_path) as ledger:
        fill(ledger, key, 40, every=10)
    tamper(ledger_path, "DELETE FROM records WHERE seq <= 22")
    report = verify_ledger(ledger_path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 23
    assert "records 1..22 are missing and no prune anchor accounts for them" in report.first_bad.reason


def test_a_forged_anchor_is_caught(ledger_path: Path, key: SigningKey, other_key: SigningKey) -> None:
    """Old rows deleted and an anchor written by someone holding another key, or no key."""
    with Ledger(ledger_path) as ledger:
        fill(ledger, key, 40, every=10)
    pruned_hash = rows(ledger_path)[21][5]
    tamper(ledger_path, "DELETE FROM records WHERE seq <= 22")
    for signer, expected in ((other_key, "not validly signed"), (None, "not validly signed")):
        with Ledger(ledger_path) as ledger:
            head = ledger.head()
            assert head is not None
            stamp = format_time(NOW)
            if signer is not None:
                unsigned = PruneAnchor(22, pruned_hash, stamp, stamp, signer.key_id, "")
                anchor = PruneAnchor(22, pruned_hash, stamp, stamp, signer.key_id, signer.sign(unsigned.statement()))
            else:
                anchor = PruneAnchor(22, pruned_hash, stamp, stamp, key.key_id, "00" * 64)
            body = canonical_json(anchor.to_json())
            seq = head.seq + 1
            tamper(
                ledger_path,
                (
                    "INSERT INTO records (seq, kind, time, body, prev_hash, hash, format)"
                    " VALUES (?, 'prune_anchor', ?, ?, ?, ?, ?)",
                    (
                        seq,
                        stamp,
                        body,
                        head.hash,
                        record_hash(seq, "prune_anchor", stamp, body_digest(body), head.hash, format=RECORD_FORMAT),
                        RECORD_FORMAT,
                    ),
                ),
            )
        report = verify_ledger(ledger_path, keyring([key]))
        assert report.first_bad is not None and report.first_bad.seq == 23
        assert expected in report.first_bad.reason
        tamper(ledger_path, f"DELETE FROM records WHERE seq = {seq}")


def test_deleting_more_than_the_anchor_says_is_caught(ledger: Ledger, key: SigningKey) -> None:
    fill(ledger, key, 40, every=10)
    assert prune(ledger, T0 + timedelta(minutes=10), key, now=NOW) is not None
    ledger.close()
    tamper(ledger.path, "DELETE FROM records WHERE seq <= 15")
    report = verify_ledger(ledger.path, keyring([key]))
    assert report.first_bad is not None and report.first_bad.seq == 16
    assert "missing" in report.first_bad.reason


def test_prune_survives_reopening_and_keeps_appending(ledger_path: Path, key: SigningKey) -> None:
    with Ledger(ledger_path) as ledger:
        fill(ledger, key, 20, every=10)
        prune(ledger, T0 + timedelta(minutes=5), key, now=NOW)
    with Ledger(ledger_path) as ledger:
        ledger.append("daemon_start", {}, time=NOW)
    assert verify_ledger(ledger_path, keyring([key])).ok
