"""The daemon watches an organisation: what discovery finds is run, a new project within one refresh,
a deleted one leaves `/metrics` with evidence saying so, and a failing discovery keeps the set."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from checks import default_registry
from monitor.collect import CollectSettings, StuckCalls, make_clients
from monitor.config.model import Config, parse_config
from monitor.daemon import Daemon
from monitor.drift.baselines import BaselineStore
from monitor.evidence import Ledger, demo_key
from monitor.run.runtime import Runtime, make_collect, make_discover
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.metrics import Metrics
from monitor.standin import Fault, StandIn, load_scenario
from tests.estate import ACTIVE, estate_document, project, with_project, with_state
from tests.monitor.conftest import FAST_RETRY, NO_DRIFT

pytestmark = pytest.mark.slow
REFRESH = 1.0  # seconds: below the file's minimum (1m), to keep the test short
WATCHED = sorted(p for p in ACTIVE if not p.startswith("sandbox-"))
CONFIG = f"""
scopes:
  organization: "4242"
  exclude: {{projects: ["sandbox-*"]}}
  projects:
    - id: ledger-prod
schedule: {{interval: 1h, jitter: 0s}}
gcp: {{call_timeout: 1s, run_deadline: 5s}}
metrics: {{listen: "127.0.0.1:0"}}
exceptions:
  - {{control: FW-01, scope: not-found-yet, resource: "*", reason: r, approver: a, expires: 2099-01-01}}
{NO_DRIFT}"""


def config(text: str = CONFIG, refresh: float = REFRESH) -> Config:
    loaded = parse_config(text, "cw.yaml")
    scopes = loaded.scopes.model_copy(update={"refresh": timedelta(seconds=refresh)})
    return loaded.model_copy(update={"scopes": scopes})


@pytest.fixture(scope="module")
def module_standin() -> Iterator[StandIn]:
    with StandIn(load_scenario(estate_document())) as standin:
        yield standin


@pytest.fixture
def estate(module_standin: StandIn) -> Iterator[StandIn]:
    module_standin.reset()
    module_standin.load(estate_document())
    yield module_standin
    module_standin.reset()


@pytest.fixture
def make(estate: StandIn, tmp_path: Path) -> Iterator[Callable[[Config], Daemon]]:
    made: list[Daemon] = []

    def build(cfg: Config) -> Daemon:
        clients = make_clients(estate.url)
        settings = CollectSettings(call_timeout=1.0, run_deadline=5.0, retry=FAST_RETRY)
        stuck = StuckCalls()
        runtime = Runtime(
            collect=make_collect(clients, settings, stuck),
            stuck_calls=stuck.busy,
            discover=make_discover(clients, FAST_RETRY),
        )

        def writer(metrics: Metrics) -> EvidenceWriter:
            return EvidenceWriter(
                tmp_path / "evidence.sqlite3",
                metrics,
                key=demo_key(),
                checkpoint_interval=timedelta(hours=1),
                retention=timedelta(days=400),
            )

        daemon = Daemon(
            cfg, default_registry(), runtime, baselines=BaselineStore(tmp_path / "b.sqlite3"), evidence=writer
        )
        made.append(daemon)
        return daemon

    yield build
    for daemon in made:
        daemon.stop(grace=1)


def records(daemon: Daemon, tmp_path: Path, kind: str) -> list[dict[str, Any]]:
    assert daemon.evidence is not None and daemon.evidence.flush(10)
    ledger = Ledger(tmp_path / "evidence.sqlite3", create=False)
    try:
        return [r.data for r in ledger.records() if r.kind == kind]
    finally:
        ledger.close()


def recorded(daemon: Daemon, tmp_path: Path, kind: str, scope: str) -> list[dict[str, Any]]:
    """The `kind` records of `scope`, once one is there: the set changes before its records are written."""
    wait_for(lambda: any(body.get("scope") == scope for body in records(daemon, tmp_path, kind)), 5)
    return [body for body in records(daemon, tmp_path, kind) if body.get("scope") == scope]


def scrape(daemon: Daemon) -> str:
    with urllib.request.urlopen(daemon.server.url + "/metrics", timeout=5) as response:
        text: str = response.read().decode()
        return text


def ran(daemon: Daemon) -> set[str]:
    return {state.scope for state in daemon.store.states() if state.status is not None}


def wait_for(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until `condition` held; fails after `timeout`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - start


def sample(daemon: Daemon, name: str, **labels: str) -> float | None:
    found: float | None = daemon.metrics.registry.get_sample_value(name, labels)
    return found


def test_a_new_project_runs_within_one_refresh_and_a_deleted_one_leaves(
    estate: StandIn, make: Callable[[Config], Daemon], tmp_path: Path
) -> None:
    daemon = make(config())
    daemon.start()
    assert sorted(daemon.scopes.watched()) == WATCHED
    assert daemon.scopes.watched()[0] == "ledger-prod"  # the listed project, and discovery's
    wait_for(lambda: ran(daemon) == set(WATCHED), 15)
    assert sample(daemon, "controlwatch_scopes", state="watched") == len(WATCHED)
    assert sample(daemon, "controlwatch_scopes", state="excluded") == 2  # sandbox-alice, old-shop
    assert sample(daemon, "controlwatch_scopes", state="unreadable") == 0
    started = {body["scope"]: body for body in records(daemon, tmp_path, "scope_discovered")}
    assert sorted(started) == sorted(set(WATCHED) - {"ledger-prod"})  # listed projects are not "discovered"
    assert started["shop-eu-prod"]["folders"] == ["folders/5505", "folders/5503", "folders/5501"]
    assert started["shop-eu-prod"]["cause"] == "start"

    changed = with_project(estate_document(), project("shop-new", "folders/5503", labels={"env": "prod"}))
    estate.load(with_state(changed, "shop-prod", "DELETE_REQUESTED"))
    took = wait_for(lambda: "shop-new" in ran(daemon), REFRESH + 5.0)
    assert took < REFRESH + 5.0  # one refresh, then at once (jitter 0s): well within refresh + jitter + a run
    wait_for(lambda: "shop-prod" not in daemon.scopes.watched(), 5)
    text = scrape(daemon)
    assert 'scope="shop-new"' in text
    assert 'scope="shop-prod"' not in text  # every series of the deleted project is gone
    [removed] = recorded(daemon, tmp_path, "scope_removed", "shop-prod")
    assert len(records(daemon, tmp_path, "scope_removed")) == 1
    assert removed == {
        "scope": "shop-prod",
        "why": "found below organizations/4242 > folders/5501 > folders/5503; "
        "state DELETE_REQUESTED (only ACTIVE projects are watched)",
        "cause": "refresh",
        "state": "DELETE_REQUESTED",
    }
    new = recorded(daemon, tmp_path, "scope_discovered", "shop-new")
    assert [(b["cause"], b["parent"], b["labels"]) for b in new] == [("refresh", "folders/5503", {"env": "prod"})]
    population = records(daemon, tmp_path, "sweep_population")[-1]
    assert "shop-new" in population["scopes"] and "shop-prod" not in population["scopes"]
    assert set(population["controls"]) == set(population["scopes"])
    # The accepted risk names a project discovery has not found: reported stale, not silently kept.
    assert sample(daemon, "controlwatch_exceptions_stale", reason="unmatched") == 1


def test_a_failing_discovery_keeps_the_watched_set_and_says_so(
    estate: StandIn, make: Callable[[Config], Daemon], tmp_path: Path
) -> None:
    daemon = make(config(refresh=3600))
    daemon.start()
    before = daemon.scopes.watched()
    assert len(before) == len(WATCHED)
    for fault in (
        Fault(method="cloudresourcemanager.folders.list", status=403),
        Fault(method="cloudresourcemanager.projects.list", status=503),
        Fault(method="cloudresourcemanager.projects.list", kind="hostile", mode="empty-object"),  # `{}`: no project
    ):
        estate.reset()
        estate.add_fault(fault)
        assert daemon.refresh_scopes() is False
        assert daemon.scopes.watched() == before
    estate.reset()
    failed = records(daemon, tmp_path, "scope_discovery_failed")
    assert [body["cause"] for body in failed] == ["refresh"] * 3
    assert "HTTP 403" in failed[0]["error"] and failed[0]["kept"] == sorted(before)
    assert "found no ACTIVE project below organizations/4242" in failed[2]["error"]
    assert records(daemon, tmp_path, "scope_removed") == []
    assert sample(daemon, "controlwatch_scope_discoveries_total", result="failure") == 3
    assert sample(daemon, "controlwatch_scope_discoveries_total", result="success") == 1  # at start
    assert daemon.refresh_scopes() is True  # answered again: refreshed as usual
    assert sample(daemon, "controlwatch_scope_discoveries_total", result="success") == 2


def test_a_discovery_failing_at_start_watches_the_listed_projects_until_it_answers(
    estate: StandIn, make: Callable[[Config], Daemon], tmp_path: Path
) -> None:
    estate.add_fault(Fault(method="cloudresourcemanager.folders.list", status=403))
    daemon = make(config(refresh=3600))
    daemon.start()
    assert daemon.scopes.watched() == ("ledger-prod",)
    assert [b["cause"] for b in records(daemon, tmp_path, "scope_discovery_failed")] == ["start"]
    estate.reset()
    assert daemon.refresh_scopes()
    assert sorted(daemon.scopes.watched()) == WATCHED


def test_sighup_applies_the_new_filters_at_once_and_lists_again_right_away(
    estate: StandIn, make: Callable[[Config], Daemon], tmp_path: Path
) -> None:
    daemon = make(config(refresh=3600))  # no periodic refresh during the test: only SIGHUP lists
    daemon.start()
    narrower = CONFIG.replace(
        'exclude: {projects: ["sandbox-*"]}', 'exclude: {projects: ["sandbox-*"], folders: ["5503"]}'
    )
    estate.load(with_project(estate_document(), project("data-new", "organizations/4242")))
    assert daemon.reload(lambda: config(narrower, refresh=3600))
    # The new filters hold at once, on the last listing; the reload does not wait for a listing.
    assert sorted(daemon.scopes.watched()) == sorted(set(WATCHED) - {"shop-prod", "shop-eu-prod"})
    removed = {b["scope"]: b for b in records(daemon, tmp_path, "scope_removed")}
    assert sorted(removed) == ["shop-eu-prod", "shop-prod"]
    assert removed["shop-prod"]["cause"] == "SIGHUP"
    assert removed["shop-prod"]["why"].endswith("excluded by exclude.folders 5503")
    # ...and the refresher lists the estate again right away.
    [discovered] = recorded(daemon, tmp_path, "scope_discovered", "data-new")
    assert discovered["cause"] == "SIGHUP" and "data-new" in daemon.scopes.watched()
    assert [b["scope"] for b in records(daemon, tmp_path, "scope_discovered") if b["cause"] == "SIGHUP"] == [
        "data-new"
    ]
    # A bad file keeps the running config, and SIGHUP still refreshes the set under it.
    estate.load(with_project(estate_document(), project("data-later", "organizations/4242")))
    assert not daemon.reload(lambda: parse_config("scopes: {}\n", "bad.yaml"))
    wait_for(lambda: "data-later" in daemon.scopes.watched(), 5)


def test_a_listed_only_config_makes_no_discovery_call(estate: StandIn, make: Callable[[Config], Daemon]) -> None:
    text = CONFIG.replace('  organization: "4242"\n  exclude: {projects: ["sandbox-*"]}\n', "")
    text = text.replace("scope: not-found-yet", "scope: ledger-prod")
    daemon = make(config(text))
    daemon.start()
    assert daemon.scopes.watched() == ("ledger-prod",) and daemon.refresher is None
    assert daemon.refresh_scopes() is True
    assert estate.requests_for("cloudresourcemanager.folders.list") == []
    assert estate.requests_for("cloudresourcemanager.projects.list") == []
    assert sample(daemon, "controlwatch_scopes", state="watched") == 1
    assert sample(daemon, "controlwatch_scope_discoveries_total", result="success") == 0


def test_a_reload_never_waits_on_a_listing_in_flight(estate: StandIn, make: Callable[[Config], Daemon]) -> None:
    daemon = make(config(refresh=3600))
    daemon.start()
    # The listing is held 6 s; a reload waiting for it would take that long. A reload on a loaded
    # machine takes a second or two of its own, so the bound leaves that room and no more.
    estate.add_fault(Fault(method="cloudresourcemanager.folders.list", kind="latency", delay=6.0, times=1))
    assert daemon.refresher is not None
    daemon.refresher.trigger("refresh")
    wait_for(lambda: not estate.faults.active(), 2)  # taken: the slow folders.list is in flight
    started = time.monotonic()
    assert daemon.reload(lambda: config(refresh=3600))
    assert time.monotonic() - started < 4.0
