"""The `controlwatch` command line. Only this module chooses exit codes.

Exit codes: 0 ok, 1 something fails (check), 2 bad usage/config/scenario/credentials,
3 a result is `error` (check). Commands that need no Google API never import the clients.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import structlog

from checks import default_registry
from checks.model import Area, Result, Verdict
from monitor import __version__
from monitor.commands.catalogue import catalogue_json, catalogue_markdown, catalogue_table
from monitor.commands.check_output import EXIT_USAGE, check_json, check_table, exit_code
from monitor.config.model import Config, ConfigError, load_config
from monitor.sinks.logs import configure_logging

if TYPE_CHECKING:
    from monitor.standin.scenario import Scenario
    from monitor.standin.server import StandIn

log = structlog.get_logger("controlwatch.cli")


class UsageFailure(click.ClickException):
    """A problem the user can fix (config, scenario, credentials): exit 2, one clear message."""

    exit_code = EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="controlwatch")
def cli() -> None:
    """controlwatch: watches the security controls of a Google Cloud estate."""


# --- configuration -------------------------------------------------------------------------


def _load(path: str) -> Config:
    try:
        return load_config(path, known_controls=default_registry().ids())
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None


def _with(config: Config, *, endpoint: str | None = None, listen: str | None = None) -> Config:
    if endpoint is not None:
        config = config.model_copy(update={"gcp": config.gcp.model_copy(update={"api_endpoint": endpoint})})
    if listen is not None:
        config = config.model_copy(update={"metrics": config.metrics.model_copy(update={"listen": listen})})
    return config


def _config_for_scenario(scenario: Scenario) -> Config:
    return Config.model_validate({"scopes": {"projects": [{"id": p} for p in scenario.projects]}})


@cli.group("config")
def config_group() -> None:
    """Configuration files."""


@config_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=True))
def config_validate(file: str) -> None:
    """Validate FILE: exit 0 when it is good, 2 with file:line, key path and reason when not."""
    config = _load(file)
    enabled = sum(len(default_registry().ids()) - len(config.disabled_for(s)) for s in config.scope_ids())
    click.echo(f"{file}: ok ({len(config.scope_ids())} scopes, {enabled} enabled (control, scope) pairs)")


# --- the stand-in ----------------------------------------------------------------------------


def _load_scenario(path: str | Path) -> Scenario:
    try:
        from monitor.standin.scenario import ScenarioError, load_scenario
    except ImportError as exc:  # the sandbox extra is not installed
        raise UsageFailure(f"{exc}; install it with: pip install 'controlwatch[sandbox]'") from None
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise UsageFailure(str(exc)) from None
    except OSError as exc:
        raise UsageFailure(f"{path}: cannot read scenario: {exc.strerror or exc}") from None


@contextmanager
def _standin(scenario: Scenario, *, shift_time: bool, port: int = 0) -> Iterator[StandIn]:
    from monitor.standin.server import StandIn

    server = StandIn(scenario, shift_time=shift_time)
    server.start(port=port)
    try:
        yield server
    finally:
        server.stop()


def _demo_paths() -> tuple[Path, Path]:
    from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO

    return DEMO_SCENARIO, DEMO_CONFIG


@cli.command()
@click.option("--scenario", type=click.Path(dir_okay=False), help="Scenario file (default: the demo organisation).")
@click.option("--port", type=click.IntRange(0, 65535), default=8085, show_default=True, help="Loopback port.")
@click.option(
    "--shift-time/--no-shift-time",
    default=None,
    help="Move timestamps to the wall clock (default: on for the demo, off otherwise).",
)
def sandbox(scenario: str | None, port: int, shift_time: bool | None) -> None:
    """Serve the local GCP stand-in alone (loopback only), for poking with the client libraries."""
    path = Path(scenario) if scenario else _demo_paths()[0]
    loaded = _load_scenario(path)
    shift = shift_time if shift_time is not None else scenario is None
    stop = threading.Event()
    with _standin(loaded, shift_time=shift, port=port) as server, _signals_set(stop):
        click.echo(f"stand-in serving {path} at {server.url} (projects: {', '.join(loaded.projects)})")
        click.echo(f"control API: {server.url}/_standin/  (Ctrl-C to stop)")
        stop.wait()


@contextmanager
def _signals_set(event: threading.Event) -> Iterator[None]:
    import signal

    previous = {s: signal.signal(s, lambda *_: event.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# --- the daemon ------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(),
    envvar="CONTROLWATCH_CONFIG",
    help="Config file (or CONTROLWATCH_CONFIG).",
)
@click.option("--demo", is_flag=True, help="Run against the bundled demo organisation through the local stand-in.")
@click.option("--listen", help="Override metrics.listen (host:port; port 0 picks a free one).")
@click.option(
    "--grace",
    type=click.FloatRange(0, 300),
    default=10.0,
    show_default=True,
    help="Seconds in-flight runs get to finish on SIGINT/SIGTERM.",
)
def run(config_path: str | None, demo: bool, listen: str | None, grace: float) -> None:
    """Run the daemon: one scheduled sweep per scope, /metrics, /results, /healthz, /readyz."""
    from monitor.daemon import Daemon, serve
    from monitor.run.runtime import build_runtime

    if not demo and not config_path:
        raise UsageFailure(
            "no config: pass --config FILE (or set CONTROLWATCH_CONFIG) to watch real projects, "
            "or --demo to try controlwatch against the bundled demo organisation"
        )
    scenario_path, demo_config = _demo_paths() if demo else (None, None)
    path = config_path or str(demo_config)
    config = _load(path)
    configure_logging(config.log.level, fmt=config.log.format)
    stack: list[Any] = []
    endpoint = config.gcp.api_endpoint
    if demo:
        assert scenario_path is not None
        standin = _standin(_load_scenario(scenario_path), shift_time=True)
        endpoint = standin.__enter__().url
        stack.append(standin)
        log.warning(
            "DEMO MODE: judging the bundled demo organisation served by the local stand-in, "
            "not a real Google Cloud estate",
            mode="demo",
            standin=endpoint,
        )
    try:
        config = _with(config, endpoint=endpoint, listen=listen)
        runtime = _runtime(build_runtime, config, endpoint, "demo" if demo else "live")
        daemon = Daemon(config, default_registry(), runtime, evidence=_evidence_factory(config, runtime, demo))

        def reload() -> Config:
            return _with(load_config(path, known_controls=default_registry().ids()), endpoint=endpoint, listen=listen)

        _announce(daemon, demo)
        try:
            serve(daemon, reload, grace=grace)
        except OSError as exc:  # the metrics port: in use, or not ours to bind
            raise UsageFailure(f"metrics.listen {config.metrics.listen}: {exc.strerror or exc}") from None
    finally:
        for item in stack:
            item.__exit__(None, None, None)
    _exit_abandoning_stuck_threads()


def _evidence_factory(config: Config, runtime: Any, demo: bool) -> Callable[[Any], Any]:
    """How the daemon's evidence writer is built: the ledger, the signing key, the Cloud Logging copy."""
    from monitor.collect.clients import CredentialsMissing, make_log_writer
    from monitor.evidence import LedgerError, demo_key, load_signing_key
    from monitor.sinks.evidence_copy import CloudCopy
    from monitor.sinks.evidence_writer import EvidenceWriter

    evidence = config.evidence
    try:
        key = load_signing_key(evidence.signing_key_file) if evidence.signing_key_file else None
    except (OSError, ValueError) as exc:
        raise UsageFailure(f"evidence.signing_key_file: {evidence.signing_key_file}: {exc}") from None
    if key is None and demo:
        key = demo_key()

    def build(metrics: Any) -> EvidenceWriter:
        copy = None
        if evidence.cloud_logging:
            try:
                writer = make_log_writer(config.gcp.api_endpoint)
            except CredentialsMissing as exc:
                raise UsageFailure(f"evidence.cloud_logging: {exc}") from None
            copy = CloudCopy(writer, evidence.cloud_logging, metrics, on_failure=metrics.evidence_write_error)
        try:
            return EvidenceWriter(
                evidence.path,
                metrics,
                key=key,
                checkpoint_interval=evidence.checkpoint_interval,
                retention=timedelta(days=evidence.retention_days),
                copy=copy,
            )
        except (LedgerError, OSError) as exc:
            raise UsageFailure(f"evidence.path: {evidence.path}: cannot open the ledger: {exc}") from None

    return build


