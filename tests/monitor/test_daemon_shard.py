"""Replicas in one process: each daemon of a shard schedules only the scopes rendezvous hashing gives
its index, knows the others as owned elsewhere, and together they watch every scope exactly once;
`/readyz` waits for the first discovery."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from checks import default_registry
from monitor.collect import CollectSettings, StuckCalls, make_clients
from monitor.collect.estate import Estate
from monitor.collect.observer import ApiObserver
from monitor.config.model import Config
from monitor.daemon import Daemon
from monitor.drift.baselines import BaselineStore
from monitor.run.runtime import Runtime, make_collect, make_discover
from monitor.run.shard import Shard, owner
from monitor.standin import StandIn, load_scenario
from tests.estate import estate_document
from tests.monitor.conftest import FAST_RETRY
from tests.monitor.test_daemon_discovery import WATCHED, config, ran, sample, scrape, wait_for

pytestmark = pytest.mark.slow
Make = Callable[..., Daemon]


@pytest.fixture(scope="module")
def estate() -> Iterator[StandIn]:
    with StandIn(load_scenario(estate_document())) as standin:
        yield standin


@pytest.fixture
def make(estate: StandIn, tmp_path: Path) -> Iterator[Make]:
    made: list[Daemon] = []

    def build(
        cfg: Config, shard: Shard | None, discover: Callable[[Config, ApiObserver], Estate] | None = None
    ) -> Daemon:
        clients = make_clients(estate.url)
        stuck = StuckCalls()
        runtime = Runtime(
            collect=make_collect(clients, CollectSettings(call_timeout=1.0, run_deadline=5.0, retry=FAST_RETRY), stuck),
            stuck_calls=stuck.busy,
            discover=discover or make_discover(clients, FAST_RETRY),
        )
        baselines = BaselineStore(tmp_path / f"b-{len(made)}.sqlite3")
        daemon = Daemon(cfg, default_registry(), runtime, baselines=baselines, shard=shard)
        made.append(daemon)
        return daemon

    yield build
    for daemon in made:
        daemon.stop(grace=1)


def owned_series(daemon: Daemon) -> dict[str, float]:
    """`controlwatch_scope_owned` as scraped: scope → 1 (this replica watches it) or 0 (another does)."""
    found = {}
    for line in scrape(daemon).splitlines():
        if line.startswith("controlwatch_scope_owned{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.split('scope="', 1)[1].split('"', 1)[0]] = float(value)
    return found


def test_three_replicas_watch_every_scope_exactly_once(make: Make) -> None:
    daemons = [make(config(refresh=3600), Shard(index, 3)) for index in range(3)]
    for daemon in daemons:
        daemon.start()
    shares = [set(daemon.scopes.watched()) for daemon in daemons]
    assert sorted(s for share in shares for s in share) == WATCHED  # disjoint, and every scope
    for index, (daemon, share) in enumerate(zip(daemons, shares, strict=True)):
        assert share == {s for s in WATCHED if owner(s, 3) == index}
        assert daemon.scopes.elsewhere() == {s: owner(s, 3) for s in WATCHED if owner(s, 3) != index}
        assert owned_series(daemon) == {s: 1.0 if s in share else 0.0 for s in WATCHED}
        assert sample(daemon, "controlwatch_shard_info", index=str(index), count="3") == 1
        assert sample(daemon, "controlwatch_scopes", state="watched") == len(share)
        wait_for(lambda d=daemon, mine=share: ran(d) == mine, 15)  # runs only its own scopes
    assert sum(len(share) for share in shares) == len(WATCHED)
    assert all(shares), "seven scopes over three replicas: each gets some (pinned by the hashes)"


def test_the_table_of_a_replica_says_who_owns_each_scope(make: Make) -> None:
    daemon = make(config(refresh=3600), Shard(1, 3))
    daemon.start()
    for scope in WATCHED:
        decision = daemon.scopes.decision(scope)
        assert decision is not None and decision.owner == owner(scope, 3)
        whose = "this replica" if owner(scope, 3) == 1 else f"replica {owner(scope, 3)}"
        assert decision.why.endswith(f"; owned by {whose} ({owner(scope, 3)} of 3 by rendezvous hashing)")


def test_one_process_owns_every_scope(make: Make) -> None:
    daemon = make(config(refresh=3600), None)
    daemon.start()
    assert owned_series(daemon) == dict.fromkeys(WATCHED, 1.0)
    assert sample(daemon, "controlwatch_shard_info", index="0", count="1") == 1


def readyz(daemon: Daemon) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(daemon.server.url + "/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_readyz_waits_for_the_first_discovery(estate: StandIn, make: Make) -> None:
    """Discovery-only config: before the first listing ends the set is empty, which must not read as ready."""
    release = threading.Event()
    listing = make_discover(make_clients(estate.url), FAST_RETRY)

    def slow_discover(cfg: Config, observer: ApiObserver) -> Estate:
        assert release.wait(20)
        return listing(cfg, observer)

    text = "scopes: {organization: '4242', exclude: {projects: ['sandbox-*']}}\n"
    cfg = config(
        text + "schedule: {interval: 1h, jitter: 0s}\ngcp: {call_timeout: 1s, run_deadline: 5s}\n"
        "metrics: {listen: '127.0.0.1:0'}\n",
        refresh=3600,
    )
    daemon = make(cfg, None, slow_discover)
    starting = threading.Thread(target=daemon.start, daemon=True)
    starting.start()
    wait_for(lambda: _serving(daemon), 5)
    assert readyz(daemon) == (503, {"ready": False, "waiting": ["first scope discovery"]})
    release.set()
    starting.join(10)
    wait_for(lambda: readyz(daemon)[0] == 200, 20)
    assert readyz(daemon) == (200, {"ready": True, "waiting": []})
    assert ran(daemon) == set(WATCHED)


def _serving(daemon: Daemon) -> bool:
    try:
        return bool(daemon.server.url)
    except RuntimeError:
        return False
