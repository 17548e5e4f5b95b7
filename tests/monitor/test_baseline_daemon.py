"""`controlwatch baseline diff|approve` with a real daemon on the demo stand-in: the daemon serves
the state it last collected (GET /baseline/live), `diff` previews and compares it, `approve`
writes the store the daemon reads, and the daemon's next run judges against it. Every command a
DRIFT error reason, remediation or runbook names is run as written and must succeed."""

from __future__ import annotations

import copy
import json
import re
import shlex
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from checks import default_registry
from checks.model import Area
from monitor.collect import CollectSettings, StuckCalls, make_clients
from monitor.commands.common import load_config_file
from monitor.commands.main import cli
from monitor.daemon import Daemon
from monitor.demo import DEMO_SCENARIO
from monitor.run.runtime import Runtime, make_collect
from monitor.standin import Fault, StandIn
from tests.checks.catalogue import ids
from tests.monitor.conftest import FAST_RETRY

SCOPE = "ledger-clean"
DRIFT = tuple(ids(Area.DRIFT))
ROOT = Path(__file__).parents[2]
RUNBOOKS = [ROOT / "deploy" / "runbooks" / f"{name}.md" for name in ("ControlwatchDriftActive",
                                                                     "ControlwatchNoApprovedBaseline")]  # fmt: skip
MANIFESTS = [ROOT / "deploy" / "kubernetes" / name for name in ("controlwatch.yaml", "controlwatch-sharded.yaml")]
COMMAND = re.compile(r"`((?:kubectl exec [^`]*?-- )?controlwatch baseline [^`]+)`")


@dataclass
class Running:
    """A daemon built from a config file as `controlwatch run` builds it (so its baseline store
    is the one beside `evidence.path`), serving its metrics port; runs are started by hand."""

    daemon: Daemon
    config_path: Path

    @property
    def url(self) -> str:
        return self.daemon.server.url

    def run(self) -> dict[str, tuple[str | None, list[str]]]:
        """One run of the scope; per DRIFT control its status and its results' reasons."""
        self.daemon.run_scope(SCOPE)
        return {
            s.control: (s.status.value if s.status else None, [r.reason for r in s.results])
            for s in self.daemon.store.states()
            if s.control in DRIFT
        }

    def get(self, query: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"{self.url}/baseline/live{query}", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def running(standin: StandIn, tmp_path: Path) -> Iterator[Running]:
    config_path = tmp_path / "controlwatch.yaml"
    config_path.write_text(
        f"scopes: {{projects: [{{id: {SCOPE}}}]}}\n"
        "schedule: {interval: 1h, jitter: 0s}\n"
        f"gcp: {{api_endpoint: '{standin.url}', call_timeout: 2s, run_deadline: 10s}}\n"
        "metrics: {listen: '127.0.0.1:0'}\n"
        f"evidence: {{path: '{tmp_path / 'state' / 'evidence.sqlite3'}'}}\n"
    )
    config = load_config_file(config_path)
    stuck = StuckCalls()
    settings = CollectSettings(call_timeout=2, run_deadline=10, max_workers=4, retry=FAST_RETRY)
    runtime = Runtime(collect=make_collect(make_clients(standin.url), settings, stuck), stuck_calls=stuck.busy)
    daemon = Daemon(config, default_registry(), runtime)
    daemon.server.start()
    original = copy.deepcopy(yaml.safe_load(DEMO_SCENARIO.read_text()))
    try:
        yield Running(daemon, config_path)
    finally:
        daemon.server.stop()
        standin.load(original)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone at a terminal (who types the answer given to `invoke`), known to the OS as `oncall`."""
    monkeypatch.setattr("monitor.commands.baseline.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("getpass.getuser", lambda: "oncall")


def invoke(command: str, env: dict[str, str | None], answer: str | None = None) -> tuple[int, str, str]:
    """`command` as written (`controlwatch ...`), through the real command line."""
    words = shlex.split(command)
    assert words[0] == "controlwatch", command
    result = CliRunner().invoke(cli, words[1:], env=env, input=answer, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def through_daemon(running: Running) -> dict[str, str | None]:
    """Where `controlwatch baseline diff` finds the daemon (instead of 127.0.0.1:9797, taken here)."""
    return {"CONTROLWATCH_DAEMON": running.url, "CONTROLWATCH_CONFIG": None}


def in_the_pod(running: Running) -> dict[str, str | None]:
    """The environment the Kubernetes manifests give `kubectl exec`: the daemon's config."""
    return {"CONTROLWATCH_CONFIG": str(running.config_path), "CONTROLWATCH_DAEMON": None}


def alerts_commands() -> list[str]:
    """The `controlwatch baseline` commands the drift alerts' descriptions name, in runbook terms."""
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "controlwatch-alerts.yml").read_text())
    descriptions = [r["annotations"]["description"] for g in rules["groups"] for r in g["rules"]
                    if r.get("alert") in ("ControlwatchDriftActive", "ControlwatchNoApprovedBaseline")]  # fmt: skip
    assert len(descriptions) == 2
    named = [c for text in descriptions for c in COMMAND.findall(text)]
    return [c.replace("{{ $labels.scope }}", "SCOPE").replace("{{ $labels.control }}", "CONTROL") for c in named]


