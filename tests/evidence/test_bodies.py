"""Record bodies: what a control run records, and the digest of what it read."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, timedelta

import pytest

from checks import default_registry
from checks.model import Result, Verdict
from checks.params import Params
from checks.snapshot import Kind, KindData
from monitor.evidence import (
    bodies_from_run,
    control_run_body,
    digest,
    exceptions_changed_body,
    input_digest,
    sweep_population_body,
)
from monitor.evidence.canonical import canonical_json
from monitor.run.risks import AcceptedRisk
from monitor.run.sweep import ScopePlan, run_scope
from tests.builders import NOW, make_snapshot
from tests.evidence.conftest import T0

FIREWALL = {
    "name": "allow-ssh",
    "network": "https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/default",
    "direction": "INGRESS",
    "sourceRanges": ["0.0.0.0/0"],
    "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
    "disabled": False,
    "priority": 1000,
    "selfLink": "https://www.googleapis.com/compute/v1/projects/shop-prod/global/firewalls/allow-ssh",
}
RISK = AcceptedRisk(
    control="FW-01",
    scope="shop-prod",
    resource="*allow-ssh*",
    reason="bastion during migration",
    approver="ciso@example.be",
    expires=date(2026, 12, 31),
)


def result(verdict: Verdict, *, excepted: bool = False, reason: str = "r") -> Result:
    return Result(
        "FW-01",
        "shop-prod",
        "//compute.googleapis.com/projects/shop-prod/global/firewalls/f",
        "tcp:22",
        verdict,
        reason,
        excepted=excepted,
        exception_reason=RISK.describe() if excepted else None,
    )


def body(results: list[Result], **kwargs: object) -> dict[str, object]:
    defaults: dict[str, object] = dict(
        control="FW-01",
        scope="shop-prod",
        started=T0,
        ended=T0 + timedelta(seconds=3),
        results=results,
        params={"firewall.public_ports": ["tcp:443"]},
        inputs={Kind.FIREWALLS: KindData(resources=(FIREWALL,))},
        logic_version=2,
        controlwatch_version="0.1.0",
        source="live",
    )
    defaults.update(kwargs)
    return control_run_body(**defaults)  # type: ignore[arg-type]


def test_a_control_run_records_what_an_auditor_asks() -> None:
    data = body(
        [result(Verdict.PASS), result(Verdict.FAIL), result(Verdict.FAIL, excepted=True)],
        interval=timedelta(minutes=15),
    )
    assert data["status"] == "fail"
    assert data["counts"] == {"pass": 1, "fail": 1, "excepted": 1, "error": 0, "checked": 3}
    assert data["started"] == "2026-03-02T00:00:00.000000Z" and data["ended"] == "2026-03-02T00:00:03.000000Z"
    assert data["area"] == "firewall" and data["source"] == "live" and data["logic_version"] == 2
    assert data["interval_seconds"] == 900
    assert data["params"] == {"firewall.public_ports": ["tcp:443"]}
    assert data["inputs"] == {"firewalls": {"resources": 1}}
    excepted = data["results"][2]  # type: ignore[index]
    assert excepted["exception"] == {
        "reason": "bastion during migration",
        "approver": "ciso@example.be",
        "expires": "2026-12-31",
    }
    assert "control" not in excepted  # carried once by the body
    canonical_json(data)  # it is JSON all the way down


def test_digests_keep_the_format_1_encoding() -> None:
    """A config or input digested before RFC 8785 digests the same after it, big integers included."""
    value = {"b": 24.0, "a": [2**64, "é"]}
    assert digest(value) == hashlib.sha256('{"a":[18446744073709551616,"é"],"b":24.0}'.encode()).hexdigest()


def test_roll_up_error_wins_and_excepted_failures_pass() -> None:
    assert body([result(Verdict.FAIL), result(Verdict.ERROR)])["status"] == "error"
    assert body([result(Verdict.FAIL, excepted=True)])["status"] == "pass"


def test_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError, match="source"):
        body([result(Verdict.PASS)], source="staging")


def test_input_digest_is_the_canonical_input_and_changes_with_it() -> None:
    a = input_digest({Kind.FIREWALLS: KindData(resources=(FIREWALL,))})
    assert a == input_digest({Kind.FIREWALLS: {"resources": [dict(reversed(list(FIREWALL.items())))]}})
    assert a != input_digest({Kind.FIREWALLS: KindData(resources=({**FIREWALL, "disabled": True},))})
    failed = input_digest({Kind.FIREWALLS: KindData(error="403 Forbidden")})
    assert failed != a and failed == input_digest({Kind.FIREWALLS: {"error": "403 Forbidden"}})


def test_bodies_from_a_real_scope_run() -> None:
    registry = default_registry()
    fw01 = registry.get("FW-01")
    compute = {"firewalls": [FIREWALL], "networks": [], "instances": []}
    compute |= {"firewallPolicies": [], "regionFirewallPolicies": []}  # no firewall policy
    snapshot = make_snapshot({"compute": compute}, now=NOW, firewall_policies=[])
    plan = ScopePlan(scope="shop-prod", controls=(fw01,), params=Params(), risks=(RISK,))
    run = run_scope(plan, lambda scope, kinds, observer, now: (snapshot, False, 0), observer=None, now=NOW)  # type: ignore[arg-type]
    [(kind, data)] = bodies_from_run(run, plan, controlwatch_version="0.1.0", source="scenario")
    assert kind == "control_run"
    assert data["control"] == "FW-01" and data["scope"] == "shop-prod"
    assert data["logic_version"] == fw01.meta.logic_version
    assert set(data["params"]) == set(fw01.meta.params)
    assert set(data["inputs"]) == set(fw01.meta.kinds)
    assert data["counts"]["checked"] == len(run.results["FW-01"])
    [excepted] = [r for r in data["results"] if r["excepted"]]
    assert excepted["exception"]["approver"] == "ciso@example.be"
    assert data["status"] == "pass"  # the only failure is an accepted risk


def test_sweep_population_and_exception_changes() -> None:
    population = sweep_population_body(
        ["b-proj", "a-proj", "a-proj"], T0, T0 + timedelta(minutes=1), controls={"a-proj": ["FW-02", "FW-01"]}
    )
    assert population["scopes"] == ["a-proj", "b-proj"]
    assert population["controls"] == {"a-proj": ["FW-01", "FW-02"]}
    later = replace(RISK, expires=date(2027, 1, 31))
    changed = exceptions_changed_body([RISK], [later], by="ciso@example.be")
    assert [r["expires"] for r in changed["added"]] == ["2027-01-31"]
    assert [r["expires"] for r in changed["removed"]] == ["2026-12-31"]


def test_every_controls_input_digest_of_a_run_is_its_own_inputs_digest() -> None:
    """The kinds are encoded once per run; each control's digest is still exactly its inputs'."""
    registry = default_registry()
    controls = tuple(c for c in registry if not c.meta.id.startswith("DRIFT-"))
    other = {**FIREWALL, "name": "other", "sourceRanges": ["10.0.0.0/8"]}
    snapshot = make_snapshot(
        {"compute": {"firewalls": [FIREWALL, other], "networks": [], "instances": []}},
        now=NOW,
        errors={Kind.IAM_POLICY: "403 Forbidden"},
    )
    plan = ScopePlan(scope="shop-prod", controls=controls, params=Params(), risks=())
    run = run_scope(plan, lambda scope, kinds, observer, now: (snapshot, False, 0), observer=None, now=NOW)  # type: ignore[arg-type]
    bodies = bodies_from_run(run, plan, controlwatch_version="0.1.0", source="scenario")
    assert len(bodies) == len(controls) > 10
    by_control = {c.meta.id: c for c in controls}
    for _, body in bodies:
        meta = by_control[body["control"]].meta
        inputs = {kind: snapshot.kinds.get(kind, KindData(error="not collected")) for kind in meta.kinds}
        assert body["input_digest"] == input_digest(inputs)
    assert len({body["input_digest"] for _, body in bodies}) > 2  # the kinds differ between controls
