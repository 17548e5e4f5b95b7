"""Cloud Logging v2 routes through the real google-cloud-logging client (JSON over HTTP).

One stand-in for the module, on a scenario with sinks at every level, metrics and a
handful of log entries chosen so each filter of the table picks a different set.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import requests
from google.api_core import exceptions

from monitor.standin import Fault, ScenarioError, StandIn, StandInControl, load_scenario
from tests.standin.conftest import SHOP, minimal_document

NUMBER = "731234567890"
ACTIVITY = f"projects/{SHOP}/logs/cloudaudit.googleapis.com%2Factivity"
DATA_ACCESS = f"projects/{SHOP}/logs/cloudaudit.googleapis.com%2Fdata_access"
ORG_SINK = {
    "name": "org-audit",
    "destination": "pubsub.googleapis.com/projects/sec-siem/topics/audit",
    "filter": 'logName:"cloudaudit.googleapis.com"',
    "includeChildren": True,
    "writerIdentity": "serviceAccount:o4242-123456@gcp-sa-logging.iam.gserviceaccount.com",
    "createTime": "2023-03-14T10:21:07.493210771Z",
}


def _entry(insert_id: str, log_name: str, resource_type: str, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "logName": log_name,
        "resource": {"type": resource_type, "labels": {"project_id": SHOP}},
        "insertId": insert_id,
        "timestamp": when,
        **extra,
    }


def _audit(method: str, service: str = "compute.googleapis.com", who: str = "tom@example.be") -> dict[str, Any]:
    return {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": service,
            "methodName": method,
            "authenticationInfo": {"principalEmail": who},
        }
    }


ENTRIES = [
    _entry("e1", ACTIVITY, "gce_firewall_rule", "2026-11-25T10:00:00Z", **_audit("v1.compute.firewalls.insert")),
    _entry(
        "e2",
        ACTIVITY,
        "project",
        "2026-11-25T11:00:00.500Z",
        **_audit("SetIamPolicy", "cloudresourcemanager.googleapis.com", "ann@example.be"),
    ),
    _entry(
        "e3", DATA_ACCESS, "gce_instance", "2026-11-24T09:00:00Z", severity="INFO", **_audit("v1.compute.instances.get")
    ),
    _entry("e4", f"projects/{SHOP}/logs/syslog", "gce_instance", "2026-11-25T11:00:00.5Z", textPayload="hi FIREWALL"),
    _entry(
        "e5", ACTIVITY, "gce_firewall_rule", "2026-11-25T12:30:00.000000001Z", **_audit("v1.compute.firewalls.delete")
    ),
]
FOLDER_ENTRY = {
    "logName": "folders/5501/logs/cloudaudit.googleapis.com%2Factivity",
    "resource": {"type": "folder", "labels": {"folder_id": "5501"}},
    "insertId": "f1",
    "timestamp": "2026-11-25T09:00:00Z",
}
EXTRA_SINKS = [
    {
        "name": "disabled-bq",
        "destination": "bigquery.googleapis.com/projects/example-shop/datasets/all_logs",
        "disabled": True,
        "exclusions": [{"name": "skip-gke", "filter": "resource.type=k8s_container"}],
        "bigqueryOptions": {"usePartitionedTables": True},
    },
    {"name": "errors", "destination": "storage.googleapis.com/errors", "filter": "severity>=ERROR"},
]


def logging_document() -> dict[str, Any]:
    doc = minimal_document()
    shop = doc["projects"][0]
    shop["logging"]["sinks"].extend(copy.deepcopy(EXTRA_SINKS))
    shop["logging"]["metrics"].append({"name": "fw-changes", "filter": 'resource.type="gce_firewall_rule"'})
    shop["logging"]["entries"] = copy.deepcopy(ENTRIES)
    doc["organization"]["logging"] = {"sinks": [dict(ORG_SINK)]}
    doc["folders"][0]["logging"] = {"entries": [dict(FOLDER_ENTRY)]}
    doc["projects"].append({"projectId": "quiet", "name": "projects/444", "parent": "organizations/4242"})
    return doc


@pytest.fixture(scope="module")
def module_standin() -> Iterator[StandIn]:
    with StandIn(load_scenario(logging_document())) as standin:
        yield standin


@pytest.fixture
def standin(module_standin: StandIn) -> Iterator[StandIn]:
    module_standin.reset()
    yield module_standin
    module_standin.reset()


@pytest.fixture(scope="module")
def gcl() -> ModuleType:
    import google.cloud.logging as module

    return module


@pytest.fixture
def client(standin: StandIn, gcl: ModuleType) -> Any:
    from google.auth.credentials import AnonymousCredentials

    return gcl.Client(
        project=SHOP,
        _use_grpc=False,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": standin.url},
    )


def _get(client: Any, path: str, **params: Any) -> Any:
    return client._connection.api_request(method="GET", path=path, query_params=params, timeout=5)


def _list_entries(standin: StandIn, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{standin.url}/v2/entries:list", json=body, timeout=5)


def _ids(standin: StandIn, filter_: str, names: list[str] | None = None, **more: Any) -> list[str]:
    answer = _list_entries(standin, {"resourceNames": names or [f"projects/{SHOP}"], "filter": filter_, **more})
    assert answer.status_code == 200, answer.text
    return [e["insertId"] for e in answer.json().get("entries", [])]


# -- sinks and metrics ------------------------------------------------------------------


def test_sinks_of_a_project_come_back_whole(standin: StandIn, client: Any) -> None:
    shop = logging_document()["projects"][0]
    body = _get(client, f"/projects/{SHOP}/sinks")
    assert body == {"sinks": shop["logging"]["sinks"]}
    assert body["sinks"][1]["disabled"] is True and body["sinks"][1]["exclusions"][0]["name"] == "skip-gke"
    assert _get(client, f"/projects/{NUMBER}/sinks/errors") == EXTRA_SINKS[1]  # by number too
    (record,) = standin.requests_for("logging.projects.sinks.get")
    assert record.project == SHOP
    # the public iterator reaches the same route (but keeps fewer fields: see monitor.collect.cloudlogging)
    assert [s.name for s in client.list_sinks(parent=f"projects/{SHOP}")] == ["all-to-archive", "disabled-bq", "errors"]


def test_sinks_of_folders_and_organizations(standin: StandIn, client: Any) -> None:
    assert _get(client, "/organizations/4242/sinks") == {"sinks": [ORG_SINK]}
    assert _get(client, "/folders/5501/sinks") == {}  # a folder without sinks
    assert _get(client, "/organizations/4242/sinks/org-audit")["includeChildren"] is True
    methods = [r.method for r in standin.requests]
    assert methods == [
        "logging.organizations.sinks.list",
        "logging.folders.sinks.list",
        "logging.organizations.sinks.get",
    ]


def test_sinks_and_metrics_page_as_the_api_does(standin: StandIn, client: Any) -> None:
    first = _get(client, f"/projects/{SHOP}/sinks", pageSize=2)
    assert [s["name"] for s in first["sinks"]] == ["all-to-archive", "disabled-bq"] and first["nextPageToken"] == "2"
    last = _get(client, f"/projects/{SHOP}/sinks", pageSize=2, pageToken="2")
    assert [s["name"] for s in last["sinks"]] == ["errors"] and "nextPageToken" not in last
    assert len(_get(client, f"/projects/{SHOP}/sinks", pageSize=0)["sinks"]) == 3  # non-positive: ignored
    # the client's own pager follows the tokens, one request per page
    assert len(list(client.list_sinks(parent=f"projects/{SHOP}", page_size=1))) == 3
    assert [r.query.get("pageToken") for r in standin.requests_for("logging.projects.sinks.list")][-3:] == [
        None,
        "1",
        "2",
    ]
    metrics = [m.name for m in client.list_metrics(page_size=1)]
    assert metrics == ["owner-changes", "fw-changes"]
    assert len(standin.requests_for("logging.projects.metrics.list")) == 2
    with pytest.raises(exceptions.BadRequest, match="Invalid page token"):
        _get(client, f"/projects/{SHOP}/sinks", pageToken="nope")


def test_errors_are_the_apis(standin: StandIn, client: Any) -> None:
    with pytest.raises(exceptions.NotFound, match="Sink ghost does not exist"):
        _get(client, f"/projects/{SHOP}/sinks/ghost")
    with pytest.raises(exceptions.Forbidden) as denied:
        _get(client, "/projects/nowhere/sinks")
    assert denied.value.reason == "IAM_PERMISSION_DENIED"
    with pytest.raises(exceptions.Forbidden):
        _get(client, "/folders/999/sinks")
    with pytest.raises(exceptions.Forbidden) as disabled:  # a project without a logging part
        _get(client, "/projects/quiet/metrics")
    assert disabled.value.reason == "SERVICE_DISABLED" and "Cloud Logging API has not been used" in str(disabled.value)
    with pytest.raises(exceptions.BadRequest, match="in_scope"):
        _get(client, f"/projects/{SHOP}/sinks", filter='in_scope("ALL")')
    assert _get(client, f"/projects/{SHOP}/sinks", filter='in_scope("DEFAULT")')["sinks"]
    with pytest.raises(exceptions.BadRequest, match='Unknown name "colour"'):
        _get(client, f"/projects/{SHOP}/sinks", colour="blue")


def test_faults_apply_by_method_id(standin: StandIn, client: Any) -> None:
    standin.add_fault(Fault(method="logging.folders.sinks.list", status=403))
    standin.add_fault(Fault(method="logging.projects.sinks.list", status=503, times=1))
    with pytest.raises(exceptions.Forbidden, match="//logging.googleapis.com/folders/5501"):
        _get(client, "/folders/5501/sinks")
    with pytest.raises(exceptions.ServiceUnavailable):
        _get(client, f"/projects/{SHOP}/sinks")
    assert _get(client, f"/projects/{SHOP}/sinks")["sinks"]  # once only
    standin.add_fault(Fault(method="logging.entries.list", kind="malformed", times=1))
    truncated = _list_entries(standin, {"resourceNames": [f"projects/{SHOP}"]})
    with pytest.raises(ValueError):
        truncated.json()
    statuses = [(r.method, r.status, r.fault is not None) for r in standin.requests]
    assert statuses == [
        ("logging.folders.sinks.list", 403, True),
        ("logging.projects.sinks.list", 503, True),
        ("logging.projects.sinks.list", 200, False),
        ("logging.entries.list", 200, True),
    ]


def test_a_misspelt_or_mistyped_sink_in_a_scenario_is_refused() -> None:
    doc = logging_document()
    doc["organization"]["logging"]["sinks"][0]["includeChildern"] = True
    doc["projects"][0]["logging"]["sinks"][1]["disabled"] = "yes"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(doc)
    assert caught.value.problems == [
        ("organization.logging.sinks[0].includeChildern", "unknown field"),
        ("projects[0].logging.sinks[1].disabled", 'expected boolean, got string "yes"'),
    ]


# -- entries:list -----------------------------------------------------------------------

FILTERS = [
    ("", ["e3", "e1", "e2", "e4", "e5"]),
    (f'logName="{ACTIVITY}"', ["e1", "e2", "e5"]),
    ('logName:"data_access"', ["e3"]),
    ('timestamp>="2026-11-25T11:00:00.5Z"', ["e2", "e4", "e5"]),
    ('timestamp > "2026-11-25T11:00:00.5Z"', ["e5"]),
    ('timestamp<"2026-11-25T00:00:00Z"', ["e3"]),
    ('timestamp<="2026-11-25T10:00:00+00:00"', ["e3", "e1"]),
    ('timestamp>="2026-11-25T10:00:00.000000+0000"', ["e1", "e2", "e4", "e5"]),  # as google-cloud-logging writes it
    ('protoPayload.methodName:"firewalls"', ["e1", "e5"]),
    ('protoPayload.methodName:"v1.compute.firewalls.delete"', ["e5"]),
    ("protoPayload.methodName:*", ["e3", "e1", "e2", "e5"]),
    ('resource.type="gce_instance"', ["e3", "e4"]),
    ("resource.type=gce_firewall_rule", ["e1", "e5"]),
    ('resource.type!="gce_instance"', ["e1", "e2", "e5"]),
    ('NOT resource.type="gce_instance"', ["e1", "e2", "e5"]),
    ('resource.type="gce_firewall_rule" AND protoPayload.methodName:"delete"', ["e5"]),
    ('resource.type="project" OR resource.type="gce_instance"', ["e3", "e2", "e4"]),
    # OR binds tighter than AND in the Logging query language
    (
        'resource.type="gce_instance" OR protoPayload.methodName:"insert" AND timestamp>="2026-11-25T00:00:00Z"',
        ["e1", "e4"],
    ),
    ('(resource.type="project" OR resource.type="gce_instance") timestamp>="2026-11-25T00:00:00Z"', ["e2", "e4"]),
    ('textPayload:"firewall"', ["e4"]),  # string comparisons ignore case
    ('protoPayload.authenticationInfo.principalEmail="TOM@example.be"', ["e3", "e1", "e5"]),
    ("severity=INFO", ["e3"]),
    ('resource.labels.project_id="example-shop" AND NOT (logName:"activity" OR logName:"data_access")', ["e4"]),
]


@pytest.mark.parametrize(("filter_", "expected"), FILTERS, ids=[f or "<none>" for f, _ in FILTERS])
def test_entries_filter_subset(standin: StandIn, filter_: str, expected: list[str]) -> None:
    assert _ids(standin, filter_) == expected


@pytest.mark.parametrize(
    ("filter_", "named"),
    [
        ("severity>=ERROR", "severity>=ERROR"),
        ('LOG_ID("cloudaudit.googleapis.com/activity")', "LOG_ID"),
        ('"firewall"', '"firewall"'),
        ('resource.type=("gce_instance" OR "project")', "resource.type="),
        ('logName=~"activity"', 'logName=~"activity"'),
        ('timestamp>="yesterday"', 'timestamp>="yesterday"'),
        ('resource.type="project" AND', "an expression that ends early"),
        ('(resource.type="project"', "an expression that ends early"),
        ('resource.type="project")', ")"),
        ('SEARCH("firewall")', "SEARCH"),
    ],
)
def test_an_unsupported_filter_is_a_400_naming_it(standin: StandIn, filter_: str, named: str) -> None:
    answer = _list_entries(standin, {"resourceNames": [f"projects/{SHOP}"], "filter": filter_})
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert f"cannot evaluate {named!r}" in message and "Unsupported filter" in message


def test_entries_of_several_resources_and_orders(standin: StandIn) -> None:
    both = [f"projects/{SHOP}", "folders/5501"]
    assert _ids(standin, 'timestamp>="2026-11-25T00:00:00Z"', both) == ["f1", "e1", "e2", "e4", "e5"]
    assert _ids(standin, "", [f"projects/{NUMBER}"], orderBy="timestamp desc") == ["e5", "e2", "e4", "e1", "e3"]
    assert _ids(standin, "", ["organizations/4242"]) == []
    assert _ids(standin, "", [], projectIds=[SHOP]) == ["e3", "e1", "e2", "e4", "e5"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "resourceNames: at least one"),
        ({"resourceNames": [f"projects/{SHOP}"], "orderBy": "insertId"}, 400, "Invalid orderBy"),
        ({"resourceNames": [f"projects/{SHOP}"], "pageSize": -1}, 400, "must not be negative"),
        ({"resourceNames": [f"projects/{SHOP}"], "colour": "blue"}, 400, "colour: unknown field"),
        ({"resourceNames": ["billingAccounts/0"]}, 400, "Invalid resource name"),
        ({"resourceNames": ["projects/nowhere"]}, 403, "logging.logEntries.list"),
        ({"resourceNames": ["projects/quiet"]}, 403, "Cloud Logging API has not been used"),
    ],
)
def test_bad_list_requests(standin: StandIn, body: dict[str, Any], status: int, message: str) -> None:
    answer = _list_entries(standin, body)
    assert answer.status_code == status and message in answer.json()["error"]["message"]


def test_entries_page_with_the_token_in_the_body(standin: StandIn, client: Any, gcl: ModuleType) -> None:
    first = _list_entries(standin, {"resourceNames": [f"projects/{SHOP}"], "pageSize": 2}).json()
    assert [e["insertId"] for e in first["entries"]] == ["e3", "e1"] and first["nextPageToken"] == "2"
    # through the client: a filter with a timestamp term, so it adds none of its own
    found = client.list_entries(
        resource_names=[f"projects/{SHOP}"],
        filter_='timestamp>="2026-01-01T00:00:00Z"',
        order_by=gcl.DESCENDING,
        page_size=2,
    )
    assert [e.insert_id for e in found] == ["e5", "e2", "e4", "e1", "e3"]
    bodies = [r.body for r in standin.requests_for("logging.entries.list")][1:]
    assert [b.get("pageToken") for b in bodies] == [None, "2", "4"]
    assert all(b["orderBy"] == "timestamp desc" and b["pageSize"] == 2 for b in bodies)
    audit = next(
        e
        for e in client.list_entries(
            resource_names=[f"projects/{SHOP}"], filter_='timestamp>="2026-01-01T00:00:00Z" insertId="e1"'
        )
    )
    assert audit.payload["methodName"] == "v1.compute.firewalls.insert" and audit.resource.type == "gce_firewall_rule"


# -- entries:write ----------------------------------------------------------------------


def _mine(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without the diagnostic entry the client writes once per process."""
    return [e for e in entries if "logging.googleapis.com/diagnostic" not in e.get("jsonPayload", {})]