def _runtime(build: Callable[..., Any], config: Config, endpoint: str | None, mode: str) -> Any:
    from monitor.collect.clients import CredentialsMissing

    try:
        return build(config, endpoint=endpoint, mode=mode)
    except CredentialsMissing as exc:
        raise UsageFailure(str(exc)) from None


def _announce(daemon: Any, demo: bool) -> None:
    """Say where the metrics are once the server is up (the server binds in `start`)."""

    def wait_and_print() -> None:
        for _ in range(200):
            try:
                url = daemon.server.url
            except RuntimeError:
                threading.Event().wait(0.05)
                continue
            mode = "DEMO (bundled demo organisation, local stand-in)" if demo else "live"
            click.echo(
                f"controlwatch {__version__} [{mode}]: metrics at {url}/metrics, results at {url}/results", err=True
            )
            return

    threading.Thread(target=wait_and_print, daemon=True).start()


def _exit_abandoning_stuck_threads() -> None:
    """Leave now even if a Google call is still stuck in a worker thread (it cannot be killed).

    Everything that needs closing is closed by now; the interpreter's exit would otherwise
    join the executors' worker threads, i.e. wait for a dripping call forever.
    """
    if any(t is not threading.main_thread() and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


# --- one-off evaluation -----------------------------------------------------------------------


@cli.command()
@click.option("--config", "config_path", type=click.Path(), envvar="CONTROLWATCH_CONFIG", help="Config file.")
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False),
    help="Evaluate a scenario file offline, through the local stand-in and the real collectors.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
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
    if not scenario and not config_path:
        raise UsageFailure("nothing to check: pass --config FILE (real GCP) or --scenario FILE (offline)")
    loaded = _load_scenario(scenario) if scenario else None
    config = _load(config_path) if config_path else _config_for_scenario(loaded)  # type: ignore[arg-type]
    if loaded is not None:
        missing = [s for s in config.scope_ids() if loaded.project(s) is None]
        if missing:
            raise UsageFailure(f"{scenario}: no project {', '.join(missing)} in the scenario (scopes of the config)")
    chosen = list(scopes) or list(config.scope_ids())
    bad_scopes = [s for s in chosen if s not in config.scope_ids()]
    if bad_scopes:
        raise UsageFailure(f"unknown scope {', '.join(bad_scopes)}; scopes: {', '.join(config.scope_ids())}")
    baselines = _baselines(config, baseline_file)
    configure_logging("error", stream=sys.stderr)
    if loaded is not None:
        with _standin(loaded, shift_time=False) as server:
            now, runs, notes, stuck = _check_once(
                _with(config, endpoint=server.url), chosen, controls, loaded.now, baselines
            )
    else:
        now, runs, notes, stuck = _check_once(config, chosen, controls, None, baselines)
    results = [r for _, run in runs for control_results in run.results.values() for r in control_results]
    if write_evidence:
        _check_evidence(config, runs, "scenario" if loaded is not None else "live")
    if fmt == "json":
        click.echo(check_json(now, results, notes))
    else:
        click.echo(check_table(results, show_passing=show_all))
        for note in notes:
            click.echo(f"note: {note}")
    _exit_now_if_stuck(exit_code(results), stuck)
    sys.exit(exit_code(results))


