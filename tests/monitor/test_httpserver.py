"""MetricsServer over real HTTP on 127.0.0.1: every route, the filters, errors, and promtool."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from checks.model import Verdict
from monitor.sinks.http_server import MetricsServer, rfc3339
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore
from tests.monitor.test_metrics import realistic_store
from tests.monitor.test_store import FW01, res

TIMEOUT = 5.0


def get(
    server: MetricsServer, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def get_json(server: MetricsServer, path: str) -> tuple[int, Any]:
    status, headers, body = get(server, path)
    assert headers["content-type"] == "application/json"
    return status, json.loads(body)


def serve(store: ResultStore, metrics: Metrics | None = None) -> MetricsServer:
    server = MetricsServer("127.0.0.1:0", metrics or Metrics(store, version="0.1.0", mode="demo"), store)
    server.start()
    return server


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    store = realistic_store()
    metrics = Metrics(store, version="0.1.0", mode="demo")
    metrics.request("compute", "compute.firewalls.list", "200")
    metrics.request("compute", "compute.firewalls.list", "429")
    metrics.retry("compute", "429")
    metrics.collection("firewalls", 0.42)
    metrics.set_scopes(["shop-prod", "shop-dev"])
    metrics.deadline_exceeded("shop-dev")
    metrics.job_event("executed")
    metrics.heartbeat(1_700_000_950.0)
    metrics.config_reload(True)
    metrics.exceptions_stale({"expired": 1})
    metrics.set_drift("DRIFT-01", "shop-prod", True)
    metrics.drift_event("DRIFT-01", "shop-prod", "changed")
    metrics.evidence_appended(chain_length=12)
    srv = serve(store, metrics)
    yield srv
    srv.stop()


def test_metrics_route(server: MetricsServer) -> None:
    status, headers, body = get(server, "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert (
        'controlwatch_control_status{area="firewall",control="FW-01",scope="shop-prod",'
        'severity="critical",status="fail"} 1.0' in text
    )
    assert 'controlwatch_build_info{mode="demo",version="0.1.0"} 1.0' in text


def test_metrics_openmetrics_on_request(server: MetricsServer) -> None:
    status, headers, body = get(server, "/metrics", headers={"Accept": "application/openmetrics-text"})
    assert status == 200 and headers["content-type"].startswith("application/openmetrics-text")
    assert body.decode().endswith("# EOF\n")


def test_promtool_check_metrics_on_a_real_scrape(server: MetricsServer) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is required in CI (make tools installs it)")
        pytest.skip("promtool not installed")
    status, _, body = get(server, "/metrics")
    assert status == 200
    text = body.decode()
    for family in ("control_status", "verdict_changes_total", "collection_duration_seconds_bucket"):
        assert "controlwatch_" + family in text  # the scrape really is filled
    proc = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_results_document(server: MetricsServer) -> None:
    before = time.time()
    status, doc = get_json(server, "/results")
    assert status == 200
    assert doc["schema_version"] == 1
    assert doc["generated_at"].endswith("Z")
    assert doc["generated_at"] >= rfc3339(before - 1)
    keys = [(c["control"], c["scope"]) for c in doc["controls"]]
    assert keys == [
        ("BKP-01", "shop-prod"),
        ("FW-01", "shop-dev"),
        ("FW-01", "shop-prod"),
        ("IAM-02", "shop-dev"),
        ("IAM-02", "shop-prod"),
    ]
    fw = doc["controls"][2]
    assert {k: v for k, v in fw.items() if k != "results"} == {
        "control": "FW-01",
        "scope": "shop-prod",
        "area": "firewall",
        "severity": "critical",
        "status": "fail",
        "failing": 2,
        "excepted": 1,
        "checked": 4,
        "passing": 1,
        "last_run": "2023-11-14T22:28:20Z",
        "last_success": "2023-11-14T22:28:20Z",
        "interval": 900.0,
        "new_failure_at": "2023-11-14T22:28:20Z",  # a and b failed after a run that judged the pair
    }
    assert fw["results"][0] == {
        "control": "FW-01",
        "scope": "shop-prod",
        "resource": "//compute.googleapis.com/projects/shop-prod/global/firewalls/a",
        "subject": "",
        "verdict": "fail",
        "reason": "because",
        "excepted": False,
        "latent": False,
        "first_seen": "2023-11-14T22:28:20Z",
        "new": True,
    }
    never = doc["controls"][0]
    assert (never["status"], never["last_run"], never["last_success"], never["results"]) == (None, None, None, [])
    iam = doc["controls"][4]
    assert (iam["status"], iam["last_success"]) == ("error", None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("control=FW-01", [("FW-01", "shop-dev"), ("FW-01", "shop-prod")]),
        ("scope=shop-dev", [("FW-01", "shop-dev"), ("IAM-02", "shop-dev")]),
        ("status=fail", [("FW-01", "shop-prod")]),
        ("status=pass", [("FW-01", "shop-dev")]),
        ("status=error", [("IAM-02", "shop-prod")]),
        ("control=FW-01&scope=shop-prod&status=fail", [("FW-01", "shop-prod")]),
        ("control=IAM-02&status=pass", []),
    ],
)
def test_results_filters(server: MetricsServer, query: str, expected: list[tuple[str, str]]) -> None:
    status, doc = get_json(server, "/results?" + query)
    assert status == 200
    assert [(c["control"], c["scope"]) for c in doc["controls"]] == expected


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("verdict=fail", "verdict"),
        ("status=failed", "status"),
        ("status=", "status"),
        ("control=FW-99", "control"),
        ("scope=shop-test", "scope"),
        ("scope=shop-prod&scope=shop-dev", "scope"),
        ("control", "query"),
    ],
)
def test_results_bad_query_is_400_naming_it(server: MetricsServer, query: str, names: str) -> None:
    status, doc = get_json(server, "/results?" + query)
    assert status == 400
    assert doc["status"] == 400 and names in doc["error"]


def test_healthz(server: MetricsServer) -> None:
    status, headers, body = get(server, "/healthz")
    assert (status, body) == (200, b"ok\n")
    assert headers["content-type"].startswith("text/plain")


def test_readyz_goes_from_503_to_200() -> None:
    store = ResultStore()
    store.configure([(FW01, "shop-prod", 60.0), (FW01, "shop-dev", 60.0)])
    server = serve(store)
    try:
        assert get_json(server, "/readyz") == (503, {"ready": False, "waiting": ["shop-dev", "shop-prod"]})
        store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.PASS)], 1.0)
        store.mark_scope_run_finished("shop-prod")
        assert get_json(server, "/readyz") == (503, {"ready": False, "waiting": ["shop-dev"]})
        store.mark_scope_run_finished("shop-dev")
        assert get_json(server, "/readyz") == (200, {"ready": True, "waiting": []})
    finally:
        server.stop()


@pytest.mark.parametrize("path", ["/metric", "/results/FW-01", "/favicon.ico", "/index.html"])
def test_unknown_route_is_404(server: MetricsServer, path: str) -> None:
    status, doc = get_json(server, path)
    assert status == 404 and path in doc["error"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(server: MetricsServer, method: str) -> None:
    status, headers, body = get(server, "/metrics", method=method)
    assert status == 405 and headers["allow"] == "GET"
    assert method in json.loads(body)["error"]


def test_head_is_405_without_a_body(server: MetricsServer) -> None:
    status, headers, body = get(server, "/results", method="HEAD")
    assert (status, headers["allow"], body) == (405, "GET", b"")


def test_internal_error_is_500_and_reported() -> None:
    class Broken(ResultStore):
        def page(self, *args: Any, **kwargs: Any) -> tuple[list[Any], bool]:
            raise RuntimeError("boom")

    seen: list[tuple[str, BaseException]] = []
    store = Broken()
    server = MetricsServer(
        "127.0.0.1:0", Metrics(store, version="x"), store, on_error=lambda where, exc: seen.append((where, exc))
    )
    server.start()
    try:
        status, doc = get_json(server, "/results")
    finally:
        server.stop()
    assert status == 500 and doc["error"] == "internal error"
    assert [(where, str(exc)) for where, exc in seen] == [("GET /results", "boom")]


def test_requests_are_not_logged_to_stderr(server: MetricsServer, capfd: pytest.CaptureFixture[str]) -> None:
    get(server, "/metrics")
    get(server, "/nope")
    get(server, "/metrics", method="POST")
    assert capfd.readouterr().err == ""


def test_start_stop_port_url() -> None:
    store = ResultStore()
    server = MetricsServer("127.0.0.1:0", Metrics(store, version="x"), store)
    with pytest.raises(RuntimeError):
        _ = server.port
    server.start()
    port = server.port
    assert port > 0 and server.url == f"http://127.0.0.1:{port}"
    with pytest.raises(RuntimeError, match="already started"):
        server.start()
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.0
    server.stop()  # idempotent
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT).request("GET", "/healthz")


def test_port_in_use_fails_at_start() -> None:
    store = ResultStore()
    first = serve(store)
    try:
        second = MetricsServer(f"127.0.0.1:{first.port}", Metrics(store, version="x"), store)
        with pytest.raises(OSError):
            second.start()
    finally:
        first.stop()


def test_stop_is_prompt_with_an_idle_client_connected() -> None:
    import socket

    store = ResultStore()
    server = serve(store)
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    try:
        time.sleep(0.05)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2.0
    finally:
        idle.close()
