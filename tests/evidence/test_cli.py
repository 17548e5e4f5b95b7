"""`controlwatch evidence verify|export|sample|report` on ledgers built here, with exit codes."""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result

from monitor.commands.evidence import parse_moment
from monitor.commands.main import cli
from monitor.evidence import (
    Checkpointer,
    Ledger,
    SigningKey,
    baseline_approved_body,
    daemon_start_body,
    daemon_stop_body,
    export,
    sweep_population_body,
)
from monitor.evidence.canonical import format_time
from monitor.evidence.signing import public_key_pem
from tests.evidence.conftest import INTERVAL, T0, edit_body, rows, run_body, tamper

H = timedelta(hours=1)
PAIRS = (("FW-01", "shop-prod"), ("IAM-01", "shop-prod"), ("FW-01", "shop-dev"))
FROM, TO = "2026-03-02", "2026-03-02T04:00:00Z"
CONFIG = """\
scopes:
  projects:
    - id: shop-prod
evidence:
  path: {ledger}
  signing_key_file: {key}
"""


def build(path: Path, key: SigningKey | None) -> None:
    """Four hours from T0, as the daemon writes them: start, population, three pairs every 15
    minutes (FW-01 in shop-prod fails 01:00-02:00; shop-dev is down 02:00-03:00), a baseline
    approval, a checkpoint every hour, and a stop at 04:00 followed by a last checkpoint."""
    with Ledger(path) as ledger:
        checkpointer = Checkpointer(ledger, key) if key is not None else None
        ledger.append(
            "daemon_start",
            daemon_start_body(version="0.1.0", mode="live", scopes=["shop-prod", "shop-dev"], pid=4242),
            time=T0,
        )
        ledger.append(
            "sweep_population",
            sweep_population_body(
                ["shop-prod", "shop-dev"],
                T0,
                T0,
                controls={"shop-prod": ["FW-01", "IAM-01"], "shop-dev": ["FW-01"]},
                interval=INTERVAL,
            ),
            time=T0,
        )
        moment = T0
        while moment < T0 + 4 * H:
            for control, scope in PAIRS:
                if scope == "shop-dev" and T0 + 2 * H <= moment < T0 + 3 * H:
                    continue
                failing = control == "FW-01" and scope == "shop-prod" and T0 + H <= moment < T0 + 2 * H
                ledger.append(
                    "control_run",
                    run_body(control, scope, moment, "fail" if failing else "pass", reason="SSH open to 0.0.0.0/0"),
                    time=moment,
                )
            if moment == T0 + 90 * timedelta(minutes=1):
                ledger.append(
                    "baseline_approved",
                    baseline_approved_body(
                        scope="shop-prod", approver="alice@example.be", baseline_digest="ab" * 32, controls=["DRIFT-01"]
                    ),
                    time=moment,
                )
            moment += INTERVAL
            if checkpointer is not None and (moment - T0) % H == timedelta(0):
                checkpointer.checkpoint(moment - timedelta(seconds=1))
        ledger.append("daemon_stop", daemon_stop_body(reason="SIGTERM", pid=4242), time=T0 + 4 * H)
        if checkpointer is not None:
            checkpointer.checkpoint(T0 + 4 * H + timedelta(seconds=1))


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


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["evidence", *(str(a) for a in args)], catch_exceptions=False)


def seq_of(path: Path, kind: str, index: int = 0) -> int:
    return [r[0] for r in rows(path) if r[1] == kind][index]


# --- verify --------------------------------------------------------------------------------------