def test_entries_write_is_stored_per_log_and_listed(standin: StandIn, gcl: ModuleType) -> None:
    from google.auth.credentials import AnonymousCredentials

    # a project number in the client: the API files the entries under the projectId
    client = gcl.Client(
        project=NUMBER,
        _use_grpc=False,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": standin.url},
    )
    logger = client.logger("controlwatch/evidence", resource=gcl.Resource(type="global", labels={}))
    logger.log_struct({"record": 1, "control": "LOG-02"}, severity="NOTICE")
    logger.log_text("second", severity=400)  # the client sends this severity as a number

    log_name = f"projects/{SHOP}/logs/controlwatch%2Fevidence"
    stored = _mine(standin.written_entries(log_name))
    assert [(e.get("jsonPayload"), e.get("textPayload"), e["severity"]) for e in stored] == [
        ({"record": 1, "control": "LOG-02"}, None, "NOTICE"),
        (None, "second", "WARNING"),
    ]
    assert all(e["insertId"] and e["timestamp"] and e["receiveTimestamp"] for e in stored)
    assert stored[0]["insertId"] < stored[1]["insertId"]
    assert standin.written_entries(ACTIVITY) == []
    # read back through entries:list (the client adds a last-24-hours timestamp term)
    listed = [
        e.payload for e in client.list_entries(resource_names=[f"projects/{SHOP}"], filter_=f'logName="{log_name}"')
    ]
    assert listed[-2:] == [{"record": 1, "control": "LOG-02"}, "second"]
    with StandInControl(standin.url) as control:
        assert _mine(control.written_entries(log_name)) == stored
        control.reset()
    assert standin.written_entries() == []


