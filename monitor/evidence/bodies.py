"""Builders for record bodies, so every writer records the same fields the same way.

The bodies are what an auditor reads, so they are self-contained: a `control_run` says
which control judged which scope, when, with which parameters and logic version, what
it concluded about every subject (with reasons, and for accepted risks who approved them
and until when), and a digest of exactly the input it read. The interval is recorded too,
so "was it monitored at moment T?" can be answered from the ledger alone. A run that
should have happened and did not is recorded too: `run_skipped` here, and the
`evidence_lost` tally of failed appends in `losses.py` (kept free of pydantic for the writer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from checks.model import Area, Result, Verdict, is_drift, roll_up
from checks.snapshot import KindData
from monitor.evidence.canonical import format_time, legacy_json, sha256_hex
from monitor.run.risks import AcceptedRisk

if TYPE_CHECKING:
    from monitor.run.sweep import ScopePlan, ScopeRun

__all__ = [
    "SOURCES",
    "baseline_approved_body",
    "bodies_from_run",
    "config_reload_body",
    "control_run_body",
    "daemon_start_body",
    "daemon_stop_body",
    "digest",
    "exceptions_changed_body",
    "input_digest",
    "risk_json",
    "run_skipped_body",
    "scope_discovered_body",
    "scope_discovery_failed_body",
    "scope_removed_body",
    "sweep_population_body",
]

SOURCES = frozenset({"live", "demo", "scenario"})
# The text `AcceptedRisk.describe()` writes into `Result.exception_reason`.
_DESCRIBED = re.compile(
    r"^accepted risk: (?P<reason>.*) \(approved by (?P<approver>.*), expires (?P<expires>[\d-]+)\)$"
)


def digest(value: Any) -> str:
    """Hex SHA-256 of `value`'s format-1 JSON (`legacy_json`): configs, accepted risks, inputs.

    Not RFC 8785, unlike the record bodies around them: the same config or input keeps the
    digest it had before, and collected input, which may hold integers a double cannot,
    is never refused.
    """
    return sha256_hex(legacy_json(value).encode("utf-8"))


def _normalise_input(data: KindData | Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    if isinstance(data, KindData):
        entry: dict[str, Any] = (
            {"error": data.error} if data.error is not None else {"resources": [dict(r) for r in data.resources]}
        )
        if data.note is not None:
            entry["note"] = data.note
        return entry
    if isinstance(data, Mapping):
        return dict(data)
    return {"resources": list(data)}


def input_digest(inputs: Mapping[str, KindData | Mapping[str, Any] | Sequence[Any]]) -> str:
    """`digest` of `{kind: {"resources": [...]} | {"error": msg}}`.

    Whoever kept the snapshot (or re-collects it from a scenario) can recompute this and
    show the control judged exactly that input.
    """
    return digest({kind: _normalise_input(data) for kind, data in inputs.items()})


class InputDigests:
    """`input_digest` of the controls of one scope run, each kind encoded once (WHY: every
    control re-encoding and re-hashing the same firewalls was a tenth of a large sweep).

    Controls reading the same kinds get the digest already made; the others get it hashed
    from each kind's kept encoding, joined as `legacy_json` would join them: the digest is
    exactly `input_digest(inputs)`.
    """

    def __init__(self) -> None:
        self._encoded: dict[str, str] = {}  # kind -> its `legacy_json` (baselines are not kept: per control)
        self._digests: dict[tuple[str, ...], str] = {}

    def of(self, inputs: Mapping[str, KindData | Mapping[str, Any] | Sequence[Any]]) -> str:
        kinds = tuple(sorted(inputs))
        shared = all(isinstance(inputs[kind], KindData) for kind in kinds)
        if shared and kinds in self._digests:
            return self._digests[kinds]
        parts = []
        for kind in kinds:
            data = inputs[kind]
            text = self._encoded.get(kind) if isinstance(data, KindData) else None
            if text is None:
                text = legacy_json(_normalise_input(data))
                if isinstance(data, KindData):
                    self._encoded[kind] = text
            parts.append(f"{legacy_json(kind)}:{text}")
        found = sha256_hex(("{" + ",".join(parts) + "}").encode("utf-8"))
        if shared:
            self._digests[kinds] = found
        return found


def _input_summary(inputs: Mapping[str, KindData | Mapping[str, Any] | Sequence[Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for kind, data in inputs.items():
        entry = _normalise_input(data)
        if "error" in entry:
            summary[kind] = {"error": entry["error"]}
        else:
            summary[kind] = {"resources": len(entry.get("resources", []))}
    return summary


def risk_json(risk: AcceptedRisk) -> dict[str, Any]:
    """An accepted risk as evidence: what, why, who approved it, until when."""
    data: dict[str, Any] = {
        "control": risk.control,
        "scope": risk.scope,
        "resource": risk.resource,
        "reason": risk.reason,
        "approver": risk.approver,
        "expires": risk.expires.isoformat(),
        "expires_at": format_time(risk.expires_at),
    }
    if risk.subject is not None:
        data["subject"] = risk.subject
    return data


def _exception(result: Result, risks: Sequence[AcceptedRisk]) -> dict[str, Any]:
    for risk in risks:
        if risk.matches(result) and risk.describe() == result.exception_reason:
            return {"reason": risk.reason, "approver": risk.approver, "expires": risk.expires.isoformat()}
    match = _DESCRIBED.match(result.exception_reason or "")
    if match:
        return {"reason": match["reason"], "approver": match["approver"], "expires": match["expires"]}
    return {"reason": result.exception_reason or "", "approver": None, "expires": None}


def _result_json(result: Result, risks: Sequence[AcceptedRisk]) -> dict[str, Any]:
    data = result.to_json()
    del data["control"], data["scope"]  # the body carries them once
    if result.excepted:
        data["exception"] = _exception(result, risks)
    return data


def _counts(results: Sequence[Result]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "excepted": 0, "error": 0, "checked": len(results)}
    for result in results:
        if result.verdict is Verdict.FAIL and result.excepted:
            counts["excepted"] += 1
        else:
            counts[result.verdict.value] += 1
    return counts


def control_run_body(
    *,
    control: str,
    scope: str,
    started: datetime,
    ended: datetime,
    results: Sequence[Result],
    params: Mapping[str, Any],
    inputs: Mapping[str, KindData | Mapping[str, Any] | Sequence[Any]],
    logic_version: int,
    controlwatch_version: str,
    source: str,
    area: str | None = None,
    interval: timedelta | None = None,
    risks: Sequence[AcceptedRisk] = (),
    digests: InputDigests | None = None,
) -> dict[str, Any]:
    """The body of a `control_run` record: one control judged in one scope, once.

    `inputs` maps each kind the control read to its `KindData` (or `{"resources": [...]}`
    / `{"error": msg}`); `params` are the control's parameters as JSON; `risks` are the
    accepted risks in force, used to record approver and expiry of excepted results.
    `digests`, shared by the controls of one run, encodes each kind once.
    """
    if source not in SOURCES:
        raise ValueError(f"source {source!r} is not one of {sorted(SOURCES)}")
    body: dict[str, Any] = {
        "control": control,
        "scope": scope,
        "area": area if area is not None else area_of(control),
        "started": format_time(started),
        "ended": format_time(ended),
        "status": roll_up(results).value,
        "counts": _counts(results),
        "results": [_result_json(result, risks) for result in results],
        "params": dict(params),
        "input_digest": digests.of(inputs) if digests is not None else input_digest(inputs),
        "inputs": _input_summary(inputs),
        "logic_version": logic_version,
        "controlwatch_version": controlwatch_version,
        "source": source,
    }
    if interval is not None:
        body["interval_seconds"] = interval.total_seconds()
    return body


def area_of(control: str) -> str:
    """The area of a control id (`FW-01` -> `firewall`), from its prefix."""
    prefix = control.split("-", 1)[0]
    try:
        return Area[prefix].value
    except KeyError:
        return prefix.lower()


def _dotted(data: Mapping[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        value = value[part]
    return value


def bodies_from_run(
    run: ScopeRun,
    plan: ScopePlan,
    *,
    controlwatch_version: str,
    source: str,
    interval: timedelta | None = None,
    results: Mapping[str, Sequence[Result]] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """One `control_run` body per control of a scope run, ready for `Ledger.append_many`.

    `results`: the results as the daemon stores and shows them (DRIFT ones naming who made
    the change, from the Admin Activity audit log), when they differ from the run's own."""
    judged = results if results is not None else run.results
    all_params = plan.params.model_dump(mode="json")
    started = datetime.fromtimestamp(run.started, UTC)
    ended = datetime.fromtimestamp(run.ended, UTC)
    entries: list[tuple[str, dict[str, Any]]] = []
    digests = InputDigests()  # the snapshot's kinds encoded once for every control of the run
    for control in plan.controls:
        meta = control.meta
        if meta.id not in judged:
            continue
        inputs: dict[str, KindData | Mapping[str, Any]] = {
            kind: run.snapshot.kinds.get(kind, KindData(error="not collected")) for kind in meta.kinds
        }
        if is_drift(meta.id):
            baseline = run.snapshot.baseline
            inputs["baseline"] = {"error": "no approved baseline"} if baseline is None else {"value": dict(baseline)}
        body = control_run_body(
            control=meta.id,
            scope=run.scope,
            started=started,
            ended=ended,
            results=judged[meta.id],
            params={key: _dotted(all_params, key) for key in meta.params},
            inputs=inputs,
            logic_version=meta.logic_version,
            controlwatch_version=controlwatch_version,
            source=source,
            area=meta.area.value,
            interval=interval,
            risks=plan.risks,
            digests=digests,
        )
        entries.append(("control_run", body))
    return entries