def widened(scenario: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(scenario)
    [project] = [p for p in changed["projects"] if p["projectId"] == SCOPE]
    rule = next(r for r in project["compute"]["firewalls"] if r.get("sourceRanges"))
    rule["sourceRanges"] = ["0.0.0.0/0"]
    return changed


def test_the_daemon_serves_what_it_last_collected_read_only(running: Running, standin: StandIn) -> None:
    assert running.get(f"?scope={SCOPE}")[0] == 404  # no run yet: nothing to serve
    running.run()
    status, doc = running.get(f"?scope={SCOPE}")
    assert status == 200 and doc["scope"] == SCOPE and doc["baseline"] is None and doc["errors"] == {}
    assert set(doc["controls"]) == set(DRIFT)
    assert set(doc["controls"]["DRIFT-02"]) == {"grants"} and doc["controls"]["DRIFT-02"]["grants"]
    assert running.get("") == (200, {"schema_version": 1, "scopes": [SCOPE]})
    assert running.get("?scope=nope")[0] == 404
    assert running.get("?project=x") == (400, {"error": "unknown query parameter 'project'; allowed: scope",
                                               "status": 400})  # fmt: skip
    request = urllib.request.Request(f"{running.url}/baseline/live?scope={SCOPE}", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405

    standin.add_fault(Fault(method="compute.firewalls.list", status=403))
    running.run()
    status, doc = running.get(f"?scope={SCOPE}")
    assert status == 200 and set(doc["errors"]) == {"DRIFT-01"} and "DRIFT-01" not in doc["controls"]
    code, _, err = invoke(f"controlwatch baseline diff --scope {SCOPE}", through_daemon(running))
    assert code == 2 and f"could not read the live state of {SCOPE} for DRIFT-01" in err


def test_the_commands_in_the_no_baseline_reasons_preview_then_approve(running: Running, terminal: None) -> None:
    assert running.daemon.baselines.path == running.config_path.parent / "state" / "baselines.sqlite3"
    statuses = running.run()
    for control in DRIFT:
        status, [reason] = statuses[control]
        assert status == "error" and reason.startswith(f"no approved baseline for {control} in scope {SCOPE}")
        diff, approve = COMMAND.findall(reason)
        assert diff == f"controlwatch baseline diff --scope {SCOPE}"
        code, out, err = invoke(diff, through_daemon(running))
        assert code == 0, err
        assert f"{SCOPE} {control}: no approved baseline; approving would record " in out
        assert f"the live state the daemon at {running.url} collected at " in err
        code, out, err = invoke(approve, in_the_pod(running), answer="y\n")
        assert code == 0, err
        assert f"approved {SCOPE}: {control} (" in out and " by oncall at " in out
        assert statuses[control][0] == "error"  # the others wait for their own approval
        statuses = running.run()  # the daemon's next run reads the new approval: no restart
        assert statuses[control][0] == "pass"
    gauge = running.daemon.metrics.registry.get_sample_value("controlwatch_baseline_approved", {"scope": SCOPE})
    assert gauge == 1
    code, out, _ = invoke(f"controlwatch baseline diff --scope {SCOPE}", through_daemon(running))
    assert code == 0 and out.count("no drift from the baseline approved by oncall") == len(DRIFT)


def test_the_remediation_reviews_and_approves_an_intended_change(
    running: Running, standin: StandIn, terminal: None
) -> None:
    code, _, err = invoke(f"controlwatch baseline approve --scope {SCOPE} --yes --approver alice@example.be",
                          in_the_pod(running))  # fmt: skip
    assert code == 0, err
    assert {status for status, _ in running.run().values()} == {"pass"}
    standin.load(widened(yaml.safe_load(DEMO_SCENARIO.read_text())))
    assert running.run()["DRIFT-01"][0] == "fail"
    remediation = default_registry().get("DRIFT-01").meta.remediation
    diff, approve = (c.replace("PROJECT", SCOPE) for c in COMMAND.findall(remediation))
    code, out, err = invoke(diff, through_daemon(running))
    assert code == 1, err  # drift: exit 1, with the change field by field
    assert "sourceRanges" in out and "['0.0.0.0/0']" in out and f"{SCOPE} DRIFT-02: no drift" in out
    code, out, err = invoke(approve, in_the_pod(running), answer="y\n")
    assert code == 0, err
    assert out.startswith(f"{SCOPE} DRIFT-01: 1 change since the baseline approved by alice@example.be")
    assert running.run()["DRIFT-01"][0] == "pass"


def test_the_runbooks_commands_work_as_written(running: Running, terminal: None) -> None:
    for manifest in MANIFESTS:  # what `kubectl exec` inherits: the daemon's own config
        docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d and d.get("kind") in ("Deployment",
                                                                                            "StatefulSet")]  # fmt: skip
        [container] = docs[0]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["CONTROLWATCH_CONFIG"] == container["args"][container["args"].index("--config") + 1]
    running.run()
    host = running.url.removeprefix("http://")
    fill = {"SCOPE": SCOPE, "CONTROL": "DRIFT-01", "YOU": "you@example.com", "FILE": str(running.config_path),
            "HOST:9797": host, "TICKET": "CHG-1234"}  # fmt: skip
    commands = [c for path in RUNBOOKS for c in COMMAND.findall(path.read_text())] + alerts_commands()
    kinds = [" diff ", " approve ", " show "]  # previews first, then approvals, then who approved
    ordered = sorted(dict.fromkeys(commands), key=lambda c: next(i for i, k in enumerate(kinds) if k in c + " "))
    assert len(ordered) >= 8, ordered
    for written in ordered:
        command = re.sub("|".join(map(re.escape, fill)), lambda m: fill[m.group(0)], written)
        pod = command.startswith("kubectl exec")
        command = command.split(" -- ", 1)[1] if pod else command
        # approving collects with the daemon's config: in the pod (or wherever CONTROLWATCH_CONFIG names it)
        beside_the_store = pod or "--config" in command or " approve " in command
        env = in_the_pod(running) if beside_the_store else through_daemon(running)
        code, out, err = invoke(command, env, answer="y\n")
        assert code == 0, (written, out, err)
    statuses = running.run()
    assert {status for status, _ in statuses.values()} == {"pass"}
    assert "CHG-1234" in [a.change for a in running.daemon.baselines.history(SCOPE)]


@pytest.mark.parametrize(
    ("listen", "url"),
    [("0.0.0.0:9797", "http://127.0.0.1:9797"), ("[::]:9797", "http://[::1]:9797"),
     ("[::1]:8080", "http://[::1]:8080"), ("metrics.internal:9797", "http://metrics.internal:9797")],
)  # fmt: skip
def test_the_daemon_address_comes_from_metrics_listen(listen: str, url: str) -> None:
    from monitor.commands.baseline_daemon import DEFAULT_URL, FROM_CONFIG, daemon_url
    from monitor.config.model import parse_config

    config = parse_config(f"scopes: {{projects: [{{id: shop-prod}}]}}\nmetrics: {{listen: '{listen}'}}\n", "cw.yaml")
    assert daemon_url(FROM_CONFIG, config) == url
    assert daemon_url(None, config) == url
    assert daemon_url(None, None) == DEFAULT_URL == "http://127.0.0.1:9797"
    assert daemon_url("https://cw.example.com:9797/", config) == "https://cw.example.com:9797"


def test_daemon_without_a_url_asks_the_daemon_of_the_config(running: Running, tmp_path: Path) -> None:
    running.run()
    config = tmp_path / "same-port.yaml"
    text = running.config_path.read_text().replace("127.0.0.1:0", running.url.removeprefix("http://"))
    config.write_text(text)
    env: dict[str, str | None] = {"CONTROLWATCH_DAEMON": None, "CONTROLWATCH_CONFIG": None}
    code, out, err = invoke(f"controlwatch baseline diff --daemon --config {config} --scope {SCOPE} --format json", env)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["drift"] is False and doc["would_record"] is True
    assert [r["control"] for r in doc["results"]] == list(DRIFT)
    assert f"the daemon at {running.url} collected" in err


def test_a_daemon_that_is_not_there_is_one_clear_line(tmp_path: Path) -> None:
    env: dict[str, str | None] = {"CONTROLWATCH_DAEMON": "http://127.0.0.1:9", "CONTROLWATCH_CONFIG": None}
    code, out, err = invoke(f"controlwatch baseline diff --scope {SCOPE} --store {tmp_path / 'b.sqlite3'}", env)
    assert code == 2 and out == ""
    assert err.startswith("Error: cannot reach the daemon at http://127.0.0.1:9 (") and len(err.splitlines()) == 1
