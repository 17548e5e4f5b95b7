"""The SOC 2 view in a real headless Chromium, over a demo-style ledger: the bundled demo
organisation's four projects judged by every control (through the stand-in and the real
collectors) once a minute for an hour, as the daemon writes it (unchanged runs as repeat
records), with a gap, an accepted risk and an error planted.

What is checked where a reader sees it: each criterion fits one screen, the report is a
fraction of its former height (~147,000 px for this ledger before the criteria and the
folding), links to failing resources open their folded section, nothing is loaded and the
console stays clean. Screenshots go to the test output: `$CONTROLWATCH_TEST_OUTPUT`
(default: the system's temporary directory) under `screenshots/`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.commands.main import cli
from monitor.evidence import Checkpointer, Ledger, SigningKey
from monitor.evidence.canonical import format_time
from monitor.evidence.references import References
from monitor.evidence.repeats import RepeatWriter
from monitor.evidence.signing import public_key_pem
from monitor.evidence.soc2 import catalogue_refs, criteria_of
from tests.evidence.conftest import T0
from tests.evidence.test_report_html import CHROMIUM_FLAGS, _selenium
from tests.tools import require_tool

DEMO = Path(__file__).resolve().parents[2] / "monitor" / "demo"
MINUTE = timedelta(minutes=1)
END = T0 + 60 * MINUTE
FROM, TO = format_time(T0), format_time(END)
SCREEN = 1000  # the window's height: one screen
BEFORE = 146_913  # this ledger's report height before the SOC 2 view and the folding


def output_dir() -> Path:
    """Where screenshots are kept after the test: the test output, not a temporary directory of pytest's."""
    root = Path(os.environ.get("CONTROLWATCH_TEST_OUTPUT") or Path(tempfile.gettempdir()) / "controlwatch-test-output")
    path = root / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def one_check(tmp: Path) -> list[dict[str, Any]]:
    """The `control_run` bodies of one `check --evidence` of the demo organisation."""
    ledger = tmp / "one.sqlite3"
    config = tmp / "demo.yaml"
    config.write_text((DEMO / "demo-config.yaml").read_text() + f"\nevidence: {{path: {json.dumps(str(ledger))}}}\n")
    result = CliRunner().invoke(
        cli, ["check", "--config", str(config), "--scenario", str(DEMO / "demo-org.yaml"), "--evidence"]
    )
    assert result.exit_code == 1, result.output  # the demo has failures: exit 1
    with Ledger(ledger, readonly=True) as opened:
        return [record.data for record in opened.records() if record.kind == "control_run"]


def rolled_up(body: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """`body` with other results, its status and counts recomputed as `control_run_body` does."""
    counts = {"pass": 0, "fail": 0, "excepted": 0, "error": 0, "checked": len(results)}
    for result in results:
        counts["excepted" if result["verdict"] == "fail" and result.get("excepted") else result["verdict"]] += 1
    status = "error" if counts["error"] else "fail" if counts["fail"] else "pass"
    return {**body, "results": results, "counts": counts, "status": status}


def planted(body: dict[str, Any], minute: int) -> dict[str, Any] | None:
    """The run of `body` at `minute`, with what the demo plants over the hour (None: no run)."""
    control, scope, results = body["control"], body["scope"], list(body["results"])
    if scope == "data-platform" and 20 <= minute < 35:
        return None  # the replica watching it was down: a gap
    if (control, scope) == ("FW-09", "shop-prod") and minute >= 30:
        # web-1 moved behind the load balancer; only the accepted risk is left: excepted
        results = [r if r.get("excepted") or r["verdict"] != "fail" else {**r, "verdict": "pass"} for r in results]
    if (control, scope) == ("IAM-01", "ledger-clean") and minute >= 45:
        results = [{**r, "verdict": "error", "reason": "getIamPolicy: 403 PERMISSION_DENIED"} for r in results]
    moment = T0 + minute * MINUTE
    started = format_time(moment - timedelta(seconds=5))
    return {**rolled_up(body, results), "started": started, "ended": format_time(moment), "interval_seconds": 60.0}


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory, key: SigningKey) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("demo-ledger")
    bodies = one_check(tmp)
    assert {body["scope"] for body in bodies} == {"shop-prod", "shop-staging", "data-platform", "ledger-clean"}
    path, pub = tmp / "evidence.sqlite3", tmp / "evidence.pub"
    with Ledger(path) as ledger:
        writer, checkpointer = RepeatWriter(ledger), Checkpointer(ledger, key)
        for minute in range(60):
            by_scope: dict[str, list[tuple[str, dict[str, Any]]]] = {}
            for body in bodies:
                run = planted(body, minute)
                if run is not None:
                    by_scope.setdefault(run["scope"], []).append(("control_run", run))
            for entries in by_scope.values():
                writer.append(entries, time=T0 + minute * MINUTE)
            if minute % 15 == 14:
                checkpointer.checkpoint(T0 + minute * MINUTE + timedelta(seconds=30))
        checkpointer.checkpoint(END + timedelta(seconds=1))
    pub.write_bytes(public_key_pem(key.public_key))
    return path, pub


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    chromium = require_tool("chromium")
    chromedriver = require_tool("chromedriver")
    webdriver = _selenium()
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def no_download(*_: object) -> None:
        raise AssertionError("Selenium Manager must not run: it would download a driver or a browser")

    monkeypatch.setattr(SeleniumManager, "binary_paths", no_download)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size=1280,{SCREEN}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver: Any, name: str) -> Path:
    """A screenshot of the window as it is, kept in the test output."""
    target = output_dir() / name
    assert driver.save_screenshot(str(target)), name
    assert target.stat().st_size > 10_000, name
    return target