def _exit_now_if_stuck(code: int, stuck: int) -> None:
    """A call abandoned at the run deadline cannot be killed; the interpreter's exit would join
    its thread (and wait for a dripping server forever): leave now, output flushed."""
    if stuck > 0:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _baselines(config: Config, baseline_file: str | None) -> dict[str, Any]:
    """Approved baselines per scope: from `--baseline FILE`, else the store (never created here)."""
    if baseline_file:
        try:
            document = json.loads(Path(baseline_file).read_text())
        except (OSError, ValueError) as exc:
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
    return {scope: doc for scope in config.scope_ids() if (doc := store.get(scope)) is not None}


def _check_once(
    config: Config,
    scopes: list[str],
    controls: tuple[str, ...],
    fixed_now: datetime | None,
    baselines: dict[str, Any],
) -> tuple[datetime, list[tuple[Any, Any]], list[str], int]:
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
    plans = build_plans(config, default_registry(), only_controls=frozenset(controls) if controls else None)
    now = fixed_now or datetime.now(UTC)
    runs: list[tuple[Any, Any]] = []
    notes: list[str] = []
    for scope in scopes:
        plan = plans[scope]
        if scope not in baselines and not controls:  # DRIFT needs a baseline: leave it out and say so
            drift = [c.meta.id for c in plan.controls if c.meta.area is Area.DRIFT]
            if drift:
                plan = replace(plan, controls=tuple(c for c in plan.controls if c.meta.area is not Area.DRIFT))
                notes.append(
                    f"{', '.join(drift)} left out for {scope}: no approved baseline "
                    f"(`controlwatch baseline approve --scope {scope}`)"
                )
        run = run_scope(plan, collect, NullObserver(), now=now, baseline=baselines.get(scope))
        runs.append((plan, run))
    return now, runs, notes, stuck.total()


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


