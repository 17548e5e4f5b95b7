"""The command line: `check` (JSON shape and exit codes), `controls`, `config validate`, `results`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from checks import default_registry
from checks.kinds import Holder
from checks.model import Area
from monitor.commands.main import cli
from monitor.standin.parts import PARTS
from tests.checks.catalogue import ids
from tests.tools import fifo_released_after

MINIMAL = Path(__file__).parent / "standin" / "data" / "scenario-minimal.json"
FW = [c for c in default_registry().ids() if c.startswith("FW-")]
FW_ARGS = [arg for control in FW for arg in ("--control", control)]
RESULT_KEYS = {"control", "scope", "resource", "subject", "verdict", "reason", "excepted", "latent"}


def scenario(tmp_path: Path, mutate: Any = None) -> Path:
    data = json.loads(MINIMAL.read_text())
    if mutate is not None:
        mutate(data)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data))
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def bad_port(data: dict[str, Any]) -> None:
    data["projects"][0]["compute"]["firewalls"][0]["allowed"][0]["ports"] = ["abc"]


def test_check_json_document_and_exit_1_on_failure(tmp_path: Path) -> None:
    code, out, _ = invoke("check", "--scenario", str(scenario(tmp_path)), "--format", "json", *FW_ARGS)
    doc = json.loads(out)
    assert code == 1
    assert set(doc) == {"schema_version", "now", "results", "summary"}
    assert doc["schema_version"] == 1 and doc["now"] == "2026-11-25T12:00:00Z"
    assert all(set(r) >= RESULT_KEYS for r in doc["results"])
    controls = {r["control"] for r in doc["results"]}
    assert controls == set(FW)
    assert doc["summary"]["fail"] == sum(1 for r in doc["results"] if r["verdict"] == "fail" and not r["excepted"])
    fw06 = [r for r in doc["results"] if r["control"] == "FW-06"]
    assert any(r["verdict"] == "fail" and r["resource"].endswith("/global/firewalls/allow-https") for r in fw06)


def no_org_policy(data: dict[str, Any]) -> None:
    data["organization"]["firewallPolicies"] = []  # its rule opens tcp:22 to the internet


def test_check_exit_0_when_nothing_fails(tmp_path: Path) -> None:
    path = str(scenario(tmp_path, no_org_policy))
    code, out, _ = invoke("check", "--scenario", path, "--control", "FW-01", "--format", "json")
    assert code == 0
    assert {r["control"] for r in json.loads(out)["results"]} == {"FW-01"}


def test_check_fails_ssh_opened_by_the_organisations_firewall_policy(tmp_path: Path) -> None:
    code, out, _ = invoke("check", "--scenario", str(scenario(tmp_path)), "--control", "FW-01", "--format", "json")
    assert code == 1
    [failed] = [r for r in json.loads(out)["results"] if r["verdict"] == "fail"]
    assert failed["resource"] == "//compute.googleapis.com/locations/global/firewallPolicies/101"
    assert failed["subject"] == "priority 1000: tcp:22 from 0.0.0.0/0"
    assert "firewall policy org-baseline (organizations/4242)" in failed["reason"]


def test_check_exit_3_when_any_result_is_error_even_beside_failures(tmp_path: Path) -> None:
    code, out, _ = invoke("check", "--scenario", str(scenario(tmp_path, bad_port)), "--format", "json", *FW_ARGS)
    doc = json.loads(out)
    assert code == 3
    assert doc["summary"]["error"] >= 1 and doc["summary"]["fail"] >= 1
    [error] = [r for r in doc["results"] if r["verdict"] == "error" and r["control"] == "FW-01"]
    assert "'abc'" in error["reason"]


def test_check_excepted_failure_exits_0_and_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "cw.yaml"
    config.write_text(
        "scopes: {projects: [{id: example-shop}]}\n"
        "exceptions:\n"
        "  - {control: FW-06, scope: example-shop, resource: '*', reason: logging costs reviewed,"
        " approver: ciso@example.be, expires: '2099-12-31'}\n"
    )
    code, out, _ = invoke(
        "check",
        "--scenario",
        str(scenario(tmp_path)),
        "--config",
        str(config),
        "--control",
        "FW-06",
        "--format",
        "json",
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["summary"]["excepted"] >= 1 and doc["summary"]["fail"] == 0
    excepted = [r for r in doc["results"] if r["excepted"]]
    assert all(r["verdict"] == "fail" and "ciso@example.be" in r["exception_reason"] for r in excepted)


def test_check_accepted_risk_on_a_bucket_control_marks_only_its_bucket(tmp_path: Path) -> None:
    """Accepted risks match the new controls' full names and subjects as they do the Compute ones'."""
    from monitor.demo import DEMO_SCENARIO

    config = tmp_path / "cw.yaml"
    config.write_text(
        "scopes: {projects: [{id: shop-prod}]}\n"
        "exceptions:\n"
        "  - {control: FW-13, scope: shop-prod, resource: '//storage.googleapis.com/example-be-shop-press-*',"
        " subject: '* allUsers', reason: press kit is public by design, approver: ciso@example.be,"
        " expires: '2099-12-31'}\n"
    )
    args = ("--scenario", str(DEMO_SCENARIO), "--config", str(config), "--format", "json")
    code, out, _ = invoke("check", *args, "--control", "FW-13", "--control", "DATA-03")
    results = json.loads(out)["results"]
    assert code == 1  # DATA-03 on the same bucket is not excepted
    marked = {(r["control"], r["resource"], r["verdict"]) for r in results if r["excepted"]}
    assert marked == {("FW-13", "//storage.googleapis.com/example-be-shop-press-kit", "fail")}
    assert [r["verdict"] for r in results if r["control"] == "DATA-03" and "press-kit" in r["resource"]] == ["fail"]


def test_check_table_lists_failures_for_people(tmp_path: Path) -> None:
    code, out, _ = invoke("check", "--scenario", str(scenario(tmp_path)), *FW_ARGS)
    assert code == 1
    assert "FAIL     FW-06" in out and "global/firewalls/allow-https" in out
    assert out.strip().splitlines()[-1].endswith("error")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--control", "FW-99"], "unknown control FW-99"),
        (["--scope", "nope-project"], "unknown scope nope-project"),
    ],
    ids=["unknown-control", "unknown-scope"],
)
def test_check_bad_usage_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, out, err = invoke("check", "--scenario", str(scenario(tmp_path)), *args)
    assert code == 2 and message in err and out == ""


def test_check_bad_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    def misspell(data: dict[str, Any]) -> None:
        rule = data["projects"][0]["compute"]["firewalls"][0]
        rule["allowed"][0]["ipProtocol"] = rule["allowed"][0].pop("IPProtocol")

    code, _, err = invoke("check", "--scenario", str(scenario(tmp_path, misspell)))
    assert code == 2
    assert "firewalls[0].allowed[0].ipProtocol" in err and "Traceback" not in err


def test_check_bad_yaml_scenario_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text("now: 2026-11-25T12:00:00Z\nprojects:\n  - projectId: p\n    name: projects/1\n    colour: blue\n")
    code, out, err = invoke("check", "--scenario", str(path))
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1] == (
        f"Error: {path}:5: projects[0].colour: unknown field "
        f"(nor one of the parts: {', '.join(PARTS[Holder.PROJECT].keys_in_order)})"
    )
    assert ", ".join(PARTS[Holder.PROJECT].keys_in_order).startswith("iamPolicy, computeProject, compute, logging, sql")


def test_check_without_config_or_scenario_exits_2() -> None:
    code, _, err = invoke("check")
    assert code == 2 and "--scenario" in err


def test_controls_json_lists_the_whole_catalogue() -> None:
    code, out, _ = invoke("controls", "--format", "json")
    items = json.loads(out)
    assert code == 0
    assert [i["id"] for i in items] == default_registry().ids()
    for item in items:
        assert {"id", "area", "title", "severity", "params", "references", "remediation", "rationale"} <= set(item)
        assert item["remediation"] and item["rationale"]
        assert all(set(entry) == {"version", "id"} for entry in item["references"]["cis"])


def test_controls_table_has_a_row_per_control_and_fits_100_columns() -> None:
    code, out, _ = invoke("controls")
    assert code == 0
    lines = out.strip().splitlines()
    rows = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert rows == ["ID", *default_registry().ids()]
    too_wide = [line for line in lines if len(line) > 100]
    assert too_wide == []
    titles = " ".join(line[lines[0].index("TITLE") :].strip() for line in lines[1:])  # wrapped, never cut
    assert all(meta.title in titles for meta in (c.meta for c in default_registry()))


def test_controls_table_wraps_titles_to_a_narrower_terminal() -> None:
    from monitor.commands.catalogue import catalogue_table

    lines = catalogue_table(default_registry(), width=80).splitlines()
    assert max(len(line) for line in lines) <= 80 and len(lines) > len(default_registry()) + 1


def test_config_validate(tmp_path: Path) -> None:
    good = Path(__file__).parents[1] / "config" / "controlwatch.example.yaml"
    assert invoke("config", "validate", str(good))[0] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("scopes:\n  projects:\n    - id: shop-prod\nschedule: {interval: 5 minutes}\n")
    code, _, err = invoke("config", "validate", str(bad))
    assert code == 2 and "bad.yaml:4" in err and "schedule.interval" in err and "Traceback" not in err


def test_results_reads_a_running_daemons_store(tmp_path: Path) -> None:
    from checks.model import Result, Verdict
    from monitor.sinks.http_server import MetricsServer
    from monitor.sinks.metrics import Metrics
    from monitor.sinks.store import ResultStore

    registry = default_registry()
    meta = registry.get("FW-01").meta
    store = ResultStore()
    store.configure([(meta, "shop-prod", 900.0)])
    failing = Result(
        control="FW-01",
        scope="shop-prod",
        resource="//compute.googleapis.com/projects/shop-prod/global/firewalls/ssh-any",
        subject="tcp:22 from 0.0.0.0/0",
        verdict=Verdict.FAIL,
        reason="open",
    )
    store.record("shop-prod", meta, [failing], 1.0)
    server = MetricsServer("127.0.0.1:0", Metrics(store, version="t"), store)
    server.start()
    try:
        code, out, _ = invoke("results", "--url", server.url)
        assert code == 1 and "FW-01" in out and "global/firewalls/ssh-any" in out
        code, _, err = invoke("results", "--url", server.url, "--control", "FW-77")
        assert code == 2 and "FW-77" in err
    finally:
        server.stop()
    code, _, err = invoke("results", "--url", "http://127.0.0.1:9")
    assert code == 2 and "is `controlwatch run` listening" in err


def test_results_exits_as_check_does() -> None:
    """0 nothing fails (excepted failures included), 1 something fails, 3 a control is in error."""
    from checks.model import Result, Verdict
    from monitor.sinks.http_server import MetricsServer
    from monitor.sinks.metrics import Metrics
    from monitor.sinks.store import ResultStore

    fw01, fw02 = (default_registry().get(c).meta for c in ("FW-01", "FW-02"))
    store = ResultStore()
    store.configure([(fw01, "shop-prod", 900.0), (fw02, "shop-prod", 900.0)])
    rule = "//compute.googleapis.com/projects/shop-prod/global/firewalls/ssh-any"

    def fw01_fails(excepted: bool) -> None:
        reason = "CHG-1" if excepted else None
        failing = Result("FW-01", "shop-prod", rule, "tcp:22", Verdict.FAIL, "open", excepted, False, reason)
        store.record("shop-prod", fw01, [failing], 1.0)

    server = MetricsServer("127.0.0.1:0", Metrics(store, version="t"), store)
    server.start()
    try:
        def codes(*args: str) -> tuple[int, int]:
            return (invoke("results", "--url", server.url, *args)[0],
                    invoke("results", "--url", server.url, "--format", "json", *args)[0])

        assert codes() == (0, 0)  # nothing has run yet
        fw01_fails(excepted=True)
        store.record("shop-prod", fw02, [Result("FW-02", "shop-prod", rule, "", Verdict.PASS, "closed")], 1.0)
        assert codes() == (0, 0)
        fw01_fails(excepted=False)
        assert codes() == (1, 1)
        store.record("shop-prod", fw02, [], 2.0)  # a run that judged nothing: the pair is in error
        assert codes() == (3, 3) and codes("--control", "FW-01") == (1, 1)
        assert codes("--control", "FW-02") == (3, 3)
    finally:
        server.stop()


def test_help_on_every_command() -> None:
    for command in ([], ["run"], ["check"], ["controls"], ["results"], ["config", "validate"], ["sandbox"]):
        code, out, _ = invoke(*command, "--help")
        assert code == 0 and "Usage:" in out


def test_missing_credentials_with_a_config_exit_2_never_demo_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cw.yaml"
    config.write_text("scopes: {projects: [{id: shop-prod}]}\n")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing-key.json"))
    code, out, err = invoke("check", "--config", str(config), "--format", "json")
    assert code == 2 and out == ""
    assert "credentials" in err.lower() and "Traceback" not in err


def test_baseline_approval_is_recorded_as_evidence(tmp_path: Path) -> None:
    from monitor.demo import DEMO_SCENARIO
    from monitor.evidence import Ledger

    config = tmp_path / "cw.yaml"
    config.write_text(
        f"scopes: {{projects: [{{id: ledger-clean}}]}}\nevidence: {{path: '{tmp_path / 'evidence.sqlite3'}'}}\n"
    )
    code, out, err = invoke(
        "baseline", "approve", "--yes", "--config", str(config), "--scenario", str(DEMO_SCENARIO), "--approver", "alice"
    )
    assert code == 0, err
    ledger = Ledger(tmp_path / "evidence.sqlite3", create=False)
    try:
        [record] = [r for r in ledger.records() if r.kind == "baseline_approved"]
    finally:
        ledger.close()
    assert record.data["approver"] == "alice" and record.data["scope"] == "ledger-clean"
    assert record.data["controls"] == ids(Area.DRIFT)


def test_check_writes_evidence_only_when_asked(tmp_path: Path) -> None:
    from monitor.evidence import Ledger, generate_key, keyring, verify_ledger

    key = generate_key(tmp_path / "key.pem")
    config = tmp_path / "cw.yaml"
    config.write_text(
        "scopes: {projects: [{id: example-shop}]}\n"
        f"evidence: {{path: '{tmp_path / 'ev.sqlite3'}', signing_key_file: '{tmp_path / 'key.pem'}'}}\n"
    )
    args = ["check", "--scenario", str(scenario(tmp_path)), "--config", str(config), "--format", "json", *FW_ARGS]
    invoke(*args)
    assert not (tmp_path / "ev.sqlite3").exists()
    invoke(*args, "--evidence")
    ledger = Ledger(tmp_path / "ev.sqlite3", create=False)
    try:
        records = list(ledger.records())
    finally:
        ledger.close()
    runs = [r.data for r in records if r.kind == "control_run"]
    assert {r["control"] for r in runs} == set(FW) and {r["source"] for r in runs} == {"scenario"}
    assert records[-1].kind == "checkpoint"
    assert verify_ledger(tmp_path / "ev.sqlite3", keyring([key])).ok


def test_check_explicit_drift_control_without_baseline_is_an_error(tmp_path: Path) -> None:
    code, out, _ = invoke("check", "--scenario", str(scenario(tmp_path)), "--control", "DRIFT-01", "--format", "json")
    doc = json.loads(out)
    assert code == 3
    [result] = doc["results"]
    assert result["verdict"] == "error" and result["reason"].startswith("no approved baseline")


def test_check_exits_promptly_when_a_call_is_stuck(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from monitor.standin import Fault, StandIn, load_scenario

    with StandIn(load_scenario(MINIMAL)) as standin:
        standin.add_fault(Fault(method="compute.firewalls.list", kind="drip", delay=0.5))
        config = tmp_path / "cw.yaml"
        config.write_text(
            "scopes: {projects: [{id: example-shop}]}\n"
            f"gcp: {{api_endpoint: '{standin.url}', call_timeout: 1s, run_deadline: 3s}}\n"
        )
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", "check", "--config", str(config), "--format", "json", *FW_ARGS],
            cwd=Path(__file__).parents[1],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == 3, proc.stderr
    assert elapsed < 20  # not held until the drip ends
    reasons = [r["reason"] for r in json.loads(proc.stdout)["results"] if r["verdict"] == "error"]
    assert reasons and all("deadline exceeded" in r for r in reasons)


def test_check_with_a_stuck_call_returns_normally_in_process(tmp_path: Path) -> None:
    """The abandoned call runs on a daemon thread: `check` exits through sys.exit, never os._exit,
    so it can be called in-process (this test's own process survives it)."""
    import threading

    from monitor.standin import Fault, StandIn, load_scenario

    with StandIn(load_scenario(MINIMAL)) as standin:
        standin.add_fault(Fault(method="compute.firewalls.list", kind="drip", delay=0.5))
        config = tmp_path / "cw.yaml"
        config.write_text(
            "scopes: {projects: [{id: example-shop}]}\n"
            f"gcp: {{api_endpoint: '{standin.url}', call_timeout: 1s, run_deadline: 3s}}\n"
        )
        code, out, _ = invoke("check", "--config", str(config), "--format", "json", *FW_ARGS)
        abandoned = [t for t in threading.enumerate() if t.name.startswith("collect-example-shop")]
        assert code == 3 and abandoned and all(t.daemon for t in abandoned)
    reasons = [r["reason"] for r in json.loads(out)["results"] if r["verdict"] == "error"]
    assert reasons and all("deadline exceeded" in r for r in reasons)


def test_baseline_approve_exits_promptly_when_a_call_is_stuck(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from monitor.standin import Fault, StandIn, load_scenario

    with StandIn(load_scenario(MINIMAL)) as standin:
        standin.add_fault(Fault(method="compute.firewalls.list", kind="drip", delay=0.5))
        config = tmp_path / "cw.yaml"
        config.write_text(
            "scopes: {projects: [{id: example-shop}]}\n"
            f"gcp: {{api_endpoint: '{standin.url}', call_timeout: 1s, run_deadline: 3s}}\n"
            f"evidence: {{path: '{tmp_path / 'ev.sqlite3'}'}}\n"
        )
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", "baseline", "approve", "--config", str(config), "--control", "DRIFT-01"],
            cwd=Path(__file__).parents[1],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == 2 and "firewalls" in proc.stderr, proc.stderr
    assert elapsed < 20


@pytest.mark.parametrize(
    ("listen", "why"),
    [("9797", "is not host:port"), ("localhost:http", "the port must be a number"), ("[nope]:9797", "IPv6")],
)
def test_run_with_a_bad_listen_address_exits_2_before_starting(listen: str, why: str) -> None:
    result = CliRunner().invoke(cli, ["run", "--demo", "--listen", listen], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"--listen: {listen!r}" in result.output and why in result.output
    assert "DEMO MODE" not in result.output  # refused before the stand-in or the daemon started


@pytest.mark.parametrize("where", ["under-a-file", "unwritable"])
def test_run_with_an_evidence_path_that_cannot_be_created_is_one_line_and_exit_2(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    ledger = blocker / "evidence.sqlite3" if where == "under-a-file" else Path("/proc/controlwatch/evidence.sqlite3")
    config = tmp_path / "cw.yaml"
    config.write_text(
        "scopes: {projects: [{id: shop-prod}]}\n"
        "gcp: {api_endpoint: 'http://127.0.0.1:9'}\n"
        f"evidence: {{path: '{ledger}'}}\n"
        "metrics: {listen: '127.0.0.1:0'}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.startswith(f"Error: evidence.path: {ledger}: cannot keep the baseline store beside it")


@pytest.mark.parametrize("option", ["--baseline", "--scenario"])
def test_check_refuses_a_fifo_at_once_with_one_line_and_exit_2(tmp_path: Path, option: str) -> None:
    """`check --baseline FIFO` (and a JSON scenario FIFO) used to wait for a writer forever."""
    with fifo_released_after(tmp_path / "named.json", 5.0) as fifo:
        args = ["--scenario", str(scenario(tmp_path))] if option == "--baseline" else []
        started = time.monotonic()
        code, out, err = invoke("check", *args, option, str(fifo), "--control", "FW-01")
        assert time.monotonic() - started < 3.0
    what = "cannot read baselines" if option == "--baseline" else "cannot read"
    expected = f"{fifo}: {what}: is a FIFO (named pipe), not a regular file"
    assert (code, out) == (2, "") and err.strip() == f"Error: {expected}"
