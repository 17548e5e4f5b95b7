"""`controlwatch baseline`: approve the live drift-watched state, show what is approved, and
diff the live state against it (approving is an explicit command: README, "Drift and approved baselines").

`diff` reads the live state from a running daemon (`--daemon URL`; the default when neither
`--config` nor `--scenario` is given), which also says which baseline it reads; or collects
it through the same collectors as `check`: from real GCP with `--config`, or offline from a
scenario file through the local stand-in with `--scenario`. Where nothing was approved yet,
`diff` previews what `approve` would record. `approve` collects (never from a daemon: it
writes the store beside the config's `evidence.path`, which the daemon with that config
reads at each run), shows that same review and asks before recording unless `--yes`.
`approve --expect FILE --change REF [--window 4h]` approves a change before it is made: the
intended state (`baseline_expect.py`), stored as a pre-approval the daemon applies when a run
sees exactly that state within the window (`monitor.drift.preapprovals`).
`show` reads the store only and never imports a Google client. Exit codes: 0 ok (`diff`: no
drift), 1 drift (`diff`) or an approval declined, 2 bad usage or a live state that could not
be read (one clear line, no traceback).

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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from checks.driftstate import CONTROL_AREAS, StateError, diff, kinds_for
from checks.driftstate import watched_state as live_state
from checks.snapshot import Snapshot
from monitor.collect.collector import StuckCalls
from monitor.commands.baseline_daemon import DEFAULT_URL, FROM_CONFIG, DaemonLive, daemon_url
from monitor.commands.baseline_expect import read_expected
from monitor.commands.baseline_review import Preview, counted, items_of, review
from monitor.commands.common import (
    config_and_scenario,
    fail,
    load_config_file,
    serving,
    with_overrides,
)
from monitor.commands.evidence_args import Duration
from monitor.config.model import Config
from monitor.drift.baselines import Approval, BaselineError, BaselineStore, default_path, timestamp
from monitor.drift.preapprovals import PreApproval

#: Called with every stored approval (or pre-approval) and the config it was made under: where
#: the evidence ledger appends it.
Recorder = Callable[[Approval | PreApproval, Config], None]
Clock = Callable[[], datetime]
EXIT_DRIFT = 1
#: How long a pre-approval waits for its change when `--window` is not given.
DEFAULT_WINDOW = timedelta(hours=24)
_CONTROLS = click.Choice(list(CONTROL_AREAS))


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Live:
    """Where the live state comes from: the config (scopes, store) and its readers. `daemon`
    is set when a running daemon gives the state (and the baseline it reads)."""

    config: Config | None
    scopes: Callable[[Sequence[str]], list[str]]
    controls: Callable[[str, Sequence[str]], list[str]]
    state: Callable[[str, Sequence[str]], dict[str, dict[str, Any]]]
    daemon: DaemonLive | None = None


@contextmanager
def _collected(config_path: str | None, scenario: str | None) -> Iterator[_Live]:
    """Collectors for the config's scopes, against real GCP or a scenario through the stand-in."""
    config, loaded = config_and_scenario(
        config_path,
        scenario,
        neither="no live state to read: pass --config FILE (real GCP; or set CONTROLWATCH_CONFIG) or "
        "--scenario FILE (offline)",
    )
    stuck = StuckCalls()  # calls abandoned at the deadline run on daemon threads: they never hold the exit
    if loaded is None:
        yield _collecting(config, _reader(config, None, stuck))
        return
    with serving(loaded, shift_time=False) as server:
        yield _collecting(config, _reader(with_overrides(config, endpoint=server.url), loaded.now, stuck))


def _collecting(config: Config, read: Callable[[str, Sequence[str]], Snapshot]) -> _Live:
    return _Live(
        config,
        scopes=lambda chosen: _scopes(config, chosen),
        controls=lambda _scope, chosen: list(dict.fromkeys(chosen)) or list(CONTROL_AREAS),
        state=lambda scope, controls: _state(read, scope, controls),
    )


@contextmanager
def _diffed(config_path: str | None, scenario: str | None, daemon: str | None) -> Iterator[_Live]:
    """What `diff` reads: a running daemon (`--daemon`, or neither `--config` nor `--scenario`),
    else the collectors."""
    if daemon is not None and scenario:
        fail("--daemon reads the live state from a running daemon, --scenario from a file: pass one of them")
    if daemon is None and (config_path or scenario):
        with _collected(config_path, scenario) as live:
            yield live
        return
    config = load_config_file(config_path) if config_path else None
    source = DaemonLive(daemon_url(daemon, config))

    def controls(scope: str, chosen: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(chosen)) or source.controls(scope)

    yield _Live(
        config,
        scopes=lambda chosen: list(chosen) or source.scopes(),
        controls=controls,
        state=lambda scope, chosen: source.state(scope, list(chosen)),
        daemon=source,
    )


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