def test_verify_a_good_ledger_exit_0(ledger_file: Path, pub: Path) -> None:
    result = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout and "FAILED" not in result.stdout
    assert "NOT checked" not in result.stdout
    doc = json.loads(invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--format", "json").stdout)
    assert doc["ok"] is True and doc["signatures_checked"] is True
    assert doc["last_seq"] == len(rows(ledger_file)) and doc["unanchored"] == 0
    assert doc["first_bad"] is None


def test_verify_without_a_key_says_signatures_were_not_checked(ledger_file: Path) -> None:
    result = invoke("verify", "--ledger", ledger_file)
    assert result.exit_code == 0
    assert "signatures NOT checked" in result.stdout


def test_a_tampered_ledger_fails_naming_the_first_bad_record(ledger_file: Path, pub: Path) -> None:
    seq = seq_of(ledger_file, "control_run", 9)
    edit_body(ledger_file, seq, status="pass", counts={"pass": 1, "fail": 0})
    result = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
    assert result.exit_code == 1
    assert f"first bad: record {seq}: hash mismatch" in result.stdout
    doc = json.loads(invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--format", "json").stdout)
    assert doc["ok"] is False and doc["first_bad"]["seq"] == seq


def test_a_deleted_record_is_named_too(ledger_file: Path, pub: Path) -> None:
    seq = seq_of(ledger_file, "control_run", 20)
    tamper(ledger_file, f"DELETE FROM records WHERE seq = {seq}")
    result = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
    assert result.exit_code == 1
    assert f"record {seq + 1}: records {seq}..{seq} are missing (deleted)" in result.stdout


def test_a_key_that_did_not_sign_fails(ledger_file: Path, other_key: SigningKey, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.pub"
    wrong.write_bytes(public_key_pem(other_key.public_key))
    result = invoke("verify", "--ledger", ledger_file, "--public-key", wrong)
    assert result.exit_code == 1
    assert "unknown key id" in result.stdout


def test_config_gives_the_ledger_and_the_public_key(ledger_file: Path, key: SigningKey, tmp_path: Path) -> None:
    assert key.source is not None and Path(f"{key.source}.pub").exists()
    config = tmp_path / "controlwatch.yaml"
    config.write_text(CONFIG.format(ledger=ledger_file, key=key.source))
    doc = json.loads(invoke("verify", "--config", config, "--format", "json").stdout)
    assert doc["ok"] is True and doc["signatures_checked"] is True
    # Without the .pub beside it, the public half of the private key is used.
    lone = tmp_path / "lone" / "evidence.pem"
    lone.parent.mkdir()
    shutil.copy(key.source, lone)
    config.write_text(CONFIG.format(ledger=ledger_file, key=lone))
    result = invoke("verify", "--config", config, "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["signatures_checked"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ledger", "{tmp}/nowhere.sqlite3"], "no evidence ledger at"),
        (["--ledger", "{ledger}", "--public-key", "{tmp}/missing.pub"], "cannot read public key"),
        (["--ledger", "{ledger}", "--public-key", "{tmp}/garbage.pub"], "expected a PEM Ed25519 public key"),
        (["--export", "{tmp}/missing.jsonl"], "no export at"),
        (["--export", "{tmp}/x.jsonl", "--ledger", "{ledger}"], "--ledger does not apply"),
        (["--ledger", "{ledger}", "--retained", "{tmp}/garbage.pub"], "not a controlwatch evidence export"),
    ],
)
def test_verify_usage_errors_exit_2_in_one_line(
    ledger_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "garbage.pub").write_text("not a key\n")
    filled = [a.format(tmp=tmp_path, ledger=ledger_file) for a in args]
    result = invoke("verify", *filled)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_verify_catches_truncation_against_a_retained_export(ledger_file: Path, pub: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.jsonl"
    assert invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", kept).exit_code == 0
    last_checkpoint = seq_of(ledger_file, "checkpoint", -1)
    tamper(ledger_file, f"DELETE FROM records WHERE seq >= {last_checkpoint - 5}")
    # Alone, a ledger cut before its last checkpoints still verifies while its unsigned tail is
    # younger than evidence.max_unanchored (here: checked when it was cut) ...
    with time_machine.travel(T0 + 4 * H, tick=False):
        assert invoke("verify", "--ledger", ledger_file, "--public-key", pub).exit_code == 0
    # (later, that unsigned tail gives it away: no running writer leaves its head unsigned so long)
    later = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
    assert later.exit_code == 1 and "more than max_unanchored (2h)" in later.stdout
    # ... the checkpoints an auditor kept from an earlier export do not.
    result = invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--retained", kept)
    assert result.exit_code == 1
    assert "truncation" in result.stdout


# --- export --------------------------------------------------------------------------------------


def test_export_then_verify_it_alone_with_the_public_key(ledger_file: Path, pub: Path, tmp_path: Path) -> None:
    out = tmp_path / "q1.jsonl"
    result = invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--format", "jsonl", "--out", out)
    assert result.exit_code == 0, result.output
    runs = sum(1 for r in rows(ledger_file) if r[1] == "control_run")
    assert f"exported {runs + 3} records" in result.stdout  # + start, population, approval; the stop is at --to
    checked = invoke("verify", "--export", out, "--public-key", pub, "--format", "json")
    assert checked.exit_code == 0, checked.stdout
    doc = json.loads(checked.stdout)
    assert doc["ok"] and doc["signatures_checked"] and doc["exported"] == runs + 3
    # An auditor's copy edited afterwards fails, naming the record.
    lines = out.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"status":"fail"' in line)
    record = json.loads(lines[index])
    lines[index] = lines[index].replace('"status":"fail"', '"status":"pass"')
    out.write_text("\n".join(lines) + "\n")
    failed = invoke("verify", "--export", out, "--public-key", pub)
    assert failed.exit_code == 1
    assert f"record {record['seq']}: hash mismatch" in failed.stdout


def test_csv_export_verifies_through_its_chain_sidecar(ledger_file: Path, pub: Path, tmp_path: Path) -> None:
    out = tmp_path / "fw.csv"
    result = invoke(
        "export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--control", "FW-01", "--scope", "shop-prod",
        "--format", "csv", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert Path(f"{out}.chain.jsonl").exists()
    table = out.read_text().splitlines()
    assert table[0].startswith("time,control,scope,status")
    assert len(table) == 1 + 16 and all(",FW-01,shop-prod," in line for line in table[1:])
    assert sum(",fail," in line for line in table[1:]) == 4
    assert invoke("verify", "--export", out, "--public-key", pub).exit_code == 0
    Path(f"{out}.chain.jsonl").unlink()
    missing = invoke("verify", "--export", out, "--public-key", pub)
    assert missing.exit_code == 2 and "chain sidecar" in missing.stderr


def test_dates_are_utc_from_inclusive_to_exclusive(ledger_file: Path, tmp_path: Path) -> None:
    def exported(start: str, end: str) -> list[str]:
        out = tmp_path / "part.jsonl"
        result = invoke("export", "--ledger", ledger_file, "--from", start, "--to", end, "--out", out)
        assert result.exit_code == 0, result.output
        doc = [json.loads(line) for line in out.read_text().splitlines()]
        return [d["time"] for d in doc if d["type"] == "record" and d["kind"] == "control_run"]

    hour = exported("2026-03-02T01:00:00Z", "2026-03-02T02:00:00Z")
    assert hour[0] == format_time(T0 + H) and hour[-1] == format_time(T0 + H + 45 * timedelta(minutes=1))
    assert len(hour) == 4 * 3
    # the same hour written with an offset, and naive (taken as UTC)
    assert exported("2026-03-02T02:00:00+01:00", "2026-03-02T03:00:00+01:00") == hour
    assert exported("2026-03-02T01:00:00", "2026-03-02 02:00:00") == hour
    assert parse_moment("2026-03-02") == T0
    assert parse_moment("2026-03-02t00:30:00z") == T0 + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-03", "2026-03-02", "is not after --from"),
        ("2026-03-02", "2026-03-02", "the period [from, to) is empty"),
        ("yesterday", "2026-03-02", "neither a date"),
        ("2026-03-02", "2026-13-40", "neither a date"),
        ("2026-03-02", "20260303", "neither a date"),
    ],
)
def test_bad_dates_exit_2(ledger_file: Path, tmp_path: Path, start: str, end: str, message: str) -> None:
    for command in (
        ["export", "--out", str(tmp_path / "x.jsonl")],
        ["sample", "--count", "3", "--seed", "1"],
        ["report", "--out", str(tmp_path / "x.html")],
    ):
        result = invoke(*command, "--ledger", ledger_file, "--from", start, "--to", end)
        assert result.exit_code == 2, (command, result.output)
        assert message in result.stderr
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "x.html").exists()


