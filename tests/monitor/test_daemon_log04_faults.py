"""LOG-04 fails closed, end to end: a fault on either route reading a sink's destination (a Cloud
Storage bucket, a Logging bucket) turns exactly LOG-04 into `error`, naming the destination and the
call, while every other control keeps its verdict.

Real clients, collectors, daemon and stand-in serving the demo, where shop-prod's own sink writes to
an unlocked Logging bucket (LOG-04 fails) and its folder's sink to a locked bucket held by
ledger-clean, which both projects report ("judged at folders/5501").
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks import default_registry
from checks.snapshot import Kind
from monitor.collect import StuckCalls
from monitor.daemon import Daemon
from monitor.standin import Fault, StandIn
from tests.monitor.conftest import config_for

SCOPE, OTHER = "shop-prod", "ledger-clean"
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]  # config_for leaves DRIFT off
LOG_BUCKET = "logging.projects.locations.buckets.get"
BUCKET = "storage.buckets.get"
SHOP_LOGS = "projects/shop-prod/locations/europe-west1/buckets/shop-all-logs"
ARCHIVE = "bucket example-be-prod-log-archive"

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def test_only_log04_reads_the_sinks_destinations() -> None:
    assert {c.meta.id for c in ENABLED if Kind.SINK_DESTINATIONS in c.meta.kinds} == {"LOG-04"}


FAULTS = [
    pytest.param(Fault(method=LOG_BUCKET, project=SCOPE, status=403), SHOP_LOGS, "HTTP 403", id="log-bucket-403"),
    pytest.param(Fault(method=LOG_BUCKET, project=SCOPE, status=503), SHOP_LOGS, "HTTP 503", id="log-bucket-503"),
    pytest.param(Fault(method=LOG_BUCKET, project=SCOPE, kind="malformed"), SHOP_LOGS, "malformed",
                 id="log-bucket-malformed"),  # fmt: skip
    pytest.param(Fault(method=LOG_BUCKET, project=SCOPE, kind="hostile", mode="empty-object"), SHOP_LOGS, LOG_BUCKET,
                 id="log-bucket-hostile"),  # fmt: skip
    pytest.param(Fault(method=BUCKET, status=403), ARCHIVE, "HTTP 403", id="bucket-403"),
    pytest.param(Fault(method=BUCKET, kind="drop"), ARCHIVE, "connection failed", id="bucket-dropped"),
    pytest.param(Fault(method=BUCKET, kind="hostile", mode="empty-object"), ARCHIVE, BUCKET, id="bucket-hostile"),
]


@pytest.mark.parametrize(("fault", "destination", "cause"), FAULTS)
def test_a_fault_reading_a_destination_turns_exactly_log04_to_error(
    standin: StandIn, make_daemon: MakeDaemon, fault: Fault, destination: str, cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    daemon.run_scope(SCOPE)
    clean = statuses(daemon, SCOPE)
    assert "error" not in clean.values() and clean["LOG-04"] == "fail"  # shop-all-logs' unlocked bucket

    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == {"LOG-04"}
    assert {c: s for c, s in got.items() if c != "LOG-04"} == {c: s for c, s in clean.items() if c != "LOG-04"}
    errors = daemon.store.results(control="LOG-04", scope=SCOPE, verdict="error")
    [result] = [r for r in errors if destination in r.reason]
    assert "cannot be read" in result.reason and cause in result.reason, result.reason
    if fault.method == BUCKET:  # the folder's sink, judged at its own level, is reported in both projects
        assert result.reason.startswith("judged at folders/5501: ")
        daemon.run_scope(OTHER)
        assert {c for c, s in statuses(daemon, OTHER).items() if s != "pass"} == {"LOG-04"}
    else:
        daemon.run_scope(OTHER)  # another project's Logging bucket is read per project: ledger-clean's passes
        assert set(statuses(daemon, OTHER).values()) == {"pass"}