def sweep_population_body(
    scopes: Sequence[str],
    started: datetime,
    ended: datetime,
    *,
    controls: Mapping[str, Sequence[str]] | None = None,
    interval: timedelta | None = None,
) -> dict[str, Any]:
    """The population monitored over `[started, ended]`: which scopes (and controls per scope).

    With it, "was every project checked on date D?" compares this population with the
    `control_run` records of that day instead of trusting whatever happens to be there.
    """
    body: dict[str, Any] = {
        "scopes": sorted(set(scopes)),
        "started": format_time(started),
        "ended": format_time(ended),
    }
    if controls is not None:
        body["controls"] = {scope: sorted(set(ids)) for scope, ids in controls.items()}
    if interval is not None:
        body["interval_seconds"] = interval.total_seconds()
    return body


def run_skipped_body(
    *,
    scope: str,
    controls: Sequence[str],
    cause: str,
    at: datetime,
    stuck_calls: int | None = None,
    interval: timedelta | None = None,
) -> dict[str, Any]:
    """A scheduled run of `scope` that was not made, and why: its controls have no `control_run` for it.

    The result store shows `error` for each of them meanwhile; this is what explains the gap in the ledger.
    """
    body: dict[str, Any] = {
        "scope": scope,
        "controls": sorted(set(controls)),
        "cause": cause,
        "skipped_at": format_time(at),
        "stuck_calls": stuck_calls,
    }
    if interval is not None:
        body["interval_seconds"] = interval.total_seconds()
    return body