def test_export_of_records_after_the_last_checkpoint_warns(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "fresh.sqlite3"
    with Ledger(path) as ledger:
        ledger.append("control_run", run_body("FW-01", "shop-prod", T0), time=T0)
    result = invoke("export", "--ledger", path, "--from", FROM, "--to", TO, "--out", tmp_path / "early.jsonl")
    assert result.exit_code == 0
    assert "not yet covered by a signed checkpoint" in result.stderr


# --- sample --------------------------------------------------------------------------------------


def test_sample_same_seed_same_output(ledger_file: Path) -> None:
    args: list[str | Path] = [
        "sample",
        "--ledger",
        ledger_file,
        "--from",
        FROM,
        "--to",
        TO,
        "--count",
        "12",
        "--seed",
        "audit-2026",
    ]
    first, again = invoke(*args), invoke(*args)
    assert first.exit_code == 0 and first.stdout == again.stdout
    other = invoke(*args[:-1], "another-seed")
    assert other.stdout != first.stdout
    lines = first.stdout.splitlines()
    assert "12 samples" in lines[0] and "seed 'audit-2026'" in lines[0] and "3 (control, scope) pairs" in lines[0]
    assert lines[1].split()[:5] == ["#", "moment", "(UTC)", "control", "scope"]
    assert len(lines) == 2 + 12


def test_sample_json_gives_the_proving_record_or_the_gap(ledger_file: Path) -> None:
    result = invoke(
        "sample", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--count", "60", "--seed", "7",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["population"] == [["FW-01", "shop-dev"], ["FW-01", "shop-prod"], ["IAM-01", "shop-prod"]]
    assert doc["seed"] == "7" and doc["method"] == "controlwatch-sample/v1" and len(doc["samples"]) == 60
    by_seq = {r[0]: r for r in rows(ledger_file)}
    states = set()
    for item in doc["samples"]:
        assert set(item) >= {"moment", "control", "scope", "state", "seq", "hash", "note"}
        states.add(item["state"])
        if item["state"] == "gap":
            assert item["scope"] == "shop-dev" and "no evidence" in item["note"]
            continue
        record = by_seq[item["seq"]]
        assert record[5] == item["hash"] and record[1] == "control_run"
        body = json.loads(record[3])
        assert (body["control"], body["scope"], body["status"]) == (item["control"], item["scope"], item["state"])
        assert body["ended"] <= item["moment"]
    assert "pass" in states and "gap" in states


def test_sample_narrowed_and_empty(ledger_file: Path) -> None:
    result = invoke(
        "sample", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--count", "5", "--seed", "1",
        "--control", "IAM-01", "--format", "json",
    )  # fmt: skip
    assert {(s["control"], s["scope"]) for s in json.loads(result.stdout)["samples"]} == {("IAM-01", "shop-prod")}
    empty = invoke("sample", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--count", "5", "--seed", "1",
                   "--scope", "nowhere")  # fmt: skip
    assert empty.exit_code == 0 and "no (control, scope) was monitored" in empty.stdout
    # After the daemon stopped, the population it declared is still due: every sample is a gap.
    later = invoke("sample", "--ledger", ledger_file, "--from", "2026-06-01", "--to", "2026-06-02", "--count", "5",
                   "--seed", "1", "--format", "json")  # fmt: skip
    assert {s["state"] for s in json.loads(later.stdout)["samples"]} == {"gap"}
    assert (
        invoke("sample", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--count", "0", "--seed", "1").exit_code
        == 2
    )


# --- report --------------------------------------------------------------------------------------


def test_report_writes_a_verified_self_contained_html(ledger_file: Path, pub: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke(
        "report", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", out, "--public-key", pub,
        "--title", "Q1 <controls>",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    head = rows(ledger_file)[-1]
    assert f"ledger head seq {head[0]}; verified" in result.stdout
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Q1 &lt;controls&gt;</title>" in page
    assert "Verified: every hash, link and checkpoint signature checks out." in page
    assert head[5] in page
    assert "75.0%" in page  # FW-01 in shop-prod failed one hour of four
    assert "resolved (passing) at 2026-03-02 02:00:00" in page
    assert "alice@example.be" in page and "daemon stopped" not in page  # the stop is at --to (exclusive)
    assert "<script" not in page and "<link" not in page and "http://" not in page and "https://" not in page


def test_report_on_a_tampered_ledger_says_so(ledger_file: Path, pub: Path, tmp_path: Path) -> None:
    seq = seq_of(ledger_file, "control_run", 3)
    edit_body(ledger_file, seq, status="fail")
    out = tmp_path / "report.html"
    result = invoke("report", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", out, "--public-key", pub)
    assert result.exit_code == 0
    assert f"record {seq}" in result.stderr
    page = out.read_text()
    assert "Verification FAILED" in page and f"record {seq}: hash mismatch" in page
    unverified = invoke("report", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", out, "--no-verify")
    assert unverified.exit_code == 0 and "Not verified." in out.read_text()


def test_report_without_a_ledger_exit_2(tmp_path: Path) -> None:
    result = invoke(
        "report", "--ledger", tmp_path / "none.sqlite3", "--from", FROM, "--to", TO, "--out", tmp_path / "r.html"
    )
    assert result.exit_code == 2 and "no evidence ledger at" in result.stderr


@pytest.mark.parametrize("command", ["verify", "report", "export", "sample"])
def test_a_fifo_given_as_the_ledger_is_named_for_what_it_is(tmp_path: Path, command: str) -> None:
    """SQLite would block opening a FIFO or call it missing; the message says what the path is."""
    fifo = tmp_path / "evidence.sqlite3"
    os.mkfifo(fifo)
    period = [] if command == "verify" else ["--from", FROM, "--to", TO]
    out = {
        "report": ["--out", str(tmp_path / "r.html")],
        "export": ["--out", str(tmp_path / "e.jsonl")],
        "sample": ["--count", "3", "--seed", "s"],
    }.get(command, [])
    result = invoke(command, "--ledger", fifo, *period, *out)
    assert result.exit_code == 2, result.output
    assert f"{fifo}: is a FIFO (named pipe), not a regular file" in result.stderr
    assert "no evidence ledger" not in result.stderr


def test_unreadable_ledger_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = invoke("export", "--ledger", junk, "--from", FROM, "--to", TO, "--out", tmp_path / "x.jsonl")
    assert result.exit_code == 2 and "cannot" in result.stderr and "Traceback" not in result.output
    # verify reports an unreadable ledger as a failed verification
    assert invoke("verify", "--ledger", junk).exit_code == 1


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["evidence", "--help"])
    assert result.exit_code == 0
    for command in ("verify", "export", "sample", "report"):
        assert command in result.stdout
    assert "evidence" in CliRunner().invoke(cli, ["--help"]).stdout


def test_the_api_and_the_cli_export_the_same(ledger_file: Path, tmp_path: Path) -> None:
    """The CLI adds nothing of its own to an export: same bytes as `export()` but for the time stamp."""
    out = tmp_path / "cli.jsonl"
    assert invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", out).exit_code == 0
    direct = tmp_path / "api.jsonl"
    with Ledger(ledger_file, readonly=True) as ledger:
        export(ledger, T0, T0 + 4 * H, out=direct)

    def strip(text: str) -> list[dict[str, object]]:
        docs = [json.loads(line) for line in text.splitlines()]
        docs[0].pop("exported_at")
        return docs

    assert strip(out.read_text()) == strip(direct.read_text())


def test_export_warns_when_the_ledger_does_not_reach_the_end_of_the_period(
    ledger_file: Path, pub: Path, tmp_path: Path
) -> None:
    out = tmp_path / "day.jsonl"
    result = invoke("export", "--ledger", ledger_file, "--from", FROM, "--to", "2026-03-03", "--out", out)
    assert result.exit_code == 0
    assert "holds no record after 2026-03-02T04:00:01.000000Z, before the end of the period" in result.stderr
    assert "not yet covered by a signed checkpoint" not in result.stderr  # its last record is a checkpoint
    checked = invoke("verify", "--export", out, "--public-key", pub)
    assert checked.exit_code == 1 and "before the end of the period" in checked.stdout


# --- the bundled TEST key: its signatures prove nothing, and every output says so ---------------


@pytest.fixture
def test_key_ledger(tmp_path: Path) -> tuple[Path, Path]:
    from monitor.evidence.signing import demo_key

    key = demo_key()
    path, pub = tmp_path / "demo.sqlite3", tmp_path / "demo.pub"
    build(path, key)
    pub.write_bytes(public_key_pem(key.public_key))
    return path, pub


def test_verify_with_the_test_key_warns_that_it_proves_nothing(test_key_ledger: tuple[Path, Path]) -> None:
    path, pub = test_key_ledger
    result = invoke("verify", "--ledger", path, "--public-key", pub)
    assert result.exit_code == 0, result.output  # the chain is intact; the warning is about what that is worth
    assert "WARNING: the signatures were checked with the bundled TEST key" in result.stdout
    assert "prove nothing" in result.stdout
    doc = json.loads(invoke("verify", "--ledger", path, "--public-key", pub, "--format", "json").stdout)
    assert doc["test_key"] is True and doc["ok"] is True


def test_verify_with_an_own_key_has_no_test_key_warning(ledger_file: Path, pub: Path) -> None:
    result = invoke("verify", "--ledger", ledger_file, "--public-key", pub)
    assert "TEST key" not in result.stdout
    assert json.loads(invoke("verify", "--ledger", ledger_file, "--public-key", pub, "--format", "json").stdout)[
        "test_key"
    ] is False


def test_an_export_signed_with_the_test_key_warns_too(test_key_ledger: tuple[Path, Path], tmp_path: Path) -> None:
    path, pub = test_key_ledger
    out = tmp_path / "period.jsonl"
    exported = invoke("export", "--ledger", path, "--from", FROM, "--to", TO, "--format", "jsonl", "--out", out)
    assert exported.exit_code == 0, exported.output
    result = invoke("verify", "--export", out, "--public-key", pub)
    assert result.exit_code == 0, result.output
    assert "WARNING: the signatures were checked with the bundled TEST key" in result.stdout


def test_a_report_signed_with_the_test_key_says_so_prominently(
    test_key_ledger: tuple[Path, Path], tmp_path: Path
) -> None:
    path, pub = test_key_ledger
    out = tmp_path / "report.html"
    result = invoke("report", "--ledger", path, "--from", FROM, "--to", TO, "--out", out, "--public-key", pub)
    assert result.exit_code == 0, result.output
    assert "signed with the public TEST key (proves nothing)" in result.stdout
    assert "warning: the signatures were checked with the bundled TEST key" in result.stderr
    page = out.read_text()
    assert '<div class="verdict bad"><strong>Signed with the bundled public TEST key' in page
    assert "Verified: every hash" not in page


# --- a period that has not ended: reported and sampled up to now, never beyond ---------------


def test_a_period_that_starts_in_the_future_has_nothing_recorded(ledger_file: Path, tmp_path: Path) -> None:
    with time_machine.travel(T0 - H, tick=False):
        sampled = invoke("sample", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--count", "3", "--seed", "1")
        reported = invoke("report", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", tmp_path / "r.html")
    for result in (sampled, reported):
        assert result.exit_code == 2
        assert "is not before now" in result.stderr and "nothing in the period has been recorded yet" in result.stderr


def test_samples_of_an_open_period_are_drawn_only_from_moments_already_recorded(ledger_file: Path) -> None:
    now = T0 + 90 * timedelta(minutes=1)  # the period [00:00, 04:00) is half over; the daemon runs every 15 min
    with time_machine.travel(now, tick=False):
        result = invoke("sample", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--count", "200", "--seed", "7",
                        "--format", "json")  # fmt: skip
        text = invoke("sample", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--count", "5", "--seed", "7")
    doc = json.loads(result.stdout)
    assert doc["open"] is True and doc["to"] == format_time(now)
    moments = [s["moment"] for s in doc["samples"]]
    assert len(moments) == 200 and max(moments) < format_time(now)
    assert "gap" not in {s["state"] for s in doc["samples"]}  # the future is not "not monitored"
    assert f"open period: it has not ended, so moments are drawn up to now ({format_time(now)}) only" in text.stdout
    # the same draw, closed at the moment it was made, is reproducible on any later day
    closed = invoke("sample", "--ledger", ledger_file, "--from", FROM, "--to", format_time(now), "--count", "200",
                    "--seed", "7", "--format", "json")  # fmt: skip
    assert json.loads(closed.stdout)["samples"] == doc["samples"] and json.loads(closed.stdout)["open"] is False


def test_a_report_of_an_open_period_invents_no_resolution_and_no_future_gap(
    ledger_file: Path, pub: Path, tmp_path: Path
) -> None:
    now = T0 + 90 * timedelta(minutes=1)  # FW-01 in shop-prod has failed since 01:00 and still does
    out = tmp_path / "open.html"
    with time_machine.travel(now, tick=False):
        result = invoke("report", "--ledger", ledger_file, "--from", FROM, "--to", TO, "--out", out,
                        "--public-key", pub)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"now = {format_time(now)}) (open period)" in result.stdout
    page = out.read_text()
    assert "open, up to NOW" in page and "to now (open period)" in page
    assert "resolved (passing) at 2026-03-02 02:00:00" not in page  # what happens after now is not known
    assert "still so at the end of the period" in page  # the failure is open, as it is
    assert "Every control was monitored throughout the period: no gap." in page  # the future is not a gap
    assert "0 with gaps in monitoring" in page
