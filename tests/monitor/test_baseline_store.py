"""The baseline store: approvals, partial approvals, history, the document DRIFT controls read."""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from checks import drift
from checks.driftstate import STATE_VERSION, watched_state
from checks.model import Area, Verdict
from checks.params import Params
from monitor.drift.baselines import DEFAULT_PATH, BaselineError, BaselineStore, canonical, default_path
from tests.builders import make_snapshot
from tests.checks.catalogue import ids

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PROJECT: dict[str, Any] = {
    "compute": {
        "firewalls": [{"name": "allow-ssh", "sourceRanges": ["10.0.0.0/8"], "allowed": [{"IPProtocol": "tcp"}]}],
        "disks": [],
        "resourcePolicies": [],
    },
    "iamPolicy": {"version": 3, "etag": "BwYR", "bindings": [{"role": "roles/owner", "members": ["user:a@x.be"]}]},
}


def live(project: dict[str, Any] = PROJECT) -> dict[str, Any]:
    return watched_state(make_snapshot(project))


@pytest.fixture
def store(tmp_path: Path) -> BaselineStore:
    return BaselineStore(tmp_path / "state" / "baselines.sqlite3")


def test_approve_then_get_is_the_document_drift_controls_read(store: BaselineStore) -> None:
    approval = store.approve("shop-prod", live(), "alice@example.be", now=T0)
    doc = store.get("shop-prod")
    assert doc is not None
    assert {k: doc[k] for k in ("schema_version", "scope", "approved_by", "approved_at")} == {
        "schema_version": 1, "scope": "shop-prod", "approved_by": "alice@example.be",
        "approved_at": "2026-11-20T09:00:00Z"}  # fmt: skip
    part = doc["controls"]["DRIFT-01"]
    assert set(doc["controls"]) == set(ids(Area.DRIFT))
    assert part["state"] == live()["DRIFT-01"] and part["state_version"] == STATE_VERSION
    assert (part["approval"], part["approved_by"], part["approved_at"]) == (approval.id, "alice@example.be",
                                                                            "2026-11-20T09:00:00Z")
    snapshot = replace(make_snapshot(PROJECT), baseline=doc)
    for control in (drift.drift01_firewalls, drift.drift02_grants, drift.drift03_schedules):
        assert all(f.verdict is Verdict.PASS for f in control(snapshot, Params())), control.meta.id
    assert store.get("other") is None and store.scopes() == ["shop-prod"]


def test_approval_record_for_the_evidence_ledger(store: BaselineStore) -> None:
    approval = store.approve("shop-prod", live(), " alice ", now=T0.astimezone(UTC) + timedelta(microseconds=5))
    record = approval.to_evidence()
    assert record["type"] == "baseline_approval" and record["approver"] == "alice"
    assert (record["scope"], record["approval"], record["approved_at"]) == ("shop-prod", 1, "2026-11-20T09:00:00Z")
    assert {c: v["items"] for c, v in record["controls"].items()} == {"DRIFT-01": 1, "DRIFT-02": 1, "DRIFT-03": 0}
    assert all(v["digest"].startswith("sha256:") and len(v["digest"]) == 71 for v in record["controls"].values())


def test_partial_approval_keeps_the_other_controls(store: BaselineStore) -> None:
    first = store.approve("shop-prod", live(), "alice", now=T0)
    changed = {**PROJECT, "compute": {**PROJECT["compute"], "firewalls": []}}
    second = store.approve("shop-prod", live(changed), "bob", controls=["DRIFT-01"], now=T0 + timedelta(hours=1))
    doc = store.get("shop-prod")
    assert doc is not None
    assert doc["controls"]["DRIFT-01"]["state"] == {"firewalls": {}}
    assert doc["controls"]["DRIFT-01"]["approved_by"] == "bob"
    assert doc["controls"]["DRIFT-02"]["approved_by"] == "alice"
    assert doc["controls"]["DRIFT-02"]["state"] == live()["DRIFT-02"]
    assert (doc["approved_by"], doc["approved_at"]) == ("bob", "2026-11-20T10:00:00Z")
    assert [(a.id, a.approver, [c.control for c in a.controls]) for a in store.history("shop-prod")] == [
        (first.id, "alice", ["DRIFT-01", "DRIFT-02", "DRIFT-03"]), (second.id, "bob", ["DRIFT-01"])]