def test_entries_write_fills_defaults_and_validates_leniently(standin: StandIn) -> None:
    url = f"{standin.url}/v2/entries:write"
    request = {
        "logName": f"projects/{SHOP}/logs/evidence",
        "resource": {"type": "global"},
        "labels": {"source": "controlwatch", "kind": "default"},
        "entries": [
            {
                "jsonPayload": {"n": 1},
                "labels": {"kind": "run"},
                "insertId": "mine",
                "timestamp": "2026-11-25T12:00:00Z",
            },
            {"text_payload": "snake_case is accepted", "http_request": {"responseSize": 12}},
        ],
        "partial_success": True,
    }
    assert requests.post(url, json=request, timeout=5).json() == {}
    first, second = standin.written_entries(f"projects/{SHOP}/logs/evidence")
    assert first["labels"] == {"source": "controlwatch", "kind": "run"} and first["insertId"] == "mine"
    assert first["resource"] == {"type": "global"} and first["timestamp"] == "2026-11-25T12:00:00Z"
    assert second["textPayload"] == "snake_case is accepted" and second["httpRequest"] == {"responseSize": "12"}
    assert _ids(standin, "labels.kind=run") == ["mine"]
    dry = requests.post(url, json={**request, "dry_run": True}, timeout=5)
    assert dry.status_code == 200 and len(standin.written_entries()) == 2