# --- catalogue and results ----------------------------------------------------------------------


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="Table: add each control's rationale and remediation.")
def controls(fmt: str, verbose: bool) -> None:
    """List every control: id, area, severity, title, parameters, remediation, references."""
    registry = default_registry()
    if fmt == "json":
        click.echo(json.dumps(catalogue_json(registry), indent=2))
    elif fmt == "markdown":
        click.echo(catalogue_markdown(registry))
    else:
        click.echo(catalogue_table(registry, verbose=verbose))


@cli.command()
@click.option("--url", default="http://127.0.0.1:9797", show_default=True, help="The daemon's metrics address.")
@click.option("--control", help="Only this control.")
@click.option("--scope", help="Only this scope.")
@click.option("--all", "show_all", is_flag=True, help="Show passing results too.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def results(url: str, control: str | None, scope: str | None, show_all: bool, fmt: str) -> None:
    """What fails now, read from a running daemon's /results."""
    query = {k: v for k, v in (("control", control), ("scope", scope)) if v}
    target = f"{url.rstrip('/')}/results" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    try:
        with urllib.request.urlopen(target, timeout=10) as response:  # noqa: S310 - operator-given URL
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        raise UsageFailure(f"{target}: {exc.code} {exc.read().decode(errors='replace').strip()}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UsageFailure(f"cannot read {target}: {exc}; is `controlwatch run` listening there?") from None
    if fmt == "json":
        click.echo(json.dumps(body, indent=2))
        return
    rows: list[Result] = []
    for state in body.get("controls", []):
        for item in state.get("results", []):
            rows.append(Result(**{**item, "verdict": Verdict(item["verdict"])}))
    click.echo(check_table(rows, show_passing=show_all))


def _record_approval(approval: Any, config: Config) -> None:
    """Every baseline approval is evidence: appended to the ledger at `evidence.path`."""
    from monitor.evidence import Ledger
    from monitor.evidence.bodies import baseline_approved_body

    record = approval.to_evidence()
    body = baseline_approved_body(
        scope=record["scope"],
        approver=record["approver"],
        baseline_digest=digest_of(record["controls"]),
        controls=list(record["controls"]),
        note=f"approval {record['approval']} at {record['approved_at']}",
    )
    ledger = Ledger(config.evidence.path)
    try:
        ledger.append("baseline_approved", body)
    finally:
        ledger.close()


def digest_of(value: Any) -> str:
    from monitor.evidence.bodies import digest

    return digest(value)


def _register_subcommands() -> None:
    from monitor.commands.baseline import make_baseline_group
    from monitor.commands.evidence import evidence

    cli.add_command(make_baseline_group(record=_record_approval))
    cli.add_command(evidence)


_register_subcommands()


def main() -> None:
    cli.main(prog_name="controlwatch")


if __name__ == "__main__":  # pragma: no cover
    main()
