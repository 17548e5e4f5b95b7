"""`evidence verify` and `evidence report` with the operator's public key, on ledgers forged by
someone without the private key: each exited 0 and reported "Verified" before."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import Result

from monitor.evidence import Checkpointer, Ledger, SigningKey, prune
from monitor.evidence.signing import public_key_pem
from tests.evidence.conftest import T0, fails_to_passes, rewrite_chain, rows, tamper
from tests.evidence.copies import gcloud_read
from tests.evidence.test_cli import CONFIG, FROM, TO, H, build, invoke

# When build()'s ledger was written: its daemon stopped at 04:00 and signed its head at 04:00:01.
WRITTEN = T0 + 4 * H + timedelta(minutes=1)


@pytest.fixture
def ledger_file(tmp_path: Path, key: SigningKey) -> Path:
    path = tmp_path / "evidence.sqlite3"
    build(path, key)
    return path


@pytest.fixture
def pub(tmp_path: Path, key: SigningKey) -> Path:
    path = tmp_path / "evidence.pub"
    path.write_bytes(public_key_pem(key.public_key))
    return path


def report(ledger: Path, pub: Path, out: Path, *extra: str | Path) -> tuple[Result, str]:
    result = invoke("report", "--ledger", ledger, "--from", FROM, "--to", TO, "--out", out, "--public-key", pub, *extra)
    assert result.exit_code == 0, result.output
    return result, out.read_text()


def assert_not_verified(result: Result, page: str, reason: str) -> None:
    assert "Verified" not in page and "Verification FAILED" in page and reason in page
    assert "; verified" not in result.stdout and "verification FAILED" in result.stdout
    assert "the ledger failed verification" in result.stderr


def test_a_chain_rewritten_from_genesis_with_its_checkpoints_dropped_fails(
    ledger_file: Path, pub: Path, tmp_path: Path
) -> None:
    """Every fail turned into a pass and the chain re-hashed from genesis; the checkpoints,
    which cannot be re-signed without the key, dropped ("no valid checkpoint")."""
    assert any('"status":"fail"' in row[3] for row in rows(ledger_file))
    rewrite_chain(ledger_file, drop=lambda seq, kind: kind == "checkpoint", edit=fails_to_passes)
    assert not any('"status":"fail"' in row[3] for row in rows(ledger_file))
    result = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
    assert result.exit_code == 1, result.stdout
    head = rows(ledger_file)[-1][0]
    assert f"first bad: record {head}: no valid checkpoint signs any of the {head} records from seq 1" in result.stdout
    doc = json.loads(invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--format", "json").stdout)
    assert doc["ok"] is False and doc["anchored_through"] is None
    written, page = report(ledger_file, pub, tmp_path / "report.html")
    assert_not_verified(written, page, "no valid checkpoint signs any of the")


def test_a_newest_checkpoint_older_than_max_unanchored_with_newer_records_fails(
    ledger_file: Path, pub: Path, key: SigningKey, tmp_path: Path
) -> None:
    """The first two hourly checkpoints kept, the later ones dropped and everything after
    them re-hashed (e.g. to rewrite the runs after 02:00): the head at 04:00 then follows a
    checkpoint signed at 01:59:59, over two hours (two checkpoint intervals) before it."""
    second = [row[0] for row in rows(ledger_file) if row[1] == "checkpoint"][1]
    rewrite_chain(ledger_file, drop=lambda seq, kind: kind == "checkpoint" and seq > second)
    with time_machine.travel(WRITTEN, tick=False):
        result = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
        assert result.exit_code == 1, result.stdout
        assert f"(record {second}, 2026-03-02T01:59:59.000000Z) is 2h 1m 1s old, more than max_unanchored (2h)" in (
            result.stdout
        )
        written, page = report(ledger_file, pub, tmp_path / "report.html")
        assert_not_verified(written, page, "more than max_unanchored (2h)")
        # The bound is stated: on the command line, or as evidence.max_unanchored in the config.
        assert invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--max-unanchored", "3h").exit_code == 0
        config = tmp_path / "controlwatch.yaml"
        assert key.source is not None
        config.write_text(CONFIG.format(ledger=ledger_file, key=key.source) + "  max_unanchored: 3h\n")
        assert invoke("verify", "--config", config).exit_code == 0
        assert invoke("verify", "--config", config, "--max-unanchored", "2h").exit_code == 1
    # A day later, even 3h is exceeded: the checkpoint's age is measured now, not at the head.
    with time_machine.travel(WRITTEN + 24 * H, tick=False):
        assert invoke("verify", "--config", config).exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-unanchored", "2 hours"], "is not a duration"),
        (["--max-unanchored", "0s"], "must be longer than 0s"),
        (["--max-unanchored", "90"], "is not a duration"),
    ],
)
def test_a_bad_max_unanchored_exits_2(ledger_file: Path, args: list[str], message: str) -> None:
    result = invoke("verify", "--ledger", ledger_file, *args)
    assert result.exit_code == 2 and message in result.stderr


def test_max_unanchored_does_not_apply_to_an_export(ledger_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    assert invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", out).exit_code == 0
    result = invoke("verify", "--export", out, "--max-unanchored", "2h")
    assert result.exit_code == 2 and "does not apply to --export" in result.stderr
    result = invoke("report", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", tmp_path / "r.html",
                    "--no-verify", "--retained", out)  # fmt: skip
    assert result.exit_code == 2 and "--no-verify skips" in result.stderr


def test_an_emptied_ledger_fails_against_what_the_auditor_kept(
    ledger_file: Path, pub: Path, key: SigningKey, tmp_path: Path
) -> None:
    """Kept outside the ledger: an earlier export, and the Cloud Logging copy read back with
    gcloud. An emptied ledger contradicts the checkpoints and the prune anchor they hold."""
    with Ledger(ledger_file) as ledger:
        assert prune(ledger, T0 + H, key, now=WRITTEN) is not None
        Checkpointer(ledger, key).checkpoint(WRITTEN)  # the writer's next checkpoint signs the anchor
    kept = tmp_path / "kept.jsonl"
    assert invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", kept).exit_code == 0
    copy = gcloud_read(ledger_file, tmp_path / "copy.json")
    anchors_only = tmp_path / "anchors.json"
    entries = json.loads(copy.read_text())
    anchors_only.write_text(json.dumps([e for e in entries if e["labels"]["controlwatch_kind"] == "prune_anchor"]))
    for retained in (kept, copy, anchors_only):
        assert invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--retained", retained).exit_code == 0

    tamper(ledger_file, "DELETE FROM records")
    alone = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
    assert alone.exit_code == 0 and "only a retained checkpoint or prune anchor could show it was emptied" in (
        alone.stdout
    )
    checkpoint = "the ledger is empty, but a retained checkpoint signs seq"
    anchor = "the ledger is empty, but a retained prune anchor says records through seq 15 were pruned"
    for retained, reasons in ((kept, (checkpoint, anchor)), (copy, (checkpoint, anchor)), (anchors_only, (anchor,))):
        result = invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--retained", retained)
        assert result.exit_code == 1, result.stdout
        assert all(reason in result.stdout for reason in reasons), (retained, result.stdout)
        written, page = report(ledger_file, pub, tmp_path / "report.html", "--retained", retained)
        assert_not_verified(written, page, anchor)  # the first problem: the prune anchor names seq 15
