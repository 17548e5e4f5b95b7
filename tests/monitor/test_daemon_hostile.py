"""Hostile 200s, end to end: no wrong-shaped, truncated, endless or wrong-kind answer ever yields `pass`.

Every mode of the stand-in's `hostile` fault × every call that carries a collected kind's
data, through the real daemon path (clients → collector → controls → store) against the
demo. The controls reading the broken kind are `error` with a reason naming the call;
every other control keeps the verdict the clean run gave it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checks import default_registry
from checks.kinds import Holder, Kind
from monitor.collect import CollectSettings, StuckCalls, make_clients
from monitor.daemon import Daemon
from monitor.drift.baselines import BaselineStore
from monitor.run.runtime import Runtime, make_collect
from monitor.standin import Fault, StandIn
from monitor.standin.hostile import MODES, applies
from tests.monitor.conftest import FAST_RETRY, config_for

SCOPE = "shop-prod"
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]  # config_for leaves DRIFT off
MAX_PAGES = 20
_WALK_CALLS = {
    Kind.ANCESTRY: ("cloudresourcemanager.folders.getIamPolicy", "cloudresourcemanager.organizations.getIamPolicy"),
    Kind.ANCESTOR_SINKS: ("logging.folders.sinks.list", "logging.organizations.sinks.list"),
}
#: the walks up the hierarchy, which read the project and its ancestors
WALKS = (Kind.ANCESTRY, Kind.ANCESTOR_SINKS, Kind.FIREWALL_POLICIES)


def _fed_by(kind: Kind) -> tuple[Kind, ...]:
    """The kinds a kind's own call feeds: itself, and any kind reading the same call (BigQuery's tables
    kind lists the datasets too, through the one listing a run shares)."""
    return tuple(k for k in Kind if kind.spec.method in (k.spec.method, *k.spec.reads))


#: (what breaks, the kinds it feeds, the calls answered hostile): each kind's own listing or
#: read, and the walks' reads of the project and its ancestors (shared by the three walks)
TARGETS: list[tuple[str, tuple[Kind, ...], tuple[str, ...]]] = [
    *(
        (str(kind), _fed_by(kind), _WALK_CALLS.get(kind, (kind.spec.method,)))
        for kind in Kind
        if any(kind in c.meta.kinds for c in ENABLED)
    ),
    ("project read", WALKS, ("cloudresourcemanager.projects.get",)),
    (
        "ancestor reads",
        WALKS,
        ("cloudresourcemanager.folders.get", "cloudresourcemanager.organizations.get"),
    ),
]
#: Cloud Logging leaves an empty list out and sends nothing else, so `{}` IS its answer for
#: no sinks: read as an empty listing, as a real one is (`tests/collect/test_hostile.py`).
LOGGING_EMPTY = {(str(Kind.SINKS), "empty-object"), (str(Kind.LOG_METRICS), "empty-object")}
LOGGING_EMPTY |= {(str(Kind.ANCESTOR_SINKS), "empty-object")}
# Dataproc's listing carries no `kind` either: `{}` is its answer for no clusters in a region.
LOGGING_EMPTY |= {(str(Kind.DATAPROC_CLUSTERS), "empty-object")}
#: Kinds whose listing has no other kind's answer on the same route parameters: the SQL Admin API
#: lists nothing else per project (backup runs need an instance), so `other-kind` cannot be served.
NO_OTHER_KIND = {(str(Kind.SQL_INSTANCES), "other-kind")}
# IAM's listings carry no `kind` either, and its answer for no service accounts is `{}` itself.
LOGGING_EMPTY |= {(str(Kind.SERVICE_ACCOUNT_KEYS), "empty-object")}
# Monitoring's and Service Usage's listings carry no `kind` either: `{}` is their answer for none.
LOGGING_EMPTY |= {(str(Kind.ALERT_POLICIES), "empty-object"), (str(Kind.ENABLED_SERVICES), "empty-object")}
# API Keys and Essential Contacts leave an empty list out too: `{}` is no keys, no contacts (a KMS
# location listing is never empty, so the keyRings kind refuses `{}`).
LOGGING_EMPTY |= {(str(Kind.API_KEYS), "empty-object"), (str(Kind.ESSENTIAL_CONTACTS), "empty-object")}
MATRIX = [
    pytest.param(mode, name, kinds, calls, id=f"{mode}-{name.replace(' ', '-')}")
    for mode in MODES
    if mode != "many"  # valid data, just a lot: tests/collect/test_hostile.py
    for name, kinds, calls in TARGETS
    if all(applies(mode, call) for call in calls) and (name, mode) not in LOGGING_EMPTY
]


def statuses(daemon: Daemon) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == SCOPE and s.status is not None}


@pytest.fixture(scope="module")
def daemon(demo_standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for the matrix: each cell is one run of the scope, with its fault."""
    demo_standin.reset()
    stuck = StuckCalls()
    settings = CollectSettings(call_timeout=0.5, run_deadline=3.0, retry=FAST_RETRY, max_pages=MAX_PAGES)
    runtime = Runtime(collect=make_collect(make_clients(demo_standin.url), settings, stuck), stuck_calls=stuck.busy)
    made = Daemon(
        config_for([SCOPE]), default_registry(), runtime, baselines=BaselineStore(tmp_path_factory.mktemp("b") / "b")
    )
    yield made
    made.scheduler.shutdown(wait=False)
    demo_standin.reset()