def test_scopes_are_independent(store: BaselineStore) -> None:
    store.approve("a", live(), "alice", now=T0)
    store.approve("b", live(), "alice", controls=["DRIFT-02"], now=T0)
    doc = store.get("b")
    assert doc is not None and list(doc["controls"]) == ["DRIFT-02"]
    assert store.scopes() == ["a", "b"] and len(store.history("a")) == 1


def test_digest_does_not_depend_on_key_order(store: BaselineStore) -> None:
    state = live()["DRIFT-01"]
    reordered = {"firewalls": {k: dict(reversed(list(v.items()))) for k, v in state["firewalls"].items()}}
    assert canonical(state) == canonical(reordered)
    a = store.approve("s", {"DRIFT-01": state}, "x", now=T0)
    b = store.approve("s", {"DRIFT-01": reordered}, "x", now=T0)
    assert a.controls[0].digest == b.controls[0].digest


@pytest.mark.parametrize(("states", "kwargs", "message"), [
    ({"DRIFT-09": {"x": {}}}, {}, "DRIFT-09 is not a drift control"),
    ({"DRIFT-01": {"firewalls": {}}}, {"controls": ["DRIFT-02"]}, "no live state given for DRIFT-02"),
    ({"DRIFT-01": {"grants": {}}}, {}, "the state of DRIFT-01 must be {'firewalls': {...}}"),
    ({}, {}, "an approval needs a scope, an approver and at least one control"),
    ({"DRIFT-01": {"firewalls": {}}}, {"approver": "  "}, "an approval needs"),
    ({"DRIFT-01": {"firewalls": {}}}, {"now": datetime(2026, 1, 1)}, "must carry a time zone"),
])  # fmt: skip
def test_bad_approvals_store_nothing(
    store: BaselineStore, states: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"approver": "alice", "now": T0, **kwargs}
    approver, now = args.pop("approver"), args.pop("now")
    with pytest.raises(BaselineError, match=re.escape(message)):
        store.approve("shop-prod", states, approver, now=now, **args)
    assert store.get("shop-prod") is None and store.history("shop-prod") == []


def test_durable_and_shared_between_instances(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    BaselineStore(path).approve("shop-prod", live(), "alice", now=T0)
    assert BaselineStore(path).get("shop-prod") is not None
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_approvals_all_land(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    BaselineStore(path)
    errors: list[BaseException] = []

    def approve(n: int) -> None:
        try:
            for i in range(5):
                BaselineStore(path).approve(f"scope-{n % 2}", live(), f"user-{n}-{i}", now=T0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = BaselineStore(path)
    ids = [a.id for scope in ("scope-0", "scope-1") for a in store.history(scope)]
    assert sorted(ids) == list(range(1, 31))
    assert all(len(a.controls) == 3 for a in store.history("scope-0"))


def test_default_path_is_beside_the_evidence_ledger() -> None:
    assert default_path(Path("/var/lib/cw/evidence.sqlite3")) == Path("/var/lib/cw/baselines.sqlite3")
    assert default_path() == DEFAULT_PATH == Path(".controlwatch/baselines.sqlite3")


def test_a_store_from_before_change_references_is_upgraded_in_place(tmp_path: Path) -> None:
    from contextlib import closing

    path = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(path)) as db:  # the first schema: approvals without change_ref
        db.executescript(
            "CREATE TABLE approvals (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, "
            "approver TEXT NOT NULL, approved_at TEXT NOT NULL);"
            "INSERT INTO approvals (scope, approver, approved_at) "
            "VALUES ('shop-prod', 'alice', '2026-11-20T09:00:00Z');"
        )
    store = BaselineStore(path)
    [old] = store.history("shop-prod")
    assert (old.approver, old.change, "change" in old.to_evidence()) == ("alice", None, False)
    new = store.approve("shop-prod", live(), "bob", now=T0, change=" CHG-7 ")
    assert new.change == "CHG-7" and [a.change for a in store.history("shop-prod")] == [None, "CHG-7"]
    assert store.approve("shop-prod", live(), "bob", now=T0, change="  ").change is None
