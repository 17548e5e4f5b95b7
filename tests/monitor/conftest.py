"""A stand-in serving the demo organisation, and daemons wired to it, for daemon-level tests.

The stand-in moves the demo to the wall clock, as the real demo does, so its backups are as
fresh on any date as the scenario meant (`make test` runs these tests a year ahead too).

Daemons here are built in-process with a fast retry policy, so fault paths take
milliseconds; the collectors, clients and stand-in are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from checks import default_registry
from monitor.collect import CollectSettings, RetryPolicy, StuckCalls, make_clients
from monitor.config.model import Config, parse_config
from monitor.daemon import Daemon
from monitor.demo import DEMO_SCENARIO
from monitor.drift.baselines import BaselineStore
from monitor.run.runtime import Runtime, make_collect, preload_clients
from monitor.standin import StandIn, load_scenario

FAST_RETRY = RetryPolicy(initial=0.01, maximum=0.05, multiplier=2.0, max_attempts=3, quota_window=0.2)


@pytest.fixture(scope="session")
def demo_standin() -> Iterator[StandIn]:
    preload_clients()  # as the daemon does at start: imports never count against a run deadline
    server = StandIn(load_scenario(DEMO_SCENARIO), shift_time=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def standin(demo_standin: StandIn) -> Iterator[StandIn]:
    demo_standin.reset()
    yield demo_standin
    demo_standin.reset()


NO_DRIFT = "disabled_controls: [DRIFT-01, DRIFT-02, DRIFT-03]\n"


def config_for(scopes: list[str], extra: str = "", *, drift: bool = False) -> Config:
    """A config for `scopes`; DRIFT controls off unless asked (they need an approved baseline)."""
    projects = "\n".join(f"    - id: {s}" for s in scopes)
    text = f"""
scopes:
  projects:
{projects}
schedule: {{interval: 1h, jitter: 0s}}
gcp: {{call_timeout: 1s, run_deadline: 3s, max_workers: 4}}
metrics: {{listen: "127.0.0.1:0"}}
params:
  firewall: {{public_ports: ["tcp:443"]}}
{extra}
{"" if drift else NO_DRIFT}"""
    return parse_config(text, "test.yaml")


@pytest.fixture
def make_daemon(standin: StandIn, tmp_path: Path) -> Iterator[Callable[..., tuple[Daemon, StuckCalls]]]:
    made: list[Daemon] = []

    def build(config: Config, *, run_deadline: float = 3.0, call_timeout: float = 0.5) -> tuple[Daemon, StuckCalls]:
        stuck = StuckCalls()
        settings = CollectSettings(
            call_timeout=call_timeout, run_deadline=run_deadline, max_workers=4, retry=FAST_RETRY
        )
        runtime = Runtime(collect=make_collect(make_clients(standin.url), settings, stuck), stuck_calls=stuck.busy)
        daemon = Daemon(config, default_registry(), runtime, baselines=BaselineStore(tmp_path / "baselines.sqlite3"))
        made.append(daemon)
        return daemon, stuck

    yield build
    for daemon in made:
        daemon.scheduler.shutdown(wait=False)
        try:
            daemon.server.stop()
        except Exception:
            pass