def daemon_start_body(
    *, version: str, mode: str, config_digest: str | None = None, scopes: Sequence[str] = (), pid: int | None = None
) -> dict[str, Any]:
    return {"version": version, "mode": mode, "config_digest": config_digest, "scopes": sorted(scopes), "pid": pid}


def daemon_stop_body(*, reason: str, pid: int | None = None) -> dict[str, Any]:
    return {"reason": reason, "pid": pid}


def config_reload_body(*, result: str, config_digest: str | None = None, error: str | None = None) -> dict[str, Any]:
    """`result` is `success` or `failure` (the running config was kept)."""
    return {"result": result, "config_digest": config_digest, "error": error}


def baseline_approved_body(
    *,
    scope: str,
    approver: str,
    baseline_digest: str,
    controls: Sequence[str] = (),
    note: str | None = None,
    change: str | None = None,
    before_change: bool | None = None,
    expires: str | None = None,
) -> dict[str, Any]:
    """A baseline approval. `change`: the change ticket it belongs to; `before_change`: True when
    it was given before the change (a pre-approval applied by a run, or, with `expires`, one
    still waiting for its change until then), False when given after it."""
    body: dict[str, Any] = {
        "scope": scope,
        "approver": approver,
        "baseline_digest": baseline_digest,
        "controls": sorted(controls),
        "note": note,
    }
    extra = {"change": change, "before_change": before_change, "expires": expires}
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def exceptions_changed_body(
    before: Sequence[AcceptedRisk], after: Sequence[AcceptedRisk], *, by: str | None = None
) -> dict[str, Any]:
    """Accepted risks added and removed (a changed one appears in both)."""
    old = {digest(risk_json(r)): risk_json(r) for r in before}
    new = {digest(risk_json(r)): risk_json(r) for r in after}
    return {
        "added": [new[k] for k in sorted(new.keys() - old.keys())],
        "removed": [old[k] for k in sorted(old.keys() - new.keys())],
        "count": len(new),
        "by": by,
    }


def scope_discovered_body(
    *,
    scope: str,
    why: str,
    cause: str,
    state: str | None = None,
    parent: str | None = None,
    root: str | None = None,
    folders: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A project watched from now on because discovery found it (or the config now lists it).

    `cause` is what refreshed the set: `start`, `refresh` (the periodic one) or `SIGHUP`;
    `why` the rule that let it in; `folders` the folders above it, nearest first.
    """
    return {
        "scope": scope,
        "why": why,
        "cause": cause,
        "state": state,
        "parent": parent,
        "root": root,
        "folders": list(folders),
        "labels": dict(sorted((labels or {}).items())),
    }


def scope_removed_body(*, scope: str, why: str, cause: str, state: str | None = None) -> dict[str, Any]:
    """A project no longer watched: deleted (`state: DELETE_REQUESTED`), excluded, or no longer found.

    Its controls have no `control_run` from now on; this is what explains that.
    """
    return {"scope": scope, "why": why, "cause": cause, "state": state}


def scope_discovery_failed_body(*, error: str, cause: str, roots: Sequence[str], kept: Sequence[str]) -> dict[str, Any]:
    """A discovery that failed: the watched set stays as it was (`kept`), nothing is dropped on it."""
    return {"error": error, "cause": cause, "roots": list(roots), "kept": sorted(kept), "count": len(set(kept))}