def _state(
    read: Callable[[str, Sequence[str]], Snapshot], scope: str, controls: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The live state of `controls` in `scope`; exit 2 when any input could not be collected."""
    kinds = kinds_for(controls)
    snapshot = read(scope, kinds)
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
    return list(dict.fromkeys(chosen)) or list(config.scope_ids())


def _store_path(store: str | None, config: Config | None) -> Path:
    """`--store`, else `baselines.sqlite3` beside `evidence.path`: where the daemon reads."""
    return Path(store) if store else default_path(config.evidence.path if config is not None else None)


def _store(store: str | None, config: Config | None, *, create: bool) -> BaselineStore:
    path = _store_path(store, config)
    if not create and not path.exists():
        fail(f"no approved baseline: {path} does not exist; approve one with `controlwatch baseline approve`")
    return _open(path)


def _open(path: Path) -> BaselineStore:
    try:
        return BaselineStore(path)
    except (sqlite3.Error, OSError) as exc:  # not a database, not writable, ...: said in one line
        fail(f"{path}: cannot open the baseline store: {exc}")


def _approved(path: Path) -> Callable[[str], dict[str, Any] | None]:
    """The baselines at `path`, read without creating the store where there is none."""
    if not path.exists():
        return lambda _scope: None
    source = _open(path)
    return source.get


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


_DAEMON = click.option(
    "--daemon",
    is_flag=False,
    flag_value=FROM_CONFIG,
    envvar="CONTROLWATCH_DAEMON",
    help=f"Read the live state from a running daemon at this URL (default {DEFAULT_URL}, or `metrics.listen` of "
    "--config when given without a URL; or CONTROLWATCH_DAEMON). The default when neither --config nor "
    "--scenario is given.",
)


def stdin_is_terminal() -> bool:
    """Whether someone can answer a question: an approval is never confirmed by a pipe."""
    return sys.stdin is not None and sys.stdin.isatty()


def make_baseline_group(
    *, record: Recorder | None = None, clock: Clock = _now, interactive: Callable[[], bool] | None = None
) -> click.Group:
    """The `baseline` command group; `record` receives every approval (for the evidence
    ledger), `clock` gives the approval time (fixed in tests), `interactive` says whether
    stdin can confirm an approval (default: it is a terminal)."""

    def can_ask() -> bool:
        return interactive() if interactive is not None else stdin_is_terminal()

    @click.group("baseline")
    def baseline() -> None:
        """Approved baselines of the DRIFT controls: approve, show, diff."""

    @baseline.command("approve")
    @_SCOPE
    @click.option("--control", "controls", multiple=True, type=_CONTROLS, help="Only this control (repeatable).")
    @click.option("--approver", help="Who approves (default: the OS user).")
    @click.option("--change", "change", help="The change reference (ticket) this approval belongs to: kept with it.")
    @click.option(
        "--expect",
        "expect",
        type=click.Path(dir_okay=False),
        help="Approve BEFORE the change: the intended state (JSON, as `baseline show --format json` prints it); "
        "the change is approved once a run sees exactly this state within --window. Needs --change.",
    )
    @click.option(
        "--window",
        type=Duration(),
        help=f"With --expect: how long the pre-approval waits for its change (default {DEFAULT_WINDOW.seconds // 3600}h"
        "); seen later, the change is an unapproved drift.",
    )
    @click.option("--yes", is_flag=True, help="Record without asking (the review is still printed).")
    @_CONFIG
    @_SCENARIO
    @_STORE
    def approve(
        scopes: tuple[str, ...],
        controls: tuple[str, ...],
        approver: str | None,
        change: str | None,
        expect: str | None,
        window: timedelta | None,
        yes: bool,
        config_path: str | None,
        scenario: str | None,
        store: str | None,
    ) -> None:
        """Approve the live state as the baseline (other controls keep theirs): shows what changes
        against the current baseline (or the whole state where none) and asks first. With
        --expect, approve a change before it is made."""
        who = (approver or _os_user()).strip()
        if not who:
            fail("--approver must name someone")
        if window is not None and expect is None:
            fail("--window needs --expect FILE: a pre-approval approves one stated state, never any change in a window")
        if expect is not None:
            if not (change or "").strip():
                fail("--expect needs --change REF: a change approved before it is made is named by its ticket")
            pre_approve(expect, scopes, controls, who, str(change).strip(), window or DEFAULT_WINDOW, yes,
                        config_path, scenario, store)  # fmt: skip
            return
        chosen = list(dict.fromkeys(controls)) or list(CONTROL_AREAS)
        with _collected(config_path, scenario) as live:
            states = {scope: live.state(scope, chosen) for scope in live.scopes(scopes)}
        path = _store_path(store, live.config)
        approved = _approved(path)
        entries = [e for scope, state in states.items() for e in review(scope, chosen, approved(scope), state,
                                                                          approving=True)]  # fmt: skip
        click.echo("\n".join(line for entry in entries for line in entry.lines()))
        if not yes:
            question = f"Record this as the approved baseline of {', '.join(states)} ({', '.join(chosen)}) by {who}?"
            if not can_ask():
                fail(f"not approved: stdin is not a terminal, so nobody can answer {question!r}; "
                     "review the above and pass --yes to record it")  # fmt: skip
            click.confirm(question, abort=True, err=True)
        target = _open(path)
        for scope, state in states.items():
            try:
                approval = target.approve(scope, state, who, controls=chosen, now=clock(), change=change)
            except (sqlite3.Error, BaselineError) as exc:
                fail(f"{target.path}: cannot store the approval of {scope}: {exc}")
            if record is not None and live.config is not None:
                record(approval, live.config)
            what = ", ".join(f"{c.control} ({counted(c.items, c.control)})" for c in approval.controls)
            click.echo(
                f"approved {scope}: {what} by {approval.approver} at {approval.approved_at} "
                f"(approval {approval.id}{f', change {approval.change}' if approval.change else ''}, {target.path})"
            )
        click.echo(f"a daemon reading {target.path} judges against it from each scope's next run")

    def pre_approve(
        expect: str,
        scopes: tuple[str, ...],
        controls: tuple[str, ...],
        who: str,
        change: str,
        window: timedelta,
        yes: bool,
        config_path: str | None,
        scenario: str | None,
        store: str | None,
    ) -> None:
        """Store the state in `expect` as approved once a run sees it, within `window`."""
        expected = read_expected(expect, scopes, controls)
        with _collected(config_path, scenario) as live:
            lives = {scope: live.state(scope, list(expected[scope])) for scope in live.scopes(list(expected))}
        path = _store_path(store, live.config)
        approved = _approved(path)
        entries = []
        for scope, states in expected.items():
            baseline = approved(scope)
            parts = baseline.get("controls", {}) if baseline is not None else {}
            unapproved = [c for c in states if not isinstance(parts.get(c), dict)]
            if unapproved:
                fail(f"no approved baseline for {', '.join(unapproved)} in scope {scope} ({path}): a change "
                     "is pre-approved against one; approve the current state first (`baseline approve`)")  # fmt: skip
            found = review(scope, list(states), baseline, states)
            if not any(entry.changes for entry in found):
                fail(f"--expect {expect}: the state for {scope} is its approved baseline: no change to approve "
                     "(--scope names the scopes that change)")  # fmt: skip
            if not any(diff(state, lives[scope][control]) for control, state in states.items()):
                fail(f"the live state of {scope} is already the expected state: the change was made before this "
                     f"approval; approve it after the change: `controlwatch baseline approve --scope {scope} "
                     f"--change {change}`")  # fmt: skip
            entries += found
        now = clock()
        until = now + window
        click.echo(f"change {change}, pre-approved until {timestamp(until)}: a run that sees exactly this state "
                   "by then records it as approved and moves the baseline to it")  # fmt: skip
        click.echo("\n".join(line for entry in entries for line in entry.lines()))
        if not yes:
            question = f"Pre-approve change {change} for {', '.join(expected)} by {who}?"
            if not can_ask():
                fail(f"not approved: stdin is not a terminal, so nobody can answer {question!r}; "
                     "review the above and pass --yes to record it")  # fmt: skip
            click.confirm(question, abort=True, err=True)
        target = _open(path)
        for scope, states in expected.items():
            try:
                pre = target.pre_approve(scope, states, who, now=now, expires=until, change=change)
            except (sqlite3.Error, BaselineError) as exc:
                fail(f"{target.path}: cannot store the pre-approval of {scope}: {exc}")
            if record is not None and live.config is not None:
                record(pre, live.config)
            what = ", ".join(f"{c} ({counted(items_of(s, c), c)})" for c, s in sorted(states.items()))
            click.echo(f"pre-approved change {change} for {scope}: {what} by {who} at {pre.approved_at}, until "
                       f"{pre.expires_at} (pre-approval {pre.id}, {target.path})")  # fmt: skip
        click.echo(f"a daemon reading {target.path} approves the change when a run sees exactly this state")

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
    @_DAEMON
    @_CONFIG
    @_SCENARIO
    @_STORE
    def diff_command(
        scopes: tuple[str, ...],
        controls: tuple[str, ...],
        fmt: str,
        daemon: str | None,
        config_path: str | None,
        scenario: str | None,
        store: str | None,
    ) -> None:
        """The live state against the approved baseline, field by field (where none is approved:
        what `approve` would record): exit 0 no drift, 1 drift."""
        with _diffed(config_path, scenario, daemon) as live:
            source = live.daemon
            approved = (
                source.baseline if source is not None and not store else _approved(_store_path(store, live.config))
            )
            entries = []
            for scope in live.scopes(scopes):
                chosen = live.controls(scope, controls)
                state = live.state(scope, chosen)
                if source is not None:
                    collected = source.document(scope).get("collected_at")
                    click.echo(f"{scope}: the live state the daemon at {source.url} collected at {collected}", err=True)
                entries += review(scope, chosen, approved(scope), state)
        drifted = any(entry.changes for entry in entries)
        if fmt == "json":
            results = [entry.to_json() for entry in entries]
            would = any(isinstance(entry, Preview) for entry in entries)
            doc = {"schema_version": 1, "drift": drifted, "would_record": would, "results": results}
            click.echo(json.dumps(doc, indent=2))
        else:
            click.echo("\n".join(line for entry in entries for line in entry.lines()))
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
            "items": items_of(part.get("state", {}), control),
            "approved_by": part["approved_by"],
            "approved_at": part["approved_at"],
            "approval": part["approval"],
            "digest": part["digest"],
            "state_version": part["state_version"],
            "state": part.get("state", {}),  # what `approve --expect` reads back, edited to the intended state
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
        entry["pre_approvals"] = [pre.to_evidence() for pre in source.pre_approvals(scope)]
    else:
        entry["pre_approvals"] = [pre.to_evidence() for pre in source.pre_approvals(scope, pending=True)]
    return entry


def _show_table(entries: list[dict[str, Any]], history: bool) -> str:
    rows = [("SCOPE", "CONTROL", "ITEMS", "APPROVED BY", "APPROVED AT", "APPROVAL", "DIGEST")]
    for entry in entries:
        for c in entry["controls"]:
            rows.append(
                (
                    entry["scope"],
                    c["control"],
                    counted(c["items"], c["control"]),
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
            what = ", ".join(f"{c} ({counted(v['items'], c)})" for c, v in record["controls"].items())
            change = f" (change {record['change']})" if "change" in record else ""
            if "pre_approval" in record:
                change = (f" (change {record['change']}, approved before the change as pre-approval "
                          f"{record['pre_approval']}; seen at {record['applied_at']})")  # fmt: skip
            lines.append(
                f"  approval {record['approval']}: {record['approved_at']} by {record['approver']}{change}: {what}"
            )
    for entry in entries:
        for pre in entry["pre_approvals"]:
            state = f"applied as approval {pre['applied_as']}" if "applied_as" in pre else "pending"
            lines.append(
                f"{entry['scope']}: pre-approval {pre['pre_approval']} of change {pre['change']} "
                f"({', '.join(pre['controls'])}) by {pre['approver']} at {pre['approved_at']}, until "
                f"{pre['expires_at']}: {state}"
            )
    return "\n".join(lines)


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def record_approval(approval: Approval | PreApproval, config: Config) -> None:
    """Every baseline approval is evidence: appended to the ledger at `evidence.path`. A
    pre-approval is too, as an approval given before its change, waiting until `expires`."""
    from monitor.evidence import Ledger
    from monitor.evidence.bodies import baseline_approved_body, digest

    record = approval.to_evidence()
    if isinstance(approval, PreApproval):
        body = baseline_approved_body(
            scope=approval.scope,
            approver=approval.approver,
            baseline_digest=digest(record["controls"]),
            controls=list(approval.controls),
            note=f"pre-approval {approval.id} at {approval.approved_at} of change {approval.change}, until "
            f"{approval.expires_at}: approved once a run sees the expected state",
            change=approval.change,
            before_change=True,
            expires=approval.expires_at,
        )
    else:
        body = baseline_approved_body(
            scope=record["scope"],
            approver=record["approver"],
            baseline_digest=digest(record["controls"]),
            controls=list(record["controls"]),
            note=f"approval {record['approval']} at {record['approved_at']}"
            + (f", change {approval.change}" if approval.change else ""),
            change=approval.change,
        )
    ledger = Ledger(config.evidence.path)
    try:
        ledger.append("baseline_approved", body)
    finally:
        ledger.close()


baseline = make_baseline_group(record=record_approval)
