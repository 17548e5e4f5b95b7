"""What every command group shares: one kind of usage failure, loading a config or a scenario,
serving a scenario through the stand-in, and leaving at once past a stuck call.

Command modules import this and nothing of each other, so the command groups never reach
into one another's private names (and there is no import cycle between them).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from checks import default_registry
from monitor.commands.check_output import EXIT_USAGE
from monitor.config.model import Config, ConfigError, load_config

if TYPE_CHECKING:
    from monitor.run.scopeset import ScopeSet
    from monitor.run.shard import Shard
    from monitor.standin.scenario import Scenario
    from monitor.standin.server import StandIn


class UsageFailure(click.ClickException):
    """A problem the user can fix (config, scenario, credentials): exit 2, one clear message."""

    exit_code = EXIT_USAGE


def fail(message: str) -> NoReturn:
    raise UsageFailure(message)


def load_config_file(path: str | Path) -> Config:
    """The config at `path`, validated against the known controls; a bad one is a usage failure."""
    try:
        return load_config(path, known_controls=default_registry().ids())
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None


def with_overrides(config: Config, *, endpoint: str | None = None, listen: str | None = None) -> Config:
    """`config` pointed at another API endpoint (the stand-in) and/or metrics address."""
    if endpoint is not None:
        config = config.model_copy(update={"gcp": config.gcp.model_copy(update={"api_endpoint": endpoint})})
    if listen is not None:
        config = config.model_copy(update={"metrics": config.metrics.model_copy(update={"listen": listen})})
    return config


def config_for_scenario(scenario: Scenario) -> Config:
    """The default config over every project of `scenario` (when no --config is given)."""
    return Config.model_validate({"scopes": {"projects": [{"id": p} for p in scenario.projects]}})


def config_and_scenario(
    config_path: str | None, scenario_path: str | None, *, neither: str
) -> tuple[Config, Scenario | None]:
    """The config of `--config` (or one over every project of `--scenario`) and the scenario.

    `neither` is the usage failure when both are missing; a scenario must hold every scope
    of the config, or nothing would be judged for the missing ones.
    """
    if not scenario_path and not config_path:
        fail(neither)
    loaded = load_scenario_file(scenario_path) if scenario_path else None
    if config_path:
        config = load_config_file(config_path)
    else:
        assert loaded is not None  # no --config means --scenario was given
        config = config_for_scenario(loaded)
    if loaded is not None:
        missing = [s for s in config.scope_ids() if loaded.project(s) is None]
        if missing:
            fail(f"{scenario_path}: no project {', '.join(missing)} in the scenario (scopes of the config)")
    return config, loaded


def resolve_scopes(config: Config, shard: Shard | None = None) -> ScopeSet:
    """The watched set `config` gives now: its listed projects, and with discovery what is found
    below its roots (through `gcp.api_endpoint`, else Google), with owners as replica `shard`
    sees them. A discovery that fails leaves the listed projects, with the error
    (`ScopeSet.error`); missing credentials are a usage failure."""
    from monitor.run.scopeset import resolve

    if not config.scopes.discovering:
        return resolve(config, None, shard=shard)
    from monitor.collect.clients import CredentialsMissing, make_clients
    from monitor.collect.observer import NullObserver
    from monitor.run.runtime import make_discover

    try:
        clients = make_clients(config.gcp.api_endpoint)
    except CredentialsMissing as exc:
        raise UsageFailure(str(exc)) from None
    try:
        estate = make_discover(clients)(config, NullObserver())
    except Exception as exc:  # CallFailed: said with the listed projects, never as a traceback
        return resolve(config, None, error=str(exc) or type(exc).__name__, shard=shard)
    return resolve(config, estate, shard=shard)


def load_scenario_file(path: str | Path) -> Scenario:
    """The scenario at `path`; a bad one, or a missing `sandbox` extra, is a usage failure."""
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
def serving(scenario: Scenario, *, shift_time: bool, port: int = 0) -> Iterator[StandIn]:
    """The stand-in serving `scenario` on loopback for the duration of the block."""
    from monitor.standin.server import StandIn

    server = StandIn(scenario, shift_time=shift_time)
    server.start(port=port)
    try:
        yield server
    finally:
        server.stop()


def demo_paths() -> tuple[Path, Path]:
    """The bundled demo organisation (scenario) and the config that watches it."""
    from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO

    return DEMO_SCENARIO, DEMO_CONFIG


@contextmanager
def signals_set(event: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `event` for the duration of the block."""
    import signal

    previous = {s: signal.signal(s, lambda *_: event.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def leave_now(code: int) -> NoReturn:
    """Exit at once, output flushed, without joining threads.

    A Google call abandoned at the run deadline cannot be killed, and the interpreter's exit
    would join its worker thread, i.e. wait for a dripping server forever.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def leave_now_if_threads_linger(code: int = 0) -> None:
    """`leave_now(code)` when any thread besides the main one is still alive."""
    if any(t is not threading.main_thread() and t.is_alive() for t in threading.enumerate()):
        leave_now(code)
