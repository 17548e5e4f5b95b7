"""With the public key and a bound on the unsigned tail, a forger without the key cannot pass
`verify_ledger` by dropping checkpoints, and an emptied ledger fails against what was retained.

Each forgery here verified before `max_unanchored` and retained prune anchors existed."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.evidence import (
    Checkpoint,
    Checkpointer,
    Ledger,
    PruneAnchor,
    SigningKey,
    export,
    keyring,
    prune,
    verify_ledger,
)
from monitor.evidence.retained import read_retained
from tests.evidence.conftest import T0, fails_to_passes, fill, rewrite_chain, rows, run_body, tamper

H = timedelta(hours=1)
LIMIT = 2 * H
# fill(): runs a minute apart from T0, so the last of 40 ends at 00:39 and its checkpoint signs it then.
HEAD_TIME = T0 + timedelta(minutes=39)


def soon() -> datetime:
    return HEAD_TIME + timedelta(minutes=5)


@pytest.fixture
def chain(ledger: Ledger, key: SigningKey) -> None:
    """40 runs of FW-01 a minute apart from T0, failing from the 5th to the 14th, and a
    checkpoint after every 10 (seqs 11, 22, 33, 44: the last signs the head at 00:39)."""
    checkpointer = Checkpointer(ledger, key)
    for index in range(40):
        moment = T0 + timedelta(minutes=index)
        status = "fail" if 4 <= index < 14 else "pass"
        ledger.append("control_run", run_body("FW-01", "shop-prod", moment, status), time=moment)
        if (index + 1) % 10 == 0:
            checkpointer.checkpoint(moment)
    ledger.close()


def test_a_chain_rewritten_from_genesis_with_its_checkpoints_dropped_fails(
    ledger_path: Path, key: SigningKey, chain: None
) -> None:
    """Every fail turned into a pass, the chain re-hashed from genesis, the checkpoints (which
    the forger cannot re-sign) removed: consistent, and signed by nothing."""
    rewrite_chain(ledger_path, drop=lambda seq, kind: kind == "checkpoint", edit=fails_to_passes)
    assert '"status":"fail"' not in "".join(row[3] for row in rows(ledger_path))
    report = verify_ledger(ledger_path, keyring([key]), max_unanchored=LIMIT, clock=soon)
    assert not report.ok
    assert report.first_bad is not None and report.first_bad.seq == 40
    assert "no valid checkpoint signs any of the 40 records from seq 1" in report.first_bad.reason
    assert report.anchored_through is None
    # Without the bound (the library's default) it is reported as unanchored, as before.
    assert verify_ledger(ledger_path, keyring([key]), clock=soon).unanchored == 40
    # The bound needs the key: without it nothing is signed to bound anything.
    assert verify_ledger(ledger_path, None, max_unanchored=LIMIT, clock=soon).ok


def test_a_newest_checkpoint_older_than_the_bound_with_newer_records_fails(
    ledger_path: Path, key: SigningKey, chain: None
) -> None:
    """The forger keeps the first checkpoint (00:09) and rewrites everything after it: the
    records up to 00:39 follow a checkpoint that is 30 minutes older than the head."""
    rewrite_chain(ledger_path, drop=lambda seq, kind: kind == "checkpoint" and seq > 11)
    limit = timedelta(minutes=20)
    report = verify_ledger(ledger_path, keyring([key]), max_unanchored=limit, clock=lambda: HEAD_TIME)
    assert not report.ok and report.first_bad is not None
    assert report.first_bad.seq == report.last_seq == 41
    assert "records 12..41 are not anchored" in report.first_bad.reason
    assert "(record 11, 2026-03-02T00:09:00.000000Z) is 30m old, more than max_unanchored (20m)" in (
        report.first_bad.reason
    )
    assert verify_ledger(ledger_path, keyring([key]), max_unanchored=H, clock=lambda: HEAD_TIME).ok


def test_the_age_of_the_newest_checkpoint_is_measured_at_the_verifiers_clock(
    ledger_path: Path, key: SigningKey, chain: None
) -> None:
    """A forger who stamps the forged tail close after the checkpoint they kept is caught
    once the checkpoint is older than the bound: a running writer would have signed since."""
    with Ledger(ledger_path) as ledger:
        fill(ledger, None, 3, start=HEAD_TIME)  # unsigned, stamped right after the last checkpoint
    keys = keyring([key])
    fresh = verify_ledger(ledger_path, keys, max_unanchored=LIMIT, clock=soon)
    assert fresh.ok and fresh.unanchored == 3
    note = "the newest valid checkpoint is 5m old: records after it pass until it is older than max_unanchored (2h)"
    assert note in fresh.notes
    late = verify_ledger(ledger_path, keys, max_unanchored=LIMIT, clock=lambda: HEAD_TIME + 3 * H)
    assert not late.ok and late.first_bad is not None and late.first_bad.seq == 47
    assert "records 45..47 are not anchored" in late.first_bad.reason and "is 3h old" in late.first_bad.reason
    # A ledger whose head is a checkpoint has no unsigned tail: it verifies however old it is.
    tamper(ledger_path, "DELETE FROM records WHERE seq > 44")
    assert verify_ledger(ledger_path, keys, max_unanchored=LIMIT, clock=lambda: HEAD_TIME + 400 * 24 * H).ok


def test_an_incremental_verification_measures_from_the_checkpoint_before_it(
    ledger_path: Path, key: SigningKey, chain: None
) -> None:
    keys = keyring([key])
    first = verify_ledger(ledger_path, keys, max_unanchored=LIMIT, clock=soon)
    assert first.ok and first.last_seq is not None and first.head_hash is not None
    with Ledger(ledger_path) as ledger:
        fill(ledger, None, 2, start=HEAD_TIME)
    since = (first.last_seq, first.head_hash)
    assert verify_ledger(ledger_path, keys, since=since, max_unanchored=LIMIT, clock=soon).ok
    late = verify_ledger(ledger_path, keys, since=since, max_unanchored=LIMIT, clock=lambda: HEAD_TIME + 3 * H)
    assert late.first_bad is not None and "newest valid checkpoint (record 44" in late.first_bad.reason


# --- emptied and truncated, against what was retained ------------------------------------------


@pytest.fixture
def pruned(ledger_path: Path, key: SigningKey, chain: None) -> PruneAnchor:
    """The 20 oldest records pruned behind a signed anchor (record 45)."""
    with Ledger(ledger_path) as ledger:
        result = prune(ledger, T0 + timedelta(minutes=19), key, now=HEAD_TIME + H)
    assert result is not None and result.pruned_through == 20
    return PruneAnchor.from_json(json.loads(result.anchor.body))


def test_an_emptied_ledger_fails_against_a_retained_prune_anchor(
    ledger_path: Path, key: SigningKey, pruned: PruneAnchor
) -> None:
    keys = keyring([key])
    assert verify_ledger(ledger_path, keys, retained=[pruned]).ok
    tamper(ledger_path, "DELETE FROM records")
    alone = verify_ledger(ledger_path, keys)
    assert alone.ok and "only a retained checkpoint or prune anchor could show it was emptied" in alone.summary()
    report = verify_ledger(ledger_path, keys, retained=[pruned])
    assert report.first_bad is not None and report.first_bad.seq == 20
    assert "the ledger is empty, but a retained prune anchor says records through seq 20 were pruned" in (
        report.first_bad.reason
    )


def test_an_emptied_ledger_fails_against_a_retained_checkpoint_saying_so(
    ledger_path: Path, key: SigningKey, chain: None
) -> None:
    last = Checkpoint.from_json(json.loads(rows(ledger_path)[-1][3]))
    tamper(ledger_path, "DELETE FROM records")
    report = verify_ledger(ledger_path, keyring([key]), retained=[last])
    assert report.first_bad is not None
    assert str(report.first_bad) == (
        "record 43: the ledger is empty, but a retained checkpoint signs seq 43: its records were removed"
    )


def test_a_retained_prune_anchor_catches_truncation(
    ledger_path: Path, key: SigningKey, other_key: SigningKey, chain: None, tmp_path: Path
) -> None:
    """An anchor kept from a later, pruned state of the ledger: an older copy of it (a
    restored backup, say) must still reach past the records the anchor says were pruned."""
    later = tmp_path / "later.sqlite3"
    shutil.copy(ledger_path, later)
    with Ledger(later) as ledger:
        result = prune(ledger, T0 + timedelta(minutes=19), key, now=HEAD_TIME + H)
    assert result is not None
    anchor = PruneAnchor.from_json(json.loads(result.anchor.body))
    keys = keyring([key])
    assert verify_ledger(ledger_path, keys, retained=[anchor]).ok
    tamper(ledger_path, "DELETE FROM records WHERE seq > 20")
    cut = verify_ledger(ledger_path, keys, retained=[anchor])
    assert cut.first_bad is not None and cut.first_bad.seq == 20
    assert "ends at seq 20: records were removed from the tail (truncation)" in cut.first_bad.reason
    # A prune anchor is believed only when the key signed it.
    forged = PruneAnchor(20, "0" * 64, anchor.cutoff, anchor.time, "", "").signed_with(other_key)
    report = verify_ledger(ledger_path, keys, retained=[forged])
    assert report.first_bad is not None and "retained prune anchor signed by unknown key id" in report.first_bad.reason


def test_a_start_that_does_not_link_to_a_retained_prune_anchor_fails(
    ledger_path: Path, key: SigningKey, pruned: PruneAnchor
) -> None:
    tamper(ledger_path, ("UPDATE records SET prev_hash = ? WHERE seq = 21", ("ab" * 32,)))
    report = verify_ledger(ledger_path, keyring([key]), retained=[pruned])
    reasons = [str(problem) for problem in report.problems]
    assert "record 21: does not link to record 20 as a retained prune anchor names it" in reasons


# --- what can be retained -------------------------------------------------------------------------


def test_an_export_retains_its_checkpoints_and_prune_anchor(
    ledger_path: Path, key: SigningKey, pruned: PruneAnchor, tmp_path: Path
) -> None:
    out = tmp_path / "kept.jsonl"
    with Ledger(ledger_path, readonly=True) as ledger:
        export(ledger, T0, T0 + H, out=out, now=HEAD_TIME + H)
    statements = read_retained(out)
    assert {s.seq for s in statements if isinstance(s, Checkpoint)} == {21, 32, 43}
    assert [s for s in statements if isinstance(s, PruneAnchor)] == [pruned, pruned]  # the header's, and the record


def test_a_cloud_logging_copy_read_back_with_gcloud_is_retained(
    ledger_path: Path, key: SigningKey, pruned: PruneAnchor, tmp_path: Path
) -> None:
    from tests.evidence.copies import gcloud_read

    copy = gcloud_read(ledger_path, tmp_path / "copy.json")
    statements = read_retained(copy)
    assert {s.seq for s in statements if isinstance(s, Checkpoint)} == {21, 32, 43}
    assert [s for s in statements if isinstance(s, PruneAnchor)] == [pruned]
    lines = tmp_path / "copy.jsonl"
    lines.write_text("".join(json.dumps(entry) + "\n" for entry in json.loads(copy.read_text())))
    assert read_retained(lines) == statements


@pytest.mark.parametrize("text", ["not json\n", '{"type": "footer"}\n', "[1, 2]"])
def test_a_file_that_is_neither_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(text)
    with pytest.raises(ValueError):
        read_retained(path)
