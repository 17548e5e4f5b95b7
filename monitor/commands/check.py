"""`controlwatch check`: every scope once, the results printed, exit 0 (ok), 1 (fail), 3 (error)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from checks import default_registry
from checks.model import is_drift
from monitor import __version__
from monitor.commands.check_output import EXIT_ERROR, check_json, check_table, exit_code
from monitor.commands.common import (
    UsageFailure,
    config_and_scenario,
    resolve_scopes,
    serving,
    with_overrides,
)
from monitor.commands.formats import RENDERERS, CheckReport
from monitor.commands.scenario_config import config_for_check
from monitor.config.model import Config
from monitor.files import read_regular_file
from monitor.sinks.logs import configure_logging

if TYPE_CHECKING:
    from monitor.run.scopeset import ScopeSet


@click.command()
@click.option("--config", "config_path", type=click.Path(), envvar="CONTROLWATCH_CONFIG", help="Config file.")
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False),
    help="Evaluate a scenario file offline, through the local stand-in and the real collectors.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", *RENDERERS]),
    default="table",
    show_default=True,
    help="table or json; sarif (GitHub code scanning), junit (CI test reports), csv (one row per finding), "
    "ocsf (OCSF Compliance Findings).",
)
@click.option("--control", "controls", multiple=True, help="Only this control (repeatable).")
@click.option("--scope", "scopes", multiple=True, help="Only this scope (repeatable).")
@click.option("--all", "show_all", is_flag=True, help="Table: list passing results too.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False),
    help="Approved baselines (JSON, as `controlwatch baseline show --format json` prints) for the DRIFT controls; "
    "default: the baseline store beside evidence.path.",
)
@click.option(
    "--evidence",
    "write_evidence",
    is_flag=True,
    help="Append this run to the evidence ledger at evidence.path (source: scenario or live).",
)
def check(
    config_path: str | None,
    scenario: str | None,
    fmt: str,
    controls: tuple[str, ...],
    scopes: tuple[str, ...],
    show_all: bool,
    baseline_file: str | None,
    write_evidence: bool,
) -> None:
    """Run every scope once, print the results, exit 0 (ok), 1 (fail), 3 (error)."""
    registry = default_registry()
    unknown = [c for c in controls if c not in registry]
    if unknown:
        raise UsageFailure(f"unknown control {', '.join(unknown)}; see `controlwatch controls`")
    judged_with, config_note = config_for_check(config_path, scenario)
    config, loaded = config_and_scenario(
        judged_with, scenario, neither="nothing to check: pass --config FILE (real GCP) or --scenario FILE (offline)"
    )
    if not config.scopes.discovering:
        _chosen(scopes, config.scope_ids())  # a typo is refused before anything is read
    configure_logging("error", stream=sys.stderr)

    def check_with(served: Config, fixed_now: datetime | None) -> tuple[datetime, list[Any], list[str], str | None]:
        _require_reachable(served)
        resolved = resolve_scopes(served)
        chosen = _chosen(scopes, resolved.watched())
        baselines = _baselines(config, baseline_file, chosen)
        now, runs, notes = _check_once(served, resolved, chosen, controls, fixed_now, baselines)
        if resolved.error:
            notes.append(f"scope discovery failed, only the listed projects were checked: {resolved.error}")
        return now, runs, notes, resolved.error

    if loaded is not None:
        with serving(loaded, shift_time=False) as server:
            now, runs, notes, discovery_error = check_with(with_overrides(config, endpoint=server.url), loaded.now)
    else:
        now, runs, notes, discovery_error = check_with(config, None)
    results = [r for _, run in runs for control_results in run.results.values() for r in control_results]
    if config_note:  # with the results: a bad input before them is still one line
        click.echo(config_note, err=True)
    if write_evidence:
        _check_evidence(config, runs, "scenario" if loaded is not None else "live")
    if fmt in RENDERERS:
        _print_report(
            fmt,
            CheckReport(
                now,
                results,
                {c.meta.id: c.meta for c in registry},
                __version__,
                source=config_path or scenario,
                judged={run.scope: tuple(run.results) for _, run in runs},
                seconds={run.scope: run.ended - run.started for _, run in runs},
            ),
            notes,
        )
    elif fmt == "json":
        click.echo(check_json(now, results, notes))
    else:
        click.echo(check_table(results, show_passing=show_all))
        for note in notes:
            click.echo(f"note: {note}")
    sys.exit(EXIT_ERROR if discovery_error else exit_code(results))


def _print_report(fmt: str, report: CheckReport, notes: list[str]) -> None:
    """A format for CI systems and scanners: stdout stays one document, notes go to stderr."""
    click.echo(RENDERERS[fmt](report), nl=False)
    for note in notes:
        click.echo(f"note: {note}", err=True)


def _require_reachable(config: Config) -> None:
    """An endpoint that refuses connections stops the check at once, in one line, before any retry."""
    from monitor.collect.endpoint_probe import unreachable

    endpoint = config.gcp.api_endpoint
    problem = unreachable(endpoint) if endpoint else None
    if problem:
        raise UsageFailure(f"{problem} (gcp.api_endpoint)")


def _chosen(asked: tuple[str, ...], watched: tuple[str, ...]) -> list[str]:
    """The scopes `--scope` asks for (all watched ones by default); one not watched is a usage failure."""
    bad_scopes = [s for s in asked if s not in watched]
    if bad_scopes:
        raise UsageFailure(f"unknown scope {', '.join(bad_scopes)}; scopes: {', '.join(watched)}")
    return list(asked) or list(watched)


def _baselines(config: Config, baseline_file: str | None, scopes: list[str]) -> dict[str, Any]:
    """Approved baselines per scope: from `--baseline FILE`, else the store (never created here)."""
    if baseline_file:
        try:
            document = json.loads(read_regular_file(baseline_file))  # a FIFO is refused, never waited on
        except OSError as exc:
            raise UsageFailure(f"{baseline_file}: cannot read baselines: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UsageFailure(f"{baseline_file}: cannot read baselines: {exc}") from None
        entries = document.get("baselines", [document]) if isinstance(document, dict) else document
        try:
            return {entry["scope"]: entry for entry in entries}
        except (TypeError, KeyError):
            raise UsageFailure(f"{baseline_file}: not a baseline document (each needs a 'scope')") from None
    from monitor.drift.baselines import BaselineStore, default_path

    path = default_path(config.evidence.path)
    if not path.exists():
        return {}
    store = BaselineStore(path)
    return {scope: doc for scope in scopes if (doc := store.get(scope)) is not None}


def _check_once(
    config: Config,
    resolved: ScopeSet,
    scopes: list[str],
    controls: tuple[str, ...],
    fixed_now: datetime | None,
    baselines: dict[str, Any],
) -> tuple[datetime, list[tuple[Any, Any]], list[str]]:
    from monitor.collect.clients import CredentialsMissing, make_clients
    from monitor.collect.collector import StuckCalls
    from monitor.collect.observer import NullObserver
    from monitor.run.plans import build_plans
    from monitor.run.runtime import collect_settings, make_collect
    from monitor.run.sweep import run_scope

    try:
        clients = make_clients(config.gcp.api_endpoint)
    except CredentialsMissing as exc:
        raise UsageFailure(str(exc)) from None
    stuck = StuckCalls()
    collect = make_collect(clients, collect_settings(config), stuck, fixed_now=fixed_now)
    only = frozenset(controls) if controls else None
    plans = build_plans(config, default_registry(), only_controls=only, scopes=resolved)
    now = fixed_now or datetime.now(UTC)
    runs: list[tuple[Any, Any]] = []
    notes: list[str] = []
    for scope in scopes:
        plan = plans[scope]
        if scope not in baselines and not controls:  # DRIFT needs a baseline: leave it out and say so
            drift = [c.meta.id for c in plan.controls if is_drift(c.meta.id)]
            if drift:
                plan = replace(plan, controls=tuple(c for c in plan.controls if not is_drift(c.meta.id)))
                notes.append(
                    f"{', '.join(drift)} left out for {scope}: no approved baseline "
                    f"(`controlwatch baseline approve --scope {scope}`)"
                )
        run = run_scope(plan, collect, NullObserver(), now=now, baseline=baselines.get(scope))
        runs.append((plan, run))
    return now, runs, notes


def _check_evidence(config: Config, runs: list[tuple[Any, Any]], source: str) -> None:
    """`check --evidence`: the runs as `control_run` records, signed when a key is configured."""
    from monitor.evidence import Checkpointer, Ledger, LedgerError, load_signing_key
    from monitor.evidence.bodies import bodies_from_run

    entries = [
        entry
        for plan, run in runs
        for entry in bodies_from_run(run, plan, controlwatch_version=__version__, source=source)
    ]
    try:
        ledger = Ledger(config.evidence.path)
        try:
            ledger.append_many(entries)
            if config.evidence.signing_key_file:
                Checkpointer(ledger, load_signing_key(config.evidence.signing_key_file)).checkpoint(datetime.now(UTC))
        finally:
            ledger.close()
    except (LedgerError, OSError, ValueError) as exc:
        raise UsageFailure(f"evidence.path: {config.evidence.path}: cannot record the run: {exc}") from None
