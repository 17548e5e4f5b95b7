"""deploy/alertmanager: the example is valid, routes by severity, and its inhibitions work in a real
Alertmanager (loopback only, clustering off, placeholder webhooks pointed at a closed local port)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import ALERTMANAGER_EXAMPLE, free_port, http_get, load_yaml, start_and_wait, stop
from tests.tools import require_tool, wait_until

AMTOOL_TIMEOUT = 30


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("amtool"), *args], capture_output=True, text=True, timeout=AMTOOL_TIMEOUT)


def test_amtool_check_config() -> None:
    done = amtool("check-config", str(ALERTMANAGER_EXAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical"], "pager"),
        (["severity=warning"], "ticket"),
        (["severity=info"], "ticket"),
        (["alertname=Watchdog"], "deadmans-switch"),
        (["alertname=Watchdog", "severity=none"], "deadmans-switch"),
        ([], "ticket"),
        (["severity=none"], "ticket"),
        (["severity=page"], "ticket"),  # the old values route nowhere special any more
        (["alertname=ControlwatchControlNewFailure", "severity=critical", "control=FW-01", "scope=p"], "pager"),
        (["alertname=ControlwatchScopeFailing", "severity=warning", "scope=p"], "ticket"),
        (["alertname=ControlwatchControlStale", "severity=critical", "control=FW-01", "scope=p"], "pager"),
        (["alertname=ControlwatchControlError", "severity=warning", "scope=p"], "ticket"),
    ],
)
def test_routes(labels: list[str], receiver: str) -> None:
    done = amtool(
        "config", "routes", "test", f"--config.file={ALERTMANAGER_EXAMPLE}", f"--verify.receivers={receiver}", *labels
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == receiver


def test_grouping_and_dead_mans_switch_repeat() -> None:
    """One notification per scope and receiver: pages and tickets inherit `group_by: [scope]`."""
    route = load_yaml(ALERTMANAGER_EXAMPLE)["route"]
    assert route["receiver"] == "ticket"
    assert route["group_by"] == ["scope"]
    by_severity = {r["matchers"][0]: r for r in route["routes"] if r["matchers"][0].startswith("severity=")}
    assert set(by_severity) == {'severity="critical"', 'severity="warning"'}
    for child in by_severity.values():
        assert "group_by" not in child and "routes" not in child, child
    [watchdog] = [r for r in route["routes"] if r["matchers"] == ['alertname="Watchdog"']]
    assert watchdog["receiver"] == "deadmans-switch"
    assert watchdog["repeat_interval"] == "1m"


def test_receivers_are_loopback_placeholders() -> None:
    receivers = load_yaml(ALERTMANAGER_EXAMPLE)["receivers"]
    assert {r["name"] for r in receivers} == {"pager", "ticket", "deadmans-switch"}
    for receiver in receivers:
        for hook in receiver["webhook_configs"]:
            assert hook["url"].startswith("http://127.0.0.1:"), hook
    assert "PLACEHOLDER" in ALERTMANAGER_EXAMPLE.read_text(encoding="utf-8")


def _inhibitions() -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    return [
        (tuple(r["source_matchers"]), tuple(r["target_matchers"]), tuple(r["equal"]))
        for r in load_yaml(ALERTMANAGER_EXAMPLE)["inhibit_rules"]
    ]


def test_inhibit_rules_present() -> None:
    every_other = ('alertname=~"Controlwatch.+"', 'alertname!~"ControlwatchExporter(Down|Absent)"')
    assert _inhibitions() == [
        (('alertname="ControlwatchExporterDown"',), every_other, ("job", "instance")),
        (('alertname="ControlwatchExporterAbsent"',), every_other, ("job",)),
        (('alertname="ControlwatchRunDeadlineExceeded"',), ('alertname="ControlwatchControlError"',), ("job", "scope")),
        (('alertname="ControlwatchApiRateLimited"',), ('alertname="ControlwatchControlError"',), ("job", "instance")),
        (
            ('alertname="ControlwatchSchedulerHeartbeatStale"',),
            ('alertname=~"ControlwatchControlStale|ControlwatchSchedulerJobsLost"',),
            ("job", "instance"),
        ),
        (
            ('alertname="ControlwatchDriftActive"',),
            ('alertname="ControlwatchControlNewFailure"', 'area="drift"'),
            ("job", "control", "scope"),
        ),
    ]


# ---------------------------------------------------------------------------------------------- real Alertmanager


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    binary = require_tool("prometheus-alertmanager")
    closed = free_port()  # nothing listens there: notifications fail fast, locally
    config = ALERTMANAGER_EXAMPLE.read_text(encoding="utf-8").replace(
        "http://127.0.0.1:5001/", f"http://127.0.0.1:{closed}/"
    )
    (tmp_path / "alertmanager.yml").write_text(config, encoding="utf-8")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = start_and_wait(
        [
            binary,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port
            "--log.level=warn",
        ],
        base_url,
        tmp_path / "alertmanager.log",
    )
    try:
        yield base_url
    finally:
        stop(proc)


# (case, alertname, labels, inhibited?). Each case has its own job value, so cases cannot inhibit each other.
CASES = [
    # the exporter of instance a is down: a's alerts are explained, b's are not
    ("down", "ControlwatchExporterDown", "job=j1 instance=a severity=critical", False),
    ("down", "ControlwatchControlNewFailure", "job=j1 instance=a control=FW-01 scope=p severity=critical", True),
    ("down", "ControlwatchControlStale", "job=j1 instance=a control=FW-02 scope=p severity=critical", True),
    ("down", "ControlwatchControlNewFailure", "job=j1 instance=b control=FW-01 scope=q severity=critical", False),
    # no target at all: every other alert of the job
    ("absent", "ControlwatchExporterAbsent", "job=j2 severity=critical", False),
    ("absent", "ControlwatchSchedulerHeartbeatStale", "job=j2 instance=c severity=critical", True),
    ("absent", "ControlwatchEvidenceWriteErrors", "job=j2 instance=d severity=critical", True),
    # deadline in scope p explains p's errors, not q's, and not p's failures
    ("deadline", "ControlwatchRunDeadlineExceeded", "job=j3 instance=a scope=p severity=warning", False),
    ("deadline", "ControlwatchControlError", "job=j3 instance=a control=LOG-01 scope=p severity=warning", True),
    ("deadline", "ControlwatchControlError", "job=j3 instance=a control=LOG-01 scope=q severity=warning", False),
    ("deadline", "ControlwatchControlNewFailure", "job=j3 instance=a control=LOG-02 scope=p severity=critical", False),
    # rate limiting (per API, no scope label) explains the errors of its instance
    ("quota", "ControlwatchApiRateLimited", "job=j4 instance=a service=compute severity=warning", False),
    ("quota", "ControlwatchControlError", "job=j4 instance=a control=FW-01 scope=p severity=warning", True),
    ("quota", "ControlwatchControlError", "job=j4 instance=b control=FW-01 scope=p severity=warning", False),
    # a stopped scheduler explains stale controls and lost runs
    ("heartbeat", "ControlwatchSchedulerHeartbeatStale", "job=j5 instance=a severity=critical", False),
    ("heartbeat", "ControlwatchControlStale", "job=j5 instance=a control=FW-01 scope=p severity=critical", True),
    ("heartbeat", "ControlwatchSchedulerJobsLost", "job=j5 instance=a event=missed severity=warning", True),
    # active drift is the reason its DRIFT control fails; other controls of the scope still page
    ("drift", "ControlwatchDriftActive", "job=j6 instance=a control=DRIFT-01 scope=p severity=critical", False),
    (
        "drift",
        "ControlwatchControlNewFailure",
        "job=j6 instance=a control=DRIFT-01 scope=p area=drift severity=critical",
        True,
    ),
    (
        "drift",
        "ControlwatchControlNewFailure",
        "job=j6 instance=a control=FW-01 scope=p area=firewall severity=critical",
        False,
    ),
    # never inhibited
    ("watchdog", "Watchdog", "severity=none", False),
]
EXPECTATIONS = [
    ({"labels": {"case": case, "alertname": name, **dict(kv.split("=") for kv in labels.split())}}, inhibited)
    for case, name, labels, inhibited in CASES
]


@pytest.mark.slow
def test_inhibitions_in_a_real_alertmanager(alertmanager: str) -> None:
    body = json.dumps([alert for alert, _ in EXPECTATIONS]).encode()
    request = urllib.request.Request(
        alertmanager + "/api/v2/alerts", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # loopback only
        assert response.status == 200

    def observed() -> list[tuple[dict[str, str], bool]]:
        status, raw = http_get(alertmanager + "/api/v2/alerts")
        if status != 200:
            return []
        return [(a["labels"], bool(a["status"]["inhibitedBy"])) for a in json.loads(raw)]

    expected = sorted((sorted(alert["labels"].items()), inhibited) for alert, inhibited in EXPECTATIONS)

    def matches() -> bool:
        return sorted((sorted(labels.items()), inhibited) for labels, inhibited in observed()) == expected

    wait_until(matches, timeout=10, interval=0.2)
    got = {tuple(sorted(labels.items())): inhibited for labels, inhibited in observed()}
    wrong = [(labels, inhibited) for labels, inhibited in expected if got.get(tuple(labels)) != inhibited]
    assert wrong == [], f"expected inhibited=... but got the opposite (or the alert is missing) for {wrong}"