@pytest.mark.parametrize(
    ("request_body", "status", "message"),
    [
        ({"entries": []}, 400, "at least one log entry"),
        ({"entries": [{"logName": f"projects/{SHOP}/logs/x"}]}, 400, "entries[0].resource: required"),
        ({"entries": [{"resource": {"type": "global"}}]}, 400, "entries[0].logName: required"),
        ({"entries": [{"logName": "evidence", "resource": {"type": "global"}}]}, 400, "is not PARENT/logs/LOG_ID"),
        (
            {"logName": f"projects/{SHOP}/logs/x", "resource": {"type": "global"}, "entries": [{"jsonPayload": 1}]},
            400,
            "entries[0].jsonPayload: expected object",
        ),
        (
            {"logName": f"projects/{SHOP}/logs/x", "resource": {"type": "global"}, "entries": [{"textPayloda": "x"}]},
            400,
            "entries[0].textPayloda: unknown field",
        ),
        ({"logName": "projects/nowhere/logs/x", "resource": {"type": "global"}, "entries": [{}]}, 403, "logEntries"),
        ({"logName": "projects/quiet/logs/x", "resource": {"type": "global"}, "entries": [{}]}, 403, "not been used"),
    ],
)
def test_bad_writes_store_nothing(standin: StandIn, request_body: dict[str, Any], status: int, message: str) -> None:
    answer = requests.post(f"{standin.url}/v2/entries:write", json=request_body, timeout=5)
    assert answer.status_code == status and message in answer.json()["error"]["message"]
    assert standin.written_entries() == []


