"""Exports verify standalone; any edit, drop or hidden record in them is caught."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from checks.model import Result, Verdict
from monitor.evidence import (
    Checkpointer,
    Ledger,
    SigningKey,
    checkpoints_in_export,
    control_run_body,
    export,
    keyring,
    prune,
    verify_export,
    verify_ledger,
)
from monitor.evidence.export import CSV_COLUMNS, LEGACY_CSV_COLUMNS
from monitor.evidence.records import body_digest
from monitor.evidence.repeats import RepeatWriter
from tests.evidence.conftest import T0, fill, tamper

FROM, TO = T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)


@pytest.fixture
def filled(ledger: Ledger, key: SigningKey) -> Ledger:
    """40 runs a minute apart alternating two scopes, a daemon restart at minute 15,
    checkpoints after every 10 runs."""
    fill(ledger, key, 15, every=10, scopes=("shop-prod", "shop-dev"))
    ledger.append("daemon_stop", {"reason": "test"}, time=T0 + timedelta(minutes=15))
    fill(ledger, key, 25, every=10, start=T0 + timedelta(minutes=15), scopes=("shop-prod", "shop-dev"))
    return ledger


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path: Path, items: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(item) + "\n" for item in items))


def test_an_export_verifies_standalone(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.jsonl"
    result = export(filled, FROM, TO, out=out)
    assert result.anchored and result.records == 11  # 10 runs and the daemon_stop
    items = lines(out)
    assert items[0]["type"] == "header" and items[-1]["type"] == "footer"
    records = [i for i in items if i["type"] == "record"]
    assert {"seq", "kind", "time", "body", "prev_hash", "hash"} <= set(records[0])
    assert any(r["kind"] == "checkpoint" for r in records)
    report = verify_export(out, key.public_key)
    assert report.ok, report.summary()
    assert report.extra["exported"] == 11
    assert report.unanchored == 0


def test_a_filtered_export_proves_the_chain_across_what_it_leaves_out(
    filled: Ledger, key: SigningKey, tmp_path: Path
) -> None:
    out = tmp_path / "prod.jsonl"
    export(filled, FROM, TO, control="FW-01", scope="shop-prod", out=out)
    items = lines(out)
    scopes = {r["body"].get("scope") for r in items if r["type"] == "record" and r["kind"] == "control_run"}
    assert scopes == {"shop-prod"}
    omitted = [entry for item in items if item["type"] == "omitted" for entry in item["records"]]
    assert omitted and all(len(entry) == 4 for entry in omitted)  # seq, kind, time, body digest: no body
    report = verify_export(out, keyring([key]))
    assert report.ok, report.summary()
    assert any("cannot be proven" in note for note in report.notes)
    # daemon events in the period are context for gaps: they stay in a filtered export
    assert any(r["type"] == "record" and r["kind"] == "daemon_stop" for r in items)


def test_editing_one_field_in_the_export_fails(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out)
    items = lines(out)
    target = next(i for i in items if i["type"] == "record" and i["kind"] == "control_run")
    target["body"]["status"] = "fail"
    write(out, items)
    report = verify_export(out, key.public_key)
    assert report.first_bad is not None and report.first_bad.seq == target["seq"]
    assert "hash mismatch" in report.first_bad.reason


def test_editing_and_rehashing_a_record_breaks_the_signed_chain(
    filled: Ledger, key: SigningKey, tmp_path: Path
) -> None:
    """The forger recomputes the edited record's hash: the next link or checkpoint gives it away."""
    from monitor.evidence.canonical import canonical_json
    from monitor.evidence.records import record_hash

    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out)
    items = lines(out)
    target = next(i for i in items if i["type"] == "record" and i["kind"] == "control_run")
    target["body"]["status"] = "fail"
    digest = body_digest(canonical_json(target["body"]))
    target["hash"] = record_hash(
        target["seq"], target["kind"], target["time"], digest, target["prev_hash"], format=target.get("format", 1)
    )
    write(out, items)
    report = verify_export(out, key.public_key)
    assert not report.ok
    assert report.first_bad is not None and report.first_bad.seq == target["seq"] + 1