def criteria_in(path: Path) -> set[str]:
    """Every criterion the controls judged in the period declare (repeated runs count)."""
    with Ledger(path, readonly=True) as ledger:
        controls = {control for control, _ in References(ledger).monitored_pairs(T0, END)}
    return criteria_of(catalogue_refs(), controls)


def common_checks(driver: Any) -> None:
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == []
    assert driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []


def criterion_heights(driver: Any) -> dict[str, int]:
    script = (
        "return Object.fromEntries(Array.from(document.querySelectorAll('section.criterion'))"
        ".map(s => [s.id, Math.round(s.getBoundingClientRect().height)]))"
    )
    return dict(driver.execute_script(script))


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_report_by_criterion_in_headless_chromium(
    demo_ledger: tuple[Path, Path], tmp_path: Path, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    path, pub = demo_ledger
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli, ["evidence", "report", "--ledger", str(path), "--from", FROM, "--to", TO, "--out", str(out),
              "--public-key", str(pub)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "verified" in result.stdout
    browser.get(out.as_uri())
    common_checks(browser)
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    assert height < BEFORE / 5, height  # the long sections are folded
    heights = criterion_heights(browser)
    expected = criteria_in(path)
    assert {f"soc2-{criterion}" for criterion in expected} == set(heights)
    assert all(0 < value <= SCREEN for value in heights.values()), heights  # one screen per criterion
    text = browser.execute_script("return document.body.innerText")
    assert "excepted (failing under an accepted risk)" in text and "SOC 2 criteria" in text
    browser.get(out.as_uri() + "#soc2")
    shoot(browser, "report-soc2-overview.png")
    browser.get(out.as_uri() + "#soc2-CC6.1")
    shoot(browser, "report-soc2-CC6.1.png")
    # a criterion row's link opens the folded list of the pair's failing resources, named with their records
    link = browser.find_element(By.CSS_SELECTOR, "#soc2-CC6\\.6 a[href^='#fr-']")
    target = str(link.get_attribute("href")).rsplit("#", 1)[1]
    opened = f"return document.getElementById('{target}').closest('details').open"
    assert browser.execute_script(opened) is False  # folded: the report has more than a screenful of them
    link.click()
    assert browser.execute_script(opened) is True
    table = browser.find_element(By.ID, target)
    assert ".googleapis.com/" in table.text and "seq " in table.text  # the resource, by its full name
    shoot(browser, "report-failing-resources.png")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_evidence_soc2_in_headless_chromium(demo_ledger: tuple[Path, Path], tmp_path: Path, browser: Any) -> None:
    path, pub = demo_ledger
    out = tmp_path / "soc2.html"
    result = CliRunner().invoke(
        cli, ["evidence", "soc2", "--ledger", str(path), "--from", FROM, "--to", TO, "--out", str(out),
              "--public-key", str(pub)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    browser.get(out.as_uri())
    common_checks(browser)
    heights = criterion_heights(browser)
    assert {f"soc2-{criterion}" for criterion in criteria_in(path)} == set(heights)
    assert all(0 < value <= SCREEN for value in heights.values()), heights
    text = browser.execute_script("return document.body.innerText")
    # the planted states, each where the auditor reads it
    for expected in ("FW-09", "shop-prod", "not monitored", "error (not evaluated)", "Verified"):
        assert expected in text, expected
    shares = browser.execute_script(
        "return Array.from(document.querySelectorAll('td.hot-excepted, td.hot-gap, td.hot-error'))"
        ".map(td => td.className)"
    )
    assert {"num hot-excepted", "num hot-gap", "num hot-error"} <= set(shares)
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    browser.set_window_size(1280, min(max(height, SCREEN), 12_000))
    full = shoot(browser, "soc2-page.png")
    shutil.copy(full, tmp_path / "soc2-page.png")  # beside the test's own files too
