"""Approving a change before it is made (SOC 2 CC8.1): which live states a pre-approval
approves (only the exact expected state, within its window), how the store keeps it, and
`baseline approve --expect FILE --change REF --window` with its review and its errors."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.drift.baselines import BaselineError, BaselineStore
from monitor.drift.preapprovals import PreApproval, choose, judge, notes_by_control
from tests.monitor.test_baseline_cli import Cli, scenario, widen

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SSH = {"network": "default", "direction": "INGRESS", "priority": 1000, "sourceRanges": ["10.0.0.0/8"]}
WEB = {"network": "default", "direction": "INGRESS", "priority": 1000, "sourceRanges": ["0.0.0.0/0"]}
GRANT = {"role": "roles/viewer", "member": "user:a@example.be"}


def fw(**rules: dict[str, Any]) -> dict[str, Any]:
    return {"firewalls": rules}


BASELINE = {"DRIFT-01": fw(ssh=SSH), "DRIFT-02": {"grants": {"roles/viewer user:a@example.be": GRANT}}}
OPENED = fw(ssh={**SSH, "sourceRanges": ["0.0.0.0/0"]})  # the intended change: ssh from anywhere
OPENED_AND_WEB = fw(ssh={**SSH, "sourceRanges": ["0.0.0.0/0"]}, web=WEB)


def pre(expected: dict[str, Any], *, hours: int = 4, pre_id: int = 1) -> PreApproval:
    until = (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
    return PreApproval(pre_id, "p", "alice", T0.isoformat().replace("+00:00", "Z"), until, "CHG-1", expected)


CASES = {
    # name: (expected by the pre-approval, live, minutes after the approval, status, items differing)
    "exact match": ({"DRIFT-01": OPENED}, {"DRIFT-01": OPENED}, 30, "approved", 0),
    "exact match of two controls": (
        {"DRIFT-01": OPENED, "DRIFT-02": {"grants": {}}},
        {"DRIFT-01": OPENED, "DRIFT-02": {"grants": {}}},
        30, "approved", 0,
    ),
    "more than the change": ({"DRIFT-01": OPENED}, {"DRIFT-01": OPENED_AND_WEB}, 30, "differs", 1),
    "part of the change": ({"DRIFT-01": OPENED_AND_WEB}, {"DRIFT-01": OPENED}, 30, "differs", 1),
    "one of two controls changed": (
        {"DRIFT-01": OPENED, "DRIFT-02": {"grants": {}}},
        {"DRIFT-01": OPENED, "DRIFT-02": BASELINE["DRIFT-02"]},
        30, "differs", 1,
    ),
    "another change": ({"DRIFT-01": OPENED}, {"DRIFT-01": fw(ssh=SSH, web=WEB)}, 30, "differs", 2),
    "expired window": ({"DRIFT-01": OPENED}, {"DRIFT-01": OPENED}, 4 * 60 + 1, "expired", 0),
    "expired and another change": ({"DRIFT-01": OPENED}, {"DRIFT-01": fw(ssh=SSH, web=WEB)}, 5 * 60, "lapsed", 2),
    "seen before the approval": ({"DRIFT-01": OPENED}, {"DRIFT-01": OPENED}, -1, "expired", 0),
    "not changed yet": ({"DRIFT-01": OPENED}, {"DRIFT-01": BASELINE["DRIFT-01"]}, 30, "unchanged", 0),
    "a control not read": ({"DRIFT-01": OPENED, "DRIFT-02": {"grants": {}}}, {"DRIFT-01": OPENED}, 30, "unreadable", 0),
}  # fmt: skip


@pytest.mark.parametrize(("expected", "live", "minutes", "status", "differs"), CASES.values(), ids=CASES.keys())
def test_only_the_exact_expected_state_within_the_window_is_approved(
    expected: dict[str, Any], live: dict[str, Any], minutes: int, status: str, differs: int
) -> None:
    outcome = judge(pre(expected), BASELINE, live, T0 + timedelta(minutes=minutes))
    assert (outcome.status, outcome.differs) == (status, differs)
    applied, notes = choose([pre(expected)], BASELINE, live, T0 + timedelta(minutes=minutes))
    assert (applied is not None) == (status == "approved")
    said = notes_by_control(notes)
    if status == "differs":
        assert all("not the change CHG-1 pre-approved by alice" in n for n in said["DRIFT-01"])
    if status == "expired":
        assert "expired" in said["DRIFT-01"][0] and "--change CHG-1" in said["DRIFT-01"][0]
    if status in ("approved", "lapsed", "unchanged", "unreadable"):
        assert said == {}


def test_no_pre_approval_approves_nothing() -> None:
    assert choose([], BASELINE, {"DRIFT-01": OPENED}, T0) == (None, [])


def test_the_newest_matching_pre_approval_applies_and_silences_those_it_covers() -> None:
    older, newer = pre({"DRIFT-01": OPENED_AND_WEB}, pre_id=1), pre({"DRIFT-01": OPENED}, pre_id=2)
    applied, notes = choose([older, newer], BASELINE, {"DRIFT-01": OPENED}, T0 + timedelta(minutes=5))
    assert applied is not None and applied.pre.id == 2 and notes == []


def test_the_store_keeps_pre_approvals_and_applies_each_once(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path / "b.sqlite3")
    store.approve("p", BASELINE, "bob", now=T0 - timedelta(days=1))
    stored = store.pre_approve("p", {"DRIFT-01": OPENED}, "alice", now=T0, expires=T0 + timedelta(hours=4),
                               change="CHG-1")  # fmt: skip
    assert (stored.approved_at, stored.expires_at, stored.change) == ("2026-11-25T12:00:00Z", "2026-11-25T16:00:00Z",
                                                                      "CHG-1")  # fmt: skip
    assert store.pre_approvals("p", pending=True) == [stored]
    first = store.apply(stored, now=T0 + timedelta(minutes=30))
    again = store.apply(stored, now=T0 + timedelta(minutes=31))  # another run, another replica: the same approval
    assert first == again and first.pre_approval == stored.id and first.applied_at == "2026-11-25T12:30:00Z"
    assert store.pre_approvals("p", pending=True) == []
    [done] = store.pre_approvals("p")
    assert done.applied == first.id and done.to_evidence()["applied_as"] == first.id
    document = store.get("p")
    assert document is not None and document["controls"]["DRIFT-01"]["state"] == OPENED
    assert document["controls"]["DRIFT-01"]["approved_by"] == "alice"
    assert document["controls"]["DRIFT-02"]["approved_by"] == "bob"  # the others keep theirs
    assert [a.id for a in store.history("p")] == [1, 2] and store.history("p")[1].to_evidence()["pre_approval"] == 1
    with pytest.raises(BaselineError, match="must expire after"):
        store.pre_approve("p", {"DRIFT-01": OPENED}, "alice", now=T0, expires=T0, change="CHG-2")
    with pytest.raises(BaselineError, match="change reference"):
        store.pre_approve("p", {"DRIFT-01": OPENED}, "alice", now=T0, expires=T0 + timedelta(hours=1), change=" ")


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def shown(cli: Cli) -> dict[str, Any]:
    code, out, _ = cli("show", "--format", "json")
    assert code == 0
    document: dict[str, Any] = json.loads(out)
    return document


def intended(cli: Cli, tmp_path: Path, edit: Any, name: str = "intended.json") -> str:
    """`baseline show --format json`, edited as an operator would, written to a file."""
    document = copy.deepcopy(shown(cli))
    for entry in document["baselines"]:
        for part in entry["controls"]:
            edit(part["control"], part["state"])
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def open_ssh(control: str, state: dict[str, Any]) -> None:
    """The edit `widen` makes at the stand-in: allow-internal opened to any source."""
    if control == "DRIFT-01":
        state["firewalls"]["allow-internal"]["sourceRanges"] = ["0.0.0.0/0"]


def test_pre_approve_from_the_shown_state_reviews_records_and_shows(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    assert cli("approve", "--yes", "--scenario", path, "--approver", "bob@example.be")[0] == 0
    expect = intended(cli, tmp_path, open_ssh)
    code, out, err = cli("approve", "--yes", "--scenario", path, "--approver", "alice@example.be", "--expect", expect,
                         "--change", "CHG-7", "--window", "4h", "--control", "DRIFT-01")  # fmt: skip
    assert code == 0, err
    assert "change CHG-7, pre-approved until 2026-11-25T16:30:00Z" in out
    assert "example-shop DRIFT-01: 1 change since the baseline approved by bob@example.be" in out
    assert "sourceRanges" in out and "0.0.0.0/0" in out
    assert ("pre-approved change CHG-7 for example-shop: DRIFT-01 (4 firewall rules and policies) by alice@example.be "
            "at 2026-11-25T12:30:00Z, until 2026-11-25T16:30:00Z (pre-approval 1, ") in out  # fmt: skip
    pre_approval = cli.recorded[-1][0]
    assert isinstance(pre_approval, PreApproval) and pre_approval.controls == ("DRIFT-01",)
    [entry] = shown(cli)["baselines"]
    [pending] = entry["pre_approvals"]
    assert (pending["change"], pending["approver"], list(pending["controls"])) == ("CHG-7", "alice@example.be",
                                                                                   ["DRIFT-01"])  # fmt: skip
    code, out, _ = cli("show")
    assert ("example-shop: pre-approval 1 of change CHG-7 (DRIFT-01) by alice@example.be at 2026-11-25T12:30:00Z, "
            "until 2026-11-25T16:30:00Z: pending") in out  # fmt: skip
    # the baseline itself did not move: the change is not made yet
    assert cli("diff", "--scenario", path)[0] == 0


def test_a_change_already_made_is_not_pre_approved(cli: Cli, tmp_path: Path) -> None:
    cli("approve", "--yes", "--scenario", scenario(tmp_path), "--approver", "bob@example.be")
    expect = intended(cli, tmp_path, open_ssh)
    widened = scenario(tmp_path, widen, name="widened.json")
    code, _, err = cli("approve", "--yes", "--scenario", widened, "--expect", expect, "--change", "CHG-7")
    assert code == 2
    assert "the live state of example-shop is already the expected state: the change was made before this " in err
    assert "`controlwatch baseline approve --scope example-shop --change CHG-7`" in err


def test_widen_is_the_edit_the_shown_state_makes(cli: Cli, tmp_path: Path) -> None:
    """The two tests above rely on `open_ssh` and `widen` being the same change."""
    cli("approve", "--yes", "--scenario", scenario(tmp_path), "--approver", "bob@example.be")
    before = shown(cli)["baselines"][0]["controls"]
    cli("approve", "--yes", "--scenario", scenario(tmp_path, widen, name="w.json"), "--approver", "bob@example.be")
    after = shown(cli)["baselines"][0]["controls"]
    edited = copy.deepcopy(before)
    for part in edited:
        open_ssh(part["control"], part["state"])
    assert [p["state"] for p in edited] == [p["state"] for p in after]


def bad(tmp_path: Path, content: Any) -> str:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


FIREWALL = {"network": "default", "direction": "INGRESS", "priority": 1000, "disabled": False, "allowed": ["tcp:22"],
            "denied": [], "sourceRanges": ["0.0.0.0/0"], "destinationRanges": [], "sourceTags": [], "targetTags": [],
            "sourceServiceAccounts": [], "targetServiceAccounts": [], "logConfig": {"enable": False}}  # fmt: skip
EXPECT_ERRORS = {
    "not-json": ("{", "not JSON"),
    "not-an-object": ([1], "must be a JSON object"),
    "no-scope": ({"DRIFT-01": {"firewalls": {}}}, "holds states without a scope: pass exactly one --scope"),
    "unknown-control": ({"scope": "example-shop", "controls": {"IAM-01": {}}}, "IAM-01 is not a DRIFT control"),
    "wrong-area": ({"scope": "example-shop", "controls": {"DRIFT-01": {"grants": {}}}},
                   "example-shop DRIFT-01: the state must be {'firewalls': {...}}, not ['grants']"),
    "item-not-object": ({"scope": "example-shop", "controls": {"DRIFT-01": {"firewalls": {"ssh": []}}}},
                        "firewalls 'ssh' must be an object, not list"),
    "typo-in-field": ({"scope": "example-shop", "controls": {"DRIFT-01": {"firewalls": {"ssh": {
        **{k: v for k, v in FIREWALL.items() if k != "sourceRanges"}, "sourceRange": ["0.0.0.0/0"]}}}}},
        "firewalls 'ssh': missing field sourceRanges"),
    "extra-field": ({"scope": "example-shop", "controls": {"DRIFT-01": {"firewalls": {"ssh": {**FIREWALL, "x": 1}}}}},
                    "firewalls 'ssh': unknown field x"),
    "grant-without-member": ({"scope": "example-shop", "controls": {"DRIFT-02": {"grants": {"r m": {"role": "r"}}}}},
                             "grants 'r m': missing field member"),
    "other-scope": ({"scope": "elsewhere", "controls": {"DRIFT-01": {"firewalls": {}}}},
                    "unknown scope elsewhere; scopes: example-shop"),
    "show-without-state": ({"baselines": [{"scope": "example-shop", "controls": [{"control": "DRIFT-01"}]}]},
                           "example-shop DRIFT-01: no `state`"),
    "old-state-version": ({"baselines": [{"scope": "example-shop", "controls": [
        {"control": "DRIFT-01", "state_version": 0, "state": {"firewalls": {}}}]}]}, "state version 0"),
}  # fmt: skip


@pytest.mark.parametrize(("content", "message"), EXPECT_ERRORS.values(), ids=EXPECT_ERRORS.keys())
def test_a_bad_expected_state_is_refused_naming_the_problem(
    cli: Cli, tmp_path: Path, content: Any, message: str
) -> None:
    path = scenario(tmp_path)
    cli("approve", "--yes", "--scenario", path, "--approver", "bob@example.be")
    code, out, err = cli("approve", "--yes", "--scenario", path, "--expect", bad(tmp_path, content), "--change", "C-1")
    assert code == 2 and "pre-approved change" not in out
    assert message in err.strip().splitlines()[-1]
    assert "Traceback" not in err


def test_usage_errors_of_a_pre_approval(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    code, _, err = cli("approve", "--yes", "--scenario", path, "--window", "4h")
    assert code == 2 and "--window needs --expect FILE" in err
    expect = bad(tmp_path, {"scope": "example-shop", "controls": {"DRIFT-02": {"grants": {}}}})
    code, _, err = cli("approve", "--yes", "--scenario", path, "--expect", expect)
    assert code == 2 and "--expect needs --change REF" in err
    code, _, err = cli("approve", "--yes", "--scenario", path, "--expect", expect, "--change", "C-1")
    assert code == 2 and "no approved baseline for DRIFT-02 in scope example-shop" in err
    cli("approve", "--yes", "--scenario", path, "--approver", "bob@example.be")
    same = intended(cli, tmp_path, lambda control, state: None)
    code, _, err = cli("approve", "--yes", "--scenario", path, "--expect", same, "--change", "C-1")
    assert code == 2 and "is its approved baseline: no change to approve" in err
    code, _, err = cli("approve", "--yes", "--scenario", path, "--expect", expect, "--change", "C-1", "--window", "0s")
    assert code == 2 and "must be longer than 0s" in err