@pytest.fixture(scope="module")
def clean(daemon: Daemon) -> dict[str, str]:
    """The verdicts of a run without faults."""
    daemon.run_scope(SCOPE)
    found = statuses(daemon)
    assert "error" not in found.values() and "pass" in found.values() and "fail" in found.values(), found
    return found


@pytest.mark.parametrize(("mode", "name", "kinds", "calls"), MATRIX)
def test_a_hostile_answer_is_an_error_naming_the_call_never_a_pass(
    demo_standin: StandIn,
    daemon: Daemon,
    clean: dict[str, str],
    mode: str,
    name: str,
    kinds: tuple[Kind, ...],
    calls: tuple[str, ...],
) -> None:
    demo_standin.reset()
    for call in calls:
        about_project = any(k.spec.holder is Holder.PROJECT and k.spec.method == call for k in Kind)
        demo_standin.add_fault(Fault(method=call, kind="hostile", mode=mode, project=SCOPE if about_project else None))
    try:
        daemon.run_scope(SCOPE)
    finally:
        demo_standin.reset()
    got = statuses(daemon)
    readers = {c.meta.id for c in ENABLED if set(kinds) & set(c.meta.kinds)}
    assert readers
    assert {c: got[c] for c in readers if got[c] != "error"} == {}
    for control in readers:
        for result in daemon.store.results(control=control, scope=SCOPE):
            assert result.verdict.value == "error" and any(call in result.reason for call in calls), result.reason
    assert {c: s for c, s in got.items() if c not in readers} == {c: s for c, s in clean.items() if c not in readers}


def test_the_matrix_covers_every_mode_and_every_collected_kind() -> None:
    cells = {(p.values[0], k) for p in MATRIX for k in p.values[2]}  # type: ignore[union-attr]
    collected = {kind for c in ENABLED for kind in c.meta.kinds}
    for mode in set(MODES) - {"many"}:
        for kind in collected:
            # A list mode cannot break a one-resource answer (an effective org policy): nothing to cover there.
            breakable = all(applies(mode, call) for name, _, calls in TARGETS if name == kind for call in calls)
            excused = (str(kind), mode) in LOGGING_EMPTY | NO_OTHER_KIND
            assert (mode, kind) in cells or excused or not breakable, (mode, kind)
    for kind, mode in NO_OTHER_KIND:
        assert not applies(mode, Kind(kind).spec.method)
    assert len(MATRIX) >= 120
