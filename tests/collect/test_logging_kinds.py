"""The Logging kinds (sinks, ancestor sinks, log metrics) through the real logging client and the stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from checks.snapshot import Kind
from monitor.collect import GcpClients
from monitor.standin import Fault, StandIn
from tests.collect.conftest import PROJECT, Recorder
from tests.collect.hierarchy import FOLDER_SINKS, ORG, ORG_SINK, collect

LOGGING_KINDS = (Kind.SINKS, Kind.ANCESTOR_SINKS, Kind.LOG_METRICS)


def test_sinks_and_metrics_round_trip_every_field(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, document: dict[str, Any]
) -> None:
    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.SINKS, Kind.LOG_METRICS)

    logging = document["projects"][0]["logging"]
    assert list(snapshot.get(Kind.SINKS)) == logging["sinks"]
    disabled = snapshot.get(Kind.SINKS)[1]
    assert disabled["disabled"] is True and disabled["exclusions"] == [
        {"name": "skip-gke", "filter": "resource.type=k8s_container"}
    ]
    assert list(snapshot.get(Kind.LOG_METRICS)) == logging["metrics"]
    assert [m["filter"] for m in snapshot.get(Kind.LOG_METRICS)] == [m["filter"] for m in logging["metrics"]]
    assert snapshot.note(Kind.SINKS) is None and snapshot.note(Kind.LOG_METRICS) is None
    assert recorder.codes("logging.projects.sinks.list") == ["200"]
    assert recorder.codes("logging.projects.metrics.list") == ["200"]


def test_the_public_sink_objects_would_lose_what_log_02_needs(
    hierarchy: StandIn, hierarchy_clients: GcpClients
) -> None:
    """Why the collector reads raw JSON: if this starts failing, `list_sinks()` may now be enough."""
    sinks = list(hierarchy_clients.get("logging").list_sinks(parent=f"projects/{PROJECT}"))

    assert [s.name for s in sinks] == ["all-to-archive", "disabled-bq"]
    assert not any(hasattr(s, attr) for s in sinks for attr in ("disabled", "exclusions", "include_children"))


def test_ancestor_sinks_name_their_parent_nearest_first(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.ANCESTOR_SINKS)

    assert list(snapshot.get(Kind.ANCESTOR_SINKS)) == [
        {"parent": "folders/55", "sink": FOLDER_SINKS[0]},
        {"parent": "folders/55", "sink": FOLDER_SINKS[1]},
        {"parent": ORG, "sink": ORG_SINK},
    ]
    assert snapshot.get(Kind.ANCESTOR_SINKS)[2]["sink"]["includeChildren"] is True
    assert [r.path for r in hierarchy.requests_for("logging.folders.sinks.list")] == [
        "/v2/folders/5501/sinks",
        "/v2/folders/55/sinks",
    ]
    assert recorder.codes("logging.organizations.sinks.list") == ["200"]


def test_each_page_is_one_observed_call(hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder) -> None:
    snapshot = collect(hierarchy_clients, recorder, PROJECT, *LOGGING_KINDS, page_size=1)

    assert [s["name"] for s in snapshot.get(Kind.SINKS)] == ["all-to-archive", "disabled-bq"]
    assert len(snapshot.get(Kind.ANCESTOR_SINKS)) == 3 and len(snapshot.get(Kind.LOG_METRICS)) == 2
    pages = hierarchy.requests_for("logging.projects.sinks.list")
    assert [(r.query.get("pageSize"), r.query.get("pageToken")) for r in pages] == [("1", None), ("1", "1")]
    assert [r.query.get("pageToken") for r in hierarchy.requests_for("logging.folders.sinks.list")] == [None, None, "1"]
    assert recorder.codes("logging.projects.metrics.list") == ["200", "200"]


def test_logging_disabled_in_the_project_is_empty_with_a_note(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    snapshot = collect(hierarchy_clients, recorder, "no-logging", *LOGGING_KINDS)

    for kind in (Kind.SINKS, Kind.LOG_METRICS):
        assert snapshot.kinds[kind].ok and snapshot.get(kind) == ()
        assert snapshot.note(kind) == "Cloud Logging API not enabled"
    # the ancestors' sinks still exist and still route the project's logs
    assert [s["parent"] for s in snapshot.get(Kind.ANCESTOR_SINKS)] == ["folders/55", "folders/55", ORG]
    assert recorder.codes("logging.projects.sinks.list") == ["403"] and recorder.retries == []


def test_an_empty_logging_part_is_none_exist_without_a_note(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    snapshot = collect(hierarchy_clients, recorder, "org-child", Kind.SINKS, Kind.LOG_METRICS)

    assert snapshot.get(Kind.SINKS) == () and snapshot.note(Kind.SINKS) is None


def test_service_disabled_fault_on_sinks_is_a_note_but_on_ancestors_an_error(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    hierarchy.add_fault(Fault(method="logging.projects.sinks.list", status=403, reason="SERVICE_DISABLED"))
    hierarchy.add_fault(Fault(method="logging.organizations.sinks.list", status=403, reason="accessNotConfigured"))

    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.SINKS, Kind.ANCESTOR_SINKS)

    assert snapshot.get(Kind.SINKS) == () and snapshot.note(Kind.SINKS) == "Cloud Logging API not enabled"
    error = str(snapshot.kinds[Kind.ANCESTOR_SINKS].error)
    assert error == f"ancestor {ORG}: Cloud Logging API not enabled, so it cannot be read"


@pytest.mark.parametrize(
    ("fault", "kind", "expected"),
    [
        (
            Fault(method="logging.organizations.sinks.list", status=403),
            Kind.ANCESTOR_SINKS,
            f"ancestor {ORG}: logging.organizations.sinks.list: HTTP 403",
        ),
        (Fault(method="logging.projects.sinks.list", status=404), Kind.SINKS, "logging.projects.sinks.list: HTTP 404"),
        (
            Fault(method="logging.projects.metrics.list", kind="malformed"),
            Kind.LOG_METRICS,
            "logging.projects.metrics.list: malformed response body",
        ),
        (
            Fault(method="logging.projects.sinks.list", status=429),
            Kind.SINKS,
            "logging.projects.sinks.list: HTTP 429 RATE_LIMIT_EXCEEDED",
        ),
    ],
)
def test_faults_are_errors_with_their_cause(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, fault: Fault, kind: str, expected: str
) -> None:
    hierarchy.add_fault(fault)

    data = collect(hierarchy_clients, recorder, PROJECT, kind).kinds[kind]

    assert not data.ok and data.resources == () and str(data.error).startswith(expected)


def test_a_passing_failure_is_retried_per_page(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    hierarchy.add_fault(Fault(method="logging.projects.sinks.list", status=503, times=1))
    hierarchy.add_fault(Fault(method="logging.folders.sinks.list", kind="drop", times=1))

    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.SINKS, Kind.ANCESTOR_SINKS)

    assert len(snapshot.get(Kind.SINKS)) == 2 and len(snapshot.get(Kind.ANCESTOR_SINKS)) == 3
    assert recorder.codes("logging.projects.sinks.list") == ["503", "200"]
    assert sorted(recorder.reasons()) == ["503", "connection"]
