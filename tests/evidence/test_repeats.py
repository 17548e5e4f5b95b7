"""Repeated runs: written as references, read back as the runs they stand for, verified, pruned."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.evidence import Checkpointer, Ledger, SigningKey, export, prune, sample, summarize, verify_export
from monitor.evidence.estate import Estate
from monitor.evidence.references import References
from monitor.evidence.repeats import REPEATED, RepeatWriter, week_start
from monitor.evidence.verify import verify_ledger
from tests.evidence.conftest import INTERVAL, T0, run_body

SCOPES = ("shop-prod", "shop-dev")
CONTROLS = ("FW-01", "IAM-02", "LOG-01")
Body = dict[str, Any]


def scope_run(scope: str, ended: datetime, failing: frozenset[str] = frozenset(), inputs: str = "f") -> list[Body]:
    """The control_run bodies of one scope run: `failing` controls fail, the rest pass."""
    bodies = []
    for control in CONTROLS:
        body = run_body(control, scope, ended, "fail" if control in failing else "pass")
        body["input_digest"] = f"{inputs:0>64}"
        bodies.append(body)
    return bodies


def history(start: datetime, runs: int) -> list[tuple[datetime, list[Body]]]:
    """`runs` sweeps 15 minutes apart; FW-01 fails in shop-dev from run 5 to 9; an input changes at run 12."""
    sweeps = []
    for index in range(runs):
        moment = start + index * INTERVAL
        batch: list[Body] = []
        for scope in SCOPES:
            failing = frozenset({"FW-01"}) if scope == "shop-dev" and 5 <= index < 10 else frozenset()
            batch.extend(scope_run(scope, moment, failing, inputs="f" if index < 12 else "e"))
        sweeps.append((moment, batch))
    return sweeps


def write(path: Path, sweeps: Sequence[tuple[datetime, list[Body]]], *, fold: bool, key: SigningKey) -> Ledger:
    ledger = Ledger(path)
    writer = RepeatWriter(ledger)
    checkpointer = Checkpointer(ledger, key)
    for moment, bodies in sweeps:
        for scope in SCOPES:
            entries = [("control_run", body) for body in bodies if body["scope"] == scope]
            if fold:
                writer.append(entries, time=moment)
            else:
                ledger.append_many(entries, time=moment)
        checkpointer.checkpoint(moment)
    return ledger


def kinds(ledger: Ledger) -> list[str]:
    return [record.kind for record in ledger.records()]


def without_chain_fields(value: Any) -> Any:
    """A read result with the fields that name the proving record (seq, hash) taken out."""
    if isinstance(value, dict):
        return {
            k: without_chain_fields(v) for k, v in value.items() if k not in ("seq", "hash", "first_seq", "last_seq")
        }
    if isinstance(value, (list, tuple)):
        return [without_chain_fields(v) for v in value]
    return value


@pytest.fixture
def pair(tmp_path: Path, key: SigningKey) -> tuple[Ledger, Ledger]:
    sweeps = history(T0 + timedelta(hours=1), 20)
    return write(tmp_path / "full.sqlite3", sweeps, fold=False, key=key), write(
        tmp_path / "folded.sqlite3", sweeps, fold=True, key=key
    )


def test_an_unchanged_run_is_one_record_of_references(pair: tuple[Ledger, Ledger], key: SigningKey) -> None:
    full, folded = pair
    runs = [r for r in folded.records() if r.kind == "control_run"]
    repeats = [r for r in folded.records() if r.kind == REPEATED]
    # Full: the first run of each scope (3 controls × 2), FW-01 in shop-dev on failing and on passing again,
    # and every control when its input changed (the digest is kept in "changed", the results equal: no full run).
    assert len(runs) == 6 + 2
    assert len(repeats) == 2 * 19
    first = repeats[0].data
    assert first["scope"] == "shop-prod" and sorted(first["refs"]) == sorted(CONTROLS)
    seq, digest = first["refs"]["FW-01"]
    target = folded.get(seq)
    assert target is not None and target.hash == digest and target.data["control"] == "FW-01"
    # The input changed at run 12: that run's entries say so, the later ones (equal to it) do not.
    changed = [(r.time, c) for r in repeats for c in r.data.get("changed", {}).values()]
    assert len(changed) == 6 and all(set(c) == {"input_digest"} for _, c in changed)
    assert {time for time, _ in changed} == {(T0 + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    assert sum(len(r.body) for r in folded.records()) < sum(len(r.body) for r in full.records()) / 2
    assert verify_ledger(folded.path, {key.key_id: key.public_key}).ok


def test_expanded_reads_equal_what_full_records_give(pair: tuple[Ledger, Ledger]) -> None:
    full, folded = pair
    start, end = T0, T0 + timedelta(hours=8)
    full_runs = [(r.time, r.data) for r in References(full).runs(start, end)]
    folded_runs = [(r.time, r.data) for r in References(folded).runs(start, end)]
    assert sorted(folded_runs, key=str) == sorted(full_runs, key=str) and len(full_runs) == 20 * 6

    for reader in (
        lambda ledger: summarize(ledger, start, end).to_json(),
        lambda ledger: [s.to_json() for s in sample(ledger, start, end, 60, "seed")],
        lambda ledger: [
            s.to_json() for s in sample(ledger, start + timedelta(hours=2), end, 30, 7, scopes=["shop-dev"])
        ],
    ):
        assert without_chain_fields(reader(folded)) == without_chain_fields(reader(full))
    for hours, status in ((3, "fail"), (4, "pass")):  # FW-01 fails in shop-dev from 2h15 to 3h15
        latest = References(folded).latest_run("FW-01", "shop-dev", T0 + timedelta(hours=hours))
        assert latest is not None and latest.kind == "control_run" and latest.data["status"] == status
        assert latest.data["ended"] == (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_csv_and_jsonl_exports_of_repeated_runs_verify(
    pair: tuple[Ledger, Ledger], tmp_path: Path, key: SigningKey
) -> None:
    full, folded = pair
    start, end = T0 + timedelta(hours=3), T0 + timedelta(hours=5)
    rows = {}
    for ledger in (full, folded):
        out = tmp_path / f"{ledger.path.stem}.csv"
        export(ledger, start, end, fmt="csv", out=out, control="FW-01", now=end)
        report = verify_export(out, key.public_key)
        assert report.ok, report.problems
        with open(out, newline="") as handle:
            rows[ledger.path.stem] = [row[:-2] for row in csv.reader(handle)]  # seq and hash name other records
        jsonl = tmp_path / f"{ledger.path.stem}.jsonl"
        export(ledger, start, end, out=jsonl, now=end)
        assert verify_export(jsonl, key.public_key).ok
    assert rows["folded"] == rows["full"] and len(rows["full"]) == 1 + 8 * 2


def test_the_first_run_of_an_iso_week_is_written_in_full(tmp_path: Path, key: SigningKey) -> None:
    monday = week_start(T0) + timedelta(days=7)
    sweeps = history(monday - timedelta(minutes=30), 4)  # two runs before Monday 00:00, two after
    ledger = write(tmp_path / "weeks.sqlite3", sweeps, fold=True, key=key)
    per_run = [
        [
            r.kind
            for r in ledger.records()
            if r.kind in ("control_run", REPEATED) and r.time == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ]
        for moment, _ in sweeps
    ]
    assert per_run[0] == ["control_run"] * 6
    assert per_run[1] == [REPEATED] * 2
    assert per_run[2] == ["control_run"] * 6  # Monday: every control in full again
    assert per_run[3] == [REPEATED] * 2
    for record in ledger.records():
        if record.kind == REPEATED:
            for seq, _ in record.data["refs"].values():
                target = ledger.get(seq)
                assert target is not None and week_start(target.at) == week_start(record.at)


def _forge(path: Path, key: SigningKey, edit: Any) -> int:
    """A ledger written by a writer that forges one reference (the chain itself is sound); its seq."""
    ledger = Ledger(path)
    writer = RepeatWriter(ledger)
    for moment, bodies in history(T0 + timedelta(hours=1), 3):
        writer.append([("control_run", b) for b in bodies if b["scope"] == "shop-prod"], time=moment)
    last = ledger.head()
    assert last is not None and last.kind == REPEATED
    body = last.data
    edit(body, ledger)
    forged = ledger.append(REPEATED, body, time=T0 + timedelta(hours=2))
    Checkpointer(ledger, key).checkpoint(T0 + timedelta(hours=2))
    ledger.close()
    return forged.seq


def _other_week(body: Body, ledger: Ledger) -> None:
    ledger.append("control_run", run_body("FW-01", "shop-prod", T0 + timedelta(days=8)), time=T0 + timedelta(days=8))
    record = ledger.get(1)  # a full run of the previous week, by its own right hash
    assert record is not None and record.data["control"] == "FW-01"
    body["refs"]["FW-01"] = [1, record.hash]


FORGERIES = {
    "wrong hash": (lambda body, ledger: body["refs"]["FW-01"].__setitem__(1, "0" * 64), "forged reference"),
    "dangling seq": (lambda body, ledger: body["refs"]["FW-01"].__setitem__(0, 10_000), "not before it"),
    "record of another control": (
        lambda body, ledger: body["refs"].update({"FW-01": body["refs"]["LOG-01"]}),
        "another control or scope",
    ),
    "no reference": (lambda body, ledger: body["refs"].update({"FW-01": "seq 1"}), "has no reference"),
    "across a week": (_other_week, "same ISO week"),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_forged_or_dangling_reference_fails_verify_naming_the_record(
    name: str, tmp_path: Path, key: SigningKey
) -> None:
    edit, words = FORGERIES[name]
    path = tmp_path / "forged.sqlite3"
    seq = _forge(path, key, edit)
    report = verify_ledger(path, {key.key_id: key.public_key})
    assert not report.ok
    bad = [problem for problem in report.problems if problem.seq == seq]
    assert bad and words in bad[0].reason, report.problems
    # Readers leave the forged entry out: a gap, never the referenced run's verdict.
    with Ledger(path, readonly=True) as ledger:
        record = ledger.get(seq)
        assert record is not None
        assert len(References(ledger).expand(record)) < len(record.data["refs"])


def test_incremental_verification_resolves_references_to_records_verified_before(
    pair: tuple[Ledger, Ledger], key: SigningKey
) -> None:
    _, folded = pair
    keys = {key.key_id: key.public_key}
    repeats = [r for r in folded.records() if r.kind == REPEATED]
    since = repeats[-1]
    report = verify_ledger(folded.path, keys, since=(since.seq, since.hash))
    assert report.ok and report.first_seq == since.seq


def test_prune_keeps_the_full_runs_that_kept_repeats_refer_to(tmp_path: Path, key: SigningKey) -> None:
    monday = week_start(T0) + timedelta(days=7)
    sweeps = history(monday - timedelta(hours=1), 12)  # 4 runs in one week, 8 in the next
    ledger = write(tmp_path / "pruned.sqlite3", sweeps, fold=True, key=key)
    full = write(tmp_path / "full.sqlite3", sweeps, fold=False, key=key)
    keys = {key.key_id: key.public_key}
    end = monday + timedelta(hours=3)
    before = [(r.time, r.data) for r in References(ledger).runs(monday, end)]

    # A cutoff inside the second week: its Monday runs are referred to after it, so they stay.
    cutoff = monday + timedelta(hours=1)
    result = prune(ledger, cutoff, key, now=end)
    assert result is not None
    first = ledger.first()
    assert first is not None and first.at == monday and first.kind == "control_run"
    assert not any(r.at < monday for r in ledger.records())
    assert verify_ledger(ledger.path, keys).ok
    assert [(r.time, r.data) for r in References(ledger).runs(monday, end)] == before

    # At the week's start the earlier week goes entirely, and nothing of this week does.
    pruned_full = prune(full, cutoff, key, now=end)
    assert pruned_full is not None and pruned_full.pruned_through > result.pruned_through
    assert verify_ledger(full.path, keys).ok


def test_a_writer_remembers_only_what_no_one_else_overwrote(tmp_path: Path) -> None:
    path = tmp_path / "two.sqlite3"
    sweeps = history(T0 + timedelta(hours=1), 5)

    def batch(index: int, scope: str = "shop-prod") -> list[tuple[str, Body]]:
        return [("control_run", b) for b in sweeps[index][1] if b["scope"] == scope]

    writer = RepeatWriter(Ledger(path))
    assert [r.kind for r in writer.append(batch(0), time=sweeps[0][0])] == ["control_run"] * 3
    writer.ledger.append("daemon_start", {"version": "x"}, time=sweeps[1][0])  # not a run: memory still good
    changed = [(k, dict(b, results=[]) if b["control"] == "IAM-02" else b) for k, b in batch(1)]
    records = writer.append(changed, time=sweeps[1][0])
    assert [r.kind for r in records] == ["control_run", REPEATED]
    assert sorted(records[1].data["refs"]) == ["FW-01", "LOG-01"]

    restarted = RepeatWriter(Ledger(path))  # nothing in memory: every control in full once
    assert [r.kind for r in restarted.append(batch(2), time=sweeps[2][0])] == ["control_run"] * 3
    assert [r.kind for r in restarted.append(batch(3), time=sweeps[3][0])] == [REPEATED]
    # The first writer's memory is out of date (another wrote runs since): it writes in full again.
    assert [r.kind for r in writer.append(batch(4), time=sweeps[4][0])] == ["control_run"] * 3
    with Ledger(path, readonly=True) as ledger:
        assert verify_ledger(path).ok
        runs = list(References(ledger).runs(T0, T0 + timedelta(days=1)))
        assert len(runs) == 15 and [r.data["control"] for r in runs].count("IAM-02") == 5


def test_an_estate_of_folded_ledgers_reads_as_one_full_ledger(
    pair: tuple[Ledger, Ledger], tmp_path: Path, key: SigningKey
) -> None:
    """Replicas each fold their own runs: every reference resolves in its own ledger, never the other's."""
    full, _ = pair
    sweeps = history(T0 + timedelta(hours=1), 20)
    replicas = [
        write(
            tmp_path / f"replica-{scope}.sqlite3",
            [(moment, [body for body in bodies if body["scope"] == scope]) for moment, bodies in sweeps],
            fold=True,
            key=key,
        )
        for scope in SCOPES
    ]
    assert all(REPEATED in kinds(replica) for replica in replicas)
    start, end = T0, T0 + timedelta(hours=8)
    estate = summarize(Estate([References(replica) for replica in replicas]), start, end)
    assert without_chain_fields(estate.to_json()) == without_chain_fields(summarize(full, start, end).to_json())
    shop_dev = estate.get("FW-01", "shop-dev")
    assert shop_dev.runs == 20 and shop_dev.shares["fail"] > 0