def test_editing_an_omitted_digest_fails(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "prod.jsonl"
    export(filled, FROM, TO, scope="shop-prod", out=out)
    items = lines(out)
    omitted = next(i for i in items if i["type"] == "omitted")
    omitted["records"][0][3] = "0" * 64
    write(out, items)
    assert not verify_export(out, key.public_key).ok


def test_dropping_an_exported_record_fails(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out)
    items = lines(out)
    dropped = next(i for i in items if i["type"] == "record" and i["kind"] == "control_run" and i["seq"] > 14)
    write(out, [i for i in items if i is not dropped])
    report = verify_export(out, key.public_key)
    assert report.first_bad is not None and report.first_bad.seq == dropped["seq"]
    assert "missing from the export" in report.first_bad.reason


def test_hiding_a_record_of_the_period_as_a_digest_fails_when_unfiltered(
    filled: Ledger, key: SigningKey, tmp_path: Path
) -> None:
    """A dishonest exporter replaces a failing run by its digest: the chain holds, completeness does not."""
    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out)
    items = lines(out)
    index, hidden = next((n, i) for n, i in enumerate(items) if i["type"] == "record" and i["kind"] == "control_run")
    from monitor.evidence.canonical import canonical_json

    digest = body_digest(canonical_json(hidden["body"]))
    items[index] = {"type": "omitted", "records": [[hidden["seq"], hidden["kind"], hidden["time"], digest]]}
    footer = items[-1]
    footer["records"] -= 1
    footer["omitted"] += 1
    write(out, items)
    report = verify_export(out, key.public_key)
    assert report.first_bad is not None and report.first_bad.seq == hidden["seq"]
    assert "was left out of the export" in report.first_bad.reason


def test_a_cut_short_export_fails(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out)
    write(out, lines(out)[:-3])
    assert not verify_export(out, key.public_key).ok


def test_the_wrong_public_key_fails(filled: Ledger, other_key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out)
    report = verify_export(out, other_key.public_key)
    assert not report.ok
    assert report.first_bad is not None and "unknown key id" in report.first_bad.reason