def test_loading_a_scenario_drops_written_entries(module_standin: StandIn) -> None:
    body = {"logName": f"projects/{SHOP}/logs/x", "resource": {"type": "global"}, "entries": [{"textPayload": "t"}]}
    requests.post(f"{module_standin.url}/v2/entries:write", json=body, timeout=5).raise_for_status()
    assert len(module_standin.written_entries()) == 1
    module_standin.load(module_standin.scenario)
    assert module_standin.written_entries() == []


def test_a_reset_forgets_a_slow_request_still_in_flight(standin: StandIn) -> None:
    """The request log counts per test: the late end of a slow request from before a reset is not logged."""
    standin.add_fault(Fault(method="logging.projects.metrics.list", kind="latency", delay=0.3, times=1))
    url = f"{standin.url}/v2/projects/{SHOP}/metrics"
    slow = threading.Thread(target=lambda: requests.get(url, timeout=5))
    slow.start()
    deadline = time.monotonic() + 5
    while standin.faults.active() and time.monotonic() < deadline:  # taken when the request arrives
        time.sleep(0.01)
    assert standin.faults.active() == []
    standin.reset()
    slow.join(timeout=5)
    assert not slow.is_alive()
    assert standin.requests == []
    requests.get(url, timeout=5).raise_for_status()
    assert [r.status for r in standin.requests] == [200]
