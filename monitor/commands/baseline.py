"""`controlwatch baseline`: approve the live drift-watched state, show what is approved, and
diff the live state against it (approving is an explicit command: README, "Drift and approved baselines").

`approve` and `diff` read the live state through the same collectors as `check`: from real
GCP with `--config`, or offline from a scenario file through the local stand-in with
`--scenario`. `show` reads the store only and never imports a Google client. Exit codes:
0 ok (`diff`: no drift), 1 drift (`diff`), 2 bad usage, no baseline, or a live state that
could not be read (one clear line, no traceback).

Every approval is also evidence: appended to the ledger at `evidence.path` (`record_approval`).
"""

from __future__ import annotations

import getpass
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from checks.driftstate import AREA_ITEM, CONTROL_AREAS, STATE_VERSION, Change, StateError, diff, kinds_for
from checks.driftstate import watched_state as live_state
from checks.snapshot import Snapshot
from monitor.collect.collector import StuckCalls
from monitor.commands.common import (
    config_and_scenario,
    fail,
    load_config_file,
    serving,
    with_overrides,
)
from monitor.config.model import Config
from monitor.drift.baselines import Approval, BaselineError, BaselineStore, default_path

#: Called with every stored approval and the config it was made under: where the lead's
#: evidence ledger appends `approval.to_evidence()`.
Recorder = Callable[[Approval, Config], None]
Clock = Callable[[], datetime]
EXIT_DRIFT = 1
_CONTROLS = click.Choice(list(CONTROL_AREAS))


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Live:
    """Where the live state comes from: the config (scopes, store) and a snapshot reader."""

    config: Config
    read: Callable[[str, Sequence[str]], Snapshot]


@contextmanager
def _live(config_path: str | None, scenario: str | None) -> Iterator[_Live]:
    """Collectors for the config's scopes, against real GCP or a scenario through the stand-in."""
    config, loaded = config_and_scenario(
        config_path,
        scenario,
        neither="no live state to read: pass --config FILE (real GCP) or --scenario FILE (offline)",
    )
    stuck = StuckCalls()  # calls abandoned at the deadline run on daemon threads: they never hold the exit
    if loaded is None:
        yield _Live(config, _reader(config, None, stuck))
        return
    with serving(loaded, shift_time=False) as server:
        yield _Live(config, _reader(with_overrides(config, endpoint=server.url), loaded.now, stuck))


def _reader(config: Config, fixed_now: datetime | None, stuck: StuckCalls) -> Callable[[str, Sequence[str]], Snapshot]:
    from monitor.collect.clients import CredentialsMissing, make_clients
    from monitor.collect.observer import NullObserver
    from monitor.run.runtime import collect_settings, make_collect

    try:
        clients = make_clients(config.gcp.api_endpoint)
    except CredentialsMissing as exc:
        fail(str(exc))
    collect = make_collect(clients, collect_settings(config), stuck, fixed_now=fixed_now)

    def read(scope: str, kinds: Sequence[str]) -> Snapshot:
        snapshot, _, _ = collect(scope, kinds, NullObserver(), fixed_now or _now())
        return snapshot

    return read