def test_an_empty_period_exports_and_verifies(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "empty.jsonl"
    result = export(filled, T0 + timedelta(days=10), T0 + timedelta(days=11), out=out)
    assert result.records == 0
    report = verify_export(out, key.public_key)
    assert report.ok and report.records == 0


def test_records_not_yet_under_a_checkpoint_do_not_verify_until_the_next_one(
    filled: Ledger, key: SigningKey, tmp_path: Path
) -> None:
    fill(filled, None, 3, start=T0 + timedelta(hours=1))
    out = tmp_path / "tail.jsonl"
    period = (T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    result = export(filled, *period, out=out)
    assert not result.anchored
    report = verify_export(out, key.public_key)
    assert not report.ok
    assert "not covered by a valid checkpoint" in str(report.first_bad)
    Checkpointer(filled, key).checkpoint(T0 + timedelta(hours=1, minutes=5))
    export(filled, *period, out=out, now=T0 + timedelta(hours=1, minutes=6))
    again = verify_export(out, key.public_key)
    assert again.ok, again.summary()
    assert any("had not ended" in note for note in again.notes)


def test_cutting_records_off_the_start_of_the_period_fails(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    """The forger drops the first exported records and moves the covered range's start."""
    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out)
    items = lines(out)
    header = items[0]
    kept = [i for i in items[1:] if not (i["type"] == "omitted" or (i["type"] == "record" and i["seq"] <= 13))]
    first = next(i for i in kept if i["type"] == "record")
    header["covered"].update(first_seq=first["seq"], start_prev_hash=first["prev_hash"])
    kept[-1]["records"] = sum(1 for i in kept if i["type"] == "record" and i["kind"] != "checkpoint")
    kept[-1]["omitted"] = 0
    write(out, [header, *kept])
    report = verify_export(out, key.public_key)
    assert report.first_bad is not None and report.first_bad.seq == first["seq"]
    assert "without proof that nothing before it was left out" in report.first_bad.reason


def test_cutting_the_export_at_an_earlier_checkpoint_fails(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.jsonl"
    export(filled, FROM, TO, out=out, now=T0 + timedelta(days=1))
    items = lines(out)
    inner = next(i for i in items if i["type"] == "record" and i["kind"] == "checkpoint")  # signed mid-period
    kept = [items[0], *(i for i in items[1:-1] if i["type"] == "record" and i["seq"] <= inner["seq"])]
    kept[0]["covered"]["last_seq"] = inner["seq"]
    footer = {"type": "footer", "records": sum(1 for i in kept[1:] if i["kind"] != "checkpoint"), "omitted": 0}
    footer["checkpoints"] = 1
    write(out, [*kept, footer])
    report = verify_export(out, key.public_key)
    assert not report.ok
    assert "before the end of the period" in str(report.first_bad)


def test_an_export_starting_at_a_prune_anchor_verifies(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    prune(filled, T0 + timedelta(minutes=12), key, now=T0 + timedelta(hours=2))
    out = tmp_path / "after-prune.jsonl"
    export(filled, FROM, TO, out=out)
    assert lines(out)[0]["prune_anchor"]["pruned_through"] > 0
    report = verify_export(out, key.public_key)
    assert report.ok, report.summary()
    assert any("were pruned" in note for note in report.notes)
    items = lines(out)
    items[0]["prune_anchor"]["pruned_through"] -= 1  # claims fewer records were pruned
    write(out, items)
    assert "prune anchor signature does not verify" in str(verify_export(out, key.public_key).first_bad)


def test_export_to_a_stream(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    buffer = io.StringIO()
    export(filled, FROM, TO, out=buffer)
    out = tmp_path / "stream.jsonl"
    out.write_text(buffer.getvalue())
    assert verify_export(out, key.public_key).ok


def test_csv_export_with_its_chain_sidecar(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.csv"
    result = export(filled, FROM, TO, fmt="csv", control="FW-01", scope="shop-prod", out=out)
    assert result.paths == (out, tmp_path / "q1.csv.chain.jsonl")
    with open(out, newline="") as handle:
        table = list(csv.DictReader(handle))
    runs = list(filled.query(FROM, TO, kinds=["control_run"], scope="shop-prod"))
    assert len(table) == len(runs) == 6 and {row["scope"] for row in table} == {"shop-prod"}
    assert set(table[0]) >= {"time", "control", "scope", "status", "pass", "fail", "input_digest", "seq", "hash"}
    report = verify_export(out, key.public_key)
    assert report.ok, report.summary()
    assert report.extra["csv_rows"] == 6


def test_editing_or_dropping_a_csv_row_fails(filled: Ledger, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "q1.csv"
    export(filled, FROM, TO, fmt="csv", out=out)
    original = out.read_text().splitlines()
    out.write_text("\n".join([original[0], original[1].replace(",pass,", ",fail,"), *original[2:]]) + "\n")
    edited = verify_export(out, key.public_key)
    assert not edited.ok and "differs from the verified record" in str(edited.first_bad)
    out.write_text("\n".join([original[0], *original[2:]]) + "\n")
    dropped = verify_export(out, key.public_key)
    assert not dropped.ok and "has no CSV row" in str(dropped.first_bad)


def test_checkpoints_kept_from_an_export_catch_a_later_truncation(
    filled: Ledger, key: SigningKey, tmp_path: Path
) -> None:
    out = tmp_path / "everything.jsonl"
    export(filled, T0, T0 + timedelta(hours=1), out=out)
    kept = checkpoints_in_export(out)
    assert [c.seq + 1 for c in kept] == [r.seq for r in filled.records() if r.kind == "checkpoint"]
    filled.close()
    tamper(filled.path, "DELETE FROM records WHERE seq > 30")
    assert verify_ledger(filled.path, keyring([key])).ok  # alone, a shorter chain looks fine
    report = verify_ledger(filled.path, keyring([key]), retained=kept)
    assert not report.ok and "truncation" in str(report.first_bad)


# --- CSV: one row per failing resource per run ---------------------------------------------------


def failing_run(ended: datetime, status: str) -> dict[str, Any]:
    """FW-01 in shop-prod: two rules open to the internet and one under an accepted risk when failing."""
    results = [
        Result("FW-01", "shop-prod", "fw/allow-web", "tcp:443", Verdict.PASS, "HTTPS may face the internet"),
    ]
    if status == "fail":
        results += [
            Result("FW-01", "shop-prod", "fw/allow-ssh", "tcp:22", Verdict.FAIL, "SSH open to 0.0.0.0/0"),
            Result("FW-01", "shop-prod", "fw/debug", "tcp:22", Verdict.FAIL, 'debug rule, "temporary"'),
            Result(
                "FW-01", "shop-prod", "fw/jump", "tcp:22", Verdict.FAIL, "bastion", excepted=True,
                exception_reason="accepted risk: jump host (approved by ciso@example.be, expires 2026-06-30)",
            ),
        ]  # fmt: skip
    return control_run_body(
        control="FW-01",
        scope="shop-prod",
        started=ended - timedelta(seconds=2),
        ended=ended,
        results=results,
        params={},
        inputs={"firewalls": {"resources": [{"name": "f"}]}},
        logic_version=1,
        controlwatch_version="0.1.0",
        source="demo",
        interval=timedelta(minutes=1),
    )


@pytest.fixture
def resources_csv(ledger: Ledger, key: SigningKey, tmp_path: Path) -> Path:
    """Runs a minute apart, through the daemon's writer (unchanged runs become repeat records):
    passing at 00:00-00:02, failing on three resources at 00:03-00:06, passing again from 00:07."""
    writer = RepeatWriter(ledger)
    for minute in range(10):
        moment = T0 + timedelta(minutes=minute)
        writer.append([("control_run", failing_run(moment, "fail" if 3 <= minute < 7 else "pass"))], time=moment)
    Checkpointer(ledger, key).checkpoint(T0 + timedelta(minutes=11))
    out = tmp_path / "fw.csv"
    export(ledger, T0, T0 + timedelta(minutes=10), fmt="csv", out=out)
    return out


def test_a_csv_row_per_failing_resource_per_run(resources_csv: Path, key: SigningKey, ledger: Ledger) -> None:
    with open(resources_csv, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0])[-2:] == ["seq", "hash"]
    assert {"resource", "subject", "result", "reason", "risk_approver", "risk_expires"} <= set(table[0])
    by_time: dict[str, list[dict[str, str]]] = {}
    for row in table:
        by_time.setdefault(row["ended"], []).append(row)
    assert len(by_time) == 10  # every run is there
    passing = [rows for rows in by_time.values() if rows[0]["status"] == "pass"]
    assert len(passing) == 6 and all(len(rows) == 1 and rows[0]["resource"] == "" for rows in passing)
    failing = [rows for rows in by_time.values() if rows[0]["status"] == "fail"]
    assert len(failing) == 4
    for rows in failing:  # the failing resources by name, each on its own row, all proved by the run's record
        assert [(r["resource"], r["result"]) for r in rows] == [
            ("fw/allow-ssh", "fail"), ("fw/debug", "fail"), ("fw/jump", "excepted"),
        ]  # fmt: skip
        assert rows[2]["risk_approver"] == "ciso@example.be" and rows[2]["risk_expires"] == "2026-06-30"
        assert rows[1]["reason"] == 'debug rule, "temporary"'
        assert len({(r["seq"], r["hash"]) for r in rows}) == 1
    # three of the failing runs are repeats of the first: their rows name the repeat record
    kinds = {r.seq: r.kind for r in ledger.records()}
    assert sorted(kinds[int(rows[0]["seq"])] for rows in failing) == ["control_run", *["control_runs_repeated"] * 3]
    report = verify_export(resources_csv, key.public_key)
    assert report.ok, report.summary()
    assert report.extra["csv_rows"] == 6 + 4 * 3


def _rewrite(path: Path, edit: Callable[[list[list[str]]], list[list[str]]]) -> None:
    with open(path, newline="") as handle:
        table = list(csv.reader(handle))
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(edit(table))


def _first_failing(table: list[list[str]]) -> int:
    return next(i for i, row in enumerate(table) if row[table[0].index("result")] == "fail")


@pytest.mark.parametrize(
    ("name", "edit", "problem"),
    [
        (
            "a resource renamed",
            lambda t: [row if i != _first_failing(t) else [c.replace("fw/allow-ssh", "fw/other") for c in row]
                       for i, row in enumerate(t)],
            "differs from the verified record",
        ),
        (
            "a failure shown as excepted",
            lambda t: [row if i != _first_failing(t) else [c.replace("fail", "excepted") if j == t[0].index("result")
                       else c for j, c in enumerate(row)] for i, row in enumerate(t)],
            "differs from the verified record",
        ),
        ("a resource row dropped", lambda t: [row for i, row in enumerate(t) if i != _first_failing(t)],
         "rows were dropped"),
        ("a resource row added", lambda t: [*t, t[_first_failing(t)]], "differs from the verified record"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_a_changed_resource_row_fails_verification(
    resources_csv: Path, key: SigningKey, name: str, edit: Callable[[list[list[str]]], list[list[str]]], problem: str
) -> None:
    _rewrite(resources_csv, edit)
    report = verify_export(resources_csv, key.public_key)
    assert not report.ok, name
    assert problem in str(report.first_bad), report.summary()


def test_a_csv_of_the_earlier_layout_still_verifies(resources_csv: Path, key: SigningKey) -> None:
    """One row per run, as exports were written before the failing resources were listed."""

    def legacy(table: list[list[str]]) -> list[list[str]]:
        kept = [CSV_COLUMNS.index(name) for name in LEGACY_CSV_COLUMNS]
        rows: list[list[str]] = []
        for row in table:
            short = [row[i] for i in kept]
            if short not in rows:
                rows.append(short)
        return rows

    _rewrite(resources_csv, legacy)
    assert verify_export(resources_csv, key.public_key).ok

    def passed(table: list[list[str]]) -> list[list[str]]:
        status = table[0].index("status")
        index = next(i for i, row in enumerate(table) if row[status] == "fail")
        return [[*row[:status], "pass", *row[status + 1 :]] if i == index else row for i, row in enumerate(table)]

    _rewrite(resources_csv, passed)
    edited = verify_export(resources_csv, key.public_key)
    assert not edited.ok and "differs from the verified record" in str(edited.first_bad)
