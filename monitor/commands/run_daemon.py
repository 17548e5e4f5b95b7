"""`controlwatch run`: the daemon, against real GCP (`--config`) or the demo organisation (`--demo`)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import structlog

from checks import default_registry
from monitor import __version__
from monitor.commands.common import (
    UsageFailure,
    demo_paths,
    leave_now_if_threads_linger,
    load_config_file,
    load_scenario_file,
    serving,
    with_overrides,
)
from monitor.config.addresses import split_host_port
from monitor.config.model import Config, load_config
from monitor.config.sharding import ShardError, shard_from
from monitor.config.web_config import WebConfigError
from monitor.demo import moved_with_the_estate
from monitor.sinks.logs import configure_logging

log = structlog.get_logger("controlwatch.cli")


@click.command()
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
    if listen is not None:
        try:
            split_host_port(listen)
        except ValueError as exc:
            raise UsageFailure(f"--listen: {exc}") from None
    scenario_path, demo_config = demo_paths() if demo else (None, None)
    path = config_path or str(demo_config)
    config = load_config_file(path)
    configure_logging(config.log.level, fmt=config.log.format)
    try:
        shard = shard_from(config.shard, os.environ)
    except ShardError as exc:
        raise UsageFailure(str(exc)) from None
    endpoint = config.gcp.api_endpoint
    scenario = load_scenario_file(scenario_path) if scenario_path is not None else None

    def adjust(loaded: Config) -> Config:
        """In the demo the estate moves to today, and its accepted risks with it."""
        return loaded if scenario is None else moved_with_the_estate(loaded, scenario.now, datetime.now(UTC))

    with ExitStack() as stack:
        if scenario is not None:
            endpoint = stack.enter_context(serving(scenario, shift_time=True)).url
            log.warning(
                "DEMO MODE: judging the bundled demo organisation served by the local stand-in, "
                "not a real Google Cloud estate",
                mode="demo",
                standin=endpoint,
            )
        config = with_overrides(adjust(config), endpoint=endpoint, listen=listen)
        if scenario is None:
            _say_if_unreachable(config)
        runtime = _runtime(build_runtime, config, endpoint, "demo" if demo else "live")
        baselines = _baselines(config)
        evidence = _evidence_factory(config, runtime, demo)
        try:
            daemon = Daemon(config, default_registry(), runtime, baselines=baselines, evidence=evidence, shard=shard)
        except (OSError, sqlite3.Error) as exc:  # a state file that cannot be opened: say which, in one line
            raise UsageFailure(f"cannot start: {type(exc).__name__}: {exc}") from None
        except WebConfigError as exc:  # metrics.web_config_file: each line names the file, line and key
            raise UsageFailure(f"cannot start: metrics.web_config_file:\n{exc}") from None

        def reload() -> Config:
            fresh = load_config(path, known_controls=default_registry().ids())
            return with_overrides(adjust(fresh), endpoint=endpoint, listen=listen)

        _announce(daemon, demo)
        try:
            serve(daemon, reload, grace=grace)
        except OSError as exc:  # the metrics port: in use, or not ours to bind
            raise UsageFailure(f"metrics.listen {config.metrics.listen}: {exc.strerror or exc}") from None
    leave_now_if_threads_linger()


def _say_if_unreachable(config: Config) -> None:
    """An endpoint that refuses connections is said once, in one line, at start-up. The daemon keeps
    running (its controls report error until the endpoint answers): it may come up later."""
    from monitor.collect.endpoint_probe import unreachable

    endpoint = config.gcp.api_endpoint
    problem = unreachable(endpoint) if endpoint else None
    if problem:
        log.error(
            "endpoint_unreachable",
            detail=f"{problem} (gcp.api_endpoint): every control reports error until it answers",
            endpoint=endpoint,
        )


def _baselines(config: Config) -> Any:
    """The baseline store beside the ledger; a path that cannot hold it is a usage failure."""
    from monitor.drift.baselines import BaselineStore, default_path

    path = default_path(config.evidence.path)
    try:
        return BaselineStore(path)
    except (OSError, sqlite3.Error) as exc:
        reason = str(exc)
        if isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror + (f": {exc.filename}" if exc.filename else "")
        raise UsageFailure(
            f"evidence.path: {config.evidence.path}: cannot keep the baseline store beside it ({path}): {reason}"
        ) from None


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
                max_unanchored=evidence.unanchored_limit,
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