def _state(live: _Live, scope: str, controls: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The live state of `controls` in `scope`; exit 2 when any input could not be collected."""
    kinds = kinds_for(controls)
    snapshot = live.read(scope, kinds)
    failed = snapshot.failed_kinds(kinds)
    if failed:
        cause = "; ".join(f"{kind}: {why}" for kind, why in sorted(failed.items()))
        fail(f"cannot read the live state of {scope} ({cause})")
    try:
        return live_state(snapshot, controls)
    except StateError as exc:
        fail(f"cannot read the live state of {scope}: {exc}")


def _scopes(config: Config, chosen: Sequence[str]) -> list[str]:
    unknown = [s for s in chosen if s not in config.scope_ids()]
    if unknown:
        fail(f"unknown scope {', '.join(unknown)}; scopes: {', '.join(config.scope_ids())}")
    return list(chosen) or list(config.scope_ids())


def _store(store: str | None, config: Config | None, *, create: bool) -> BaselineStore:
    path = Path(store) if store else default_path(config.evidence.path if config is not None else None)
    if not create and not path.exists():
        fail(f"no approved baseline: {path} does not exist; approve one with `controlwatch baseline approve`")
    try:
        return BaselineStore(path)
    except (sqlite3.Error, OSError) as exc:  # not a database, not writable, ...: said in one line
        fail(f"{path}: cannot open the baseline store: {exc}")


def _items(part: dict[str, Any], control: str) -> int:
    area = CONTROL_AREAS.get(control, "")
    items = part.get("state", {}).get(area, {})
    return len(items) if isinstance(items, dict) else 0


# DRIFT-01's items are the VPC rules and the project's network firewall policies
_UNITS = {
    "DRIFT-01": ("firewall rule or policy", "firewall rules and policies"),
    "DRIFT-02": ("grant", "grants"),
    "DRIFT-03": ("disk", "disks"),
}


def _counted(count: int, control: str) -> str:
    one, many = _UNITS.get(control, ("item", "items"))
    return f"{count} {one if count == 1 else many}"


_SCOPE = click.option("--scope", "scopes", multiple=True, help="Only this scope (repeatable).")
_CONFIG = click.option("--config", "config_path", type=click.Path(), envvar="CONTROLWATCH_CONFIG", help="Config file.")
_SCENARIO = click.option(
    "--scenario", type=click.Path(dir_okay=False), help="Read the live state offline from a scenario file."
)
_STORE = click.option(
    "--store",
    type=click.Path(dir_okay=False),
    help="Baseline store (default: baselines.sqlite3 beside evidence.path; .controlwatch/baselines.sqlite3).",
)
_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)


def make_baseline_group(*, record: Recorder | None = None, clock: Clock = _now) -> click.Group:
    """The `baseline` command group; `record` receives every approval (for the evidence
    ledger), `clock` gives the approval time (fixed in tests)."""

    @click.group("baseline")
    def baseline() -> None:
        """Approved baselines of the DRIFT controls: approve, show, diff."""

    @baseline.command("approve")
    @_SCOPE
    @click.option("--control", "controls", multiple=True, type=_CONTROLS, help="Only this control (repeatable).")
    @click.option("--approver", help="Who approves (default: the OS user).")
    @_CONFIG
    @_SCENARIO
    @_STORE
    def approve(
        scopes: tuple[str, ...],
        controls: tuple[str, ...],
        approver: str | None,
        config_path: str | None,
        scenario: str | None,
        store: str | None,
    ) -> None:
        """Approve the live state as the baseline (other controls keep theirs). Review it first
        with `controlwatch baseline diff`."""
        who = (approver or _os_user()).strip()
        if not who:
            fail("--approver must name someone")
        chosen = list(dict.fromkeys(controls)) or list(CONTROL_AREAS)
        with _live(config_path, scenario) as live:
            states = {scope: _state(live, scope, chosen) for scope in _scopes(live.config, scopes)}
        target = _store(store, live.config, create=True)
        for scope, state in states.items():
            try:
                approval = target.approve(scope, state, who, controls=chosen, now=clock())
            except (sqlite3.Error, BaselineError) as exc:
                fail(f"{target.path}: cannot store the approval of {scope}: {exc}")
            if record is not None:
                record(approval, live.config)
            what = ", ".join(f"{c.control} ({_counted(c.items, c.control)})" for c in approval.controls)
            click.echo(
                f"approved {scope}: {what} by {approval.approver} at {approval.approved_at} "
                f"(approval {approval.id}, {target.path})"
            )

    @baseline.command("show")
    @_SCOPE
    @_FORMAT
    @click.option("--history", is_flag=True, help="List every approval, not only the current baseline.")
    @_CONFIG
    @_STORE
    def show(scopes: tuple[str, ...], fmt: str, history: bool, config_path: str | None, store: str | None) -> None:
        """Who approved which baseline, when, and how many items it holds."""
        source = _store(store, load_config_file(config_path) if config_path else None, create=False)
        chosen = list(scopes) or source.scopes()
        documents = {scope: source.get(scope) for scope in chosen}
        missing = [scope for scope, doc in documents.items() if doc is None]
        if missing or not chosen:
            fail(f"no approved baseline for {', '.join(missing) or 'any scope'} in {source.path}")
        entries = [_show_entry(scope, doc, source, history) for scope, doc in documents.items() if doc is not None]
        if fmt == "json":
            click.echo(json.dumps({"schema_version": 1, "store": str(source.path), "baselines": entries}, indent=2))
        else:
            click.echo(_show_table(entries, history))

    @baseline.command("diff")
    @_SCOPE
    @click.option("--control", "controls", multiple=True, type=_CONTROLS, help="Only this control (repeatable).")
    @_FORMAT
    @_CONFIG
    @_SCENARIO
    @_STORE
    def diff_command(
        scopes: tuple[str, ...],
        controls: tuple[str, ...],
        fmt: str,
        config_path: str | None,
        scenario: str | None,
        store: str | None,
    ) -> None:
        """The live state against the approved baseline, field by field: exit 0 no drift, 1 drift."""
        with _live(config_path, scenario) as live:
            source = _store(store, live.config, create=False)
            plan = _diff_plan(source, _scopes(live.config, scopes), scopes, controls)
            compared = [
                entry
                for scope, (doc, parts) in plan.items()
                for entry in _compare(scope, doc, parts, _state(live, scope, parts))
            ]
        drifted = any(entry.changes for entry in compared)
        if fmt == "json":
            results = [entry.to_json() for entry in compared]
            click.echo(json.dumps({"schema_version": 1, "drift": drifted, "results": results}, indent=2))
        else:
            click.echo("\n".join(line for entry in compared for line in entry.lines()))
        sys.exit(EXIT_DRIFT if drifted else 0)

    return baseline


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (containers)
        fail("cannot tell who you are from the OS: pass --approver NAME")


def _show_entry(scope: str, doc: dict[str, Any], source: BaselineStore, history: bool) -> dict[str, Any]:
    controls = [
        {
            "control": control,
            "items": _items(part, control),
            "approved_by": part["approved_by"],
            "approved_at": part["approved_at"],
            "approval": part["approval"],
            "digest": part["digest"],
            "state_version": part["state_version"],
        }
        for control, part in doc["controls"].items()
    ]
    entry: dict[str, Any] = {
        "scope": scope,
        "approved_by": doc["approved_by"],
        "approved_at": doc["approved_at"],
        "controls": controls,
    }
    if history:
        entry["history"] = [approval.to_evidence() for approval in source.history(scope)]
    return entry


def _show_table(entries: list[dict[str, Any]], history: bool) -> str:
    rows = [("SCOPE", "CONTROL", "ITEMS", "APPROVED BY", "APPROVED AT", "APPROVAL", "DIGEST")]
    for entry in entries:
        for c in entry["controls"]:
            rows.append(
                (
                    entry["scope"],
                    c["control"],
                    _counted(c["items"], c["control"]),
                    c["approved_by"],
                    c["approved_at"],
                    str(c["approval"]),
                    c["digest"][:19] + "…",
                )
            )
    lines = _columns(rows)
    for entry in entries if history else ():
        lines.append("")
        lines.append(f"history of {entry['scope']}:")
        for record in entry["history"]:
            what = ", ".join(f"{c} ({_counted(v['items'], c)})" for c, v in record["controls"].items())
            lines.append(f"  approval {record['approval']}: {record['approved_at']} by {record['approver']}: {what}")
    return "\n".join(lines)


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


_Plan = dict[str, tuple[dict[str, Any], list[str]]]


def _diff_plan(source: BaselineStore, scopes: list[str], named: Sequence[str], controls: Sequence[str]) -> _Plan:
    """Per scope, its baseline document and the controls to compare. Scopes named with
    `--scope` must have a baseline; otherwise scopes without one are skipped, and said so."""
    plan: _Plan = {}
    for scope in scopes:
        doc = source.get(scope)
        if doc is None:
            if named:
                fail(
                    f"no approved baseline for scope {scope}; approve one with "
                    f"`controlwatch baseline approve --scope {scope}`"
                )
            click.echo(f"{scope}: no approved baseline, not compared", err=True)
            continue
        parts = list(dict.fromkeys(controls)) or list(doc["controls"])
        for control in parts:
            part = doc["controls"].get(control)
            if part is None:
                fail(
                    f"no approved baseline for {control} in scope {scope}; approve one with "
                    f"`controlwatch baseline approve --scope {scope} --control {control}`"
                )
            if part.get("state_version") != STATE_VERSION:
                fail(
                    f"the baseline of {control} in scope {scope} was stored with state version "
                    f"{part.get('state_version')}, this controlwatch compares {STATE_VERSION}: re-approve it"
                )
        plan[scope] = (doc, parts)
    if not plan:
        fail(f"no approved baseline for any scope in {source.path}")
    return plan


@dataclass(frozen=True, slots=True)
class _Compared:
    """One control of one scope: its baseline and what changed since."""

    scope: str
    control: str
    part: dict[str, Any]
    changes: list[Change]

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "control": self.control,
            "approved_by": self.part["approved_by"],
            "approved_at": self.part["approved_at"],
            "approval": self.part["approval"],
            "items": _items(self.part, self.control),
            "changes": [c.to_json() for c in self.changes],
        }

    def lines(self) -> list[str]:
        since = f"the baseline approved by {self.part['approved_by']} at {self.part['approved_at']}"
        count = len(self.changes)
        if not count:
            return [
                f"{self.scope} {self.control}: no drift from {since} "
                f"({_counted(_items(self.part, self.control), self.control)})"
            ]
        lines = [f"{self.scope} {self.control}: {count} change{'s' if count > 1 else ''} since {since}"]
        for change in self.changes:
            lines.append(f"  {AREA_ITEM.get(change.area, change.area)} {change.key} {change.change}")
            lines.extend(f"      {field.describe()}" for field in change.fields)
        return lines


def _compare(scope: str, doc: dict[str, Any], controls: list[str], live: dict[str, Any]) -> list[_Compared]:
    parts = doc["controls"]
    return [_Compared(scope, c, parts[c], diff(parts[c]["state"], live[c])) for c in controls]


def record_approval(approval: Approval, config: Config) -> None:
    """Every baseline approval is evidence: appended to the ledger at `evidence.path`."""
    from monitor.evidence import Ledger
    from monitor.evidence.bodies import baseline_approved_body, digest

    record = approval.to_evidence()
    body = baseline_approved_body(
        scope=record["scope"],
        approver=record["approver"],
        baseline_digest=digest(record["controls"]),
        controls=list(record["controls"]),
        note=f"approval {record['approval']} at {record['approved_at']}",
    )
    ledger = Ledger(config.evidence.path)
    try:
        ledger.append("baseline_approved", body)
    finally:
        ledger.close()


baseline = make_baseline_group(record=record_approval)
