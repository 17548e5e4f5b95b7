"""The pages people read, in a real headless Chromium, served by a real `controlwatch run --demo`.

What an on-call engineer does: open `/`, follow a scope, read a failing resource and since
when it fails, narrow the page with the filter form (no JavaScript), and the same URL still
gives JSON to a script. Screenshots go to the test's directory and to /tmp (paths printed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checks import default_registry
from tests.evidence.test_report_html import CHROMIUM_FLAGS
from tests.tools import require_tool, wait_until

ROOT = Path(__file__).resolve().parents[2]
SCOPE = "shop-staging"  # the demo's planted default-allow-ssh rule
SHOTS = Path("/tmp")


class DemoDaemon:
    """`controlwatch run --demo` on a free port, its state under `workdir` (not the checkout)."""

    def __init__(self, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--demo", "--listen", "127.0.0.1:0"],
            cwd=workdir,  # the demo keeps its ledger and baselines in ./.controlwatch
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        )
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "metrics at " in line and not self.url:
                self.url = line.split("metrics at ", 1)[1].split("/metrics", 1)[0]

    def get(self, path: str, accept: str | None = None) -> tuple[int, str, bytes]:
        request = urllib.request.Request(self.url + path, headers={"Accept": accept} if accept else {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except OSError:
            return 0, "", b""

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoDaemon]:
    daemon = DemoDaemon(tmp_path)
    try:
        assert wait_until(lambda: bool(daemon.url) or daemon.proc.poll() is not None, 60), "no metrics URL printed"
        assert daemon.url, f"the demo daemon exited with {daemon.proc.returncode}"
        assert wait_until(lambda: daemon.get("/readyz")[0] == 200, 90, interval=0.5), "the demo never became ready"
        yield daemon
    finally:
        daemon.close()


def _webdriver() -> Any:
    try:
        import selenium.webdriver
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("selenium is required under CI=true (the dev extra installs it)")
        pytest.skip("selenium not installed")
    return selenium.webdriver


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    chromium = require_tool("chromium")
    chromedriver = require_tool("chromedriver")
    webdriver = _webdriver()
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def no_download(*_: object) -> None:
        raise AssertionError("Selenium Manager must not run: it would download a driver or a browser")

    monkeypatch.setattr(SeleniumManager, "binary_paths", no_download)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1366,900"):
        options.add_argument(flag)  # a laptop's screen
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, directory: Path, name: str) -> Path:
    """The whole page (up to 8,000 px), in the test's directory and copied to /tmp; the path is printed."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1366, min(max(height, 900), 8000))
    path = directory / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 20_000
    copy = SHOTS / f"controlwatch-{name}.png"
    shutil.copy(path, copy)
    print(f"screenshot: {path} (copy: {copy})")
    driver.set_window_size(1366, 900)
    return path


def pairs_on_page(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [link.text for link in driver.find_elements(By.CSS_SELECTOR, "a.scope")]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_an_on_call_engineer_reads_what_fails_in_a_browser(demo: DemoDaemon, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # What the page must show, read from the JSON of the same daemon.
    status, content_type, body = demo.get(f"/results?scope={SCOPE}&control=FW-01")
    assert (status, content_type) == (200, "application/json")
    [state] = json.loads(body)["controls"]
    [ssh] = [r for r in state["results"] if r["resource"].endswith("/firewalls/default-allow-ssh")]
    since = ssh["first_seen"].replace("T", " ").replace("Z", " UTC")
    status, _, everything = demo.get(f"/results?scope={SCOPE}", accept="application/json")
    failing = {s["control"] for s in json.loads(everything)["controls"] if s["status"] == "fail"}
    erroring = {s["control"] for s in json.loads(everything)["controls"] if s["status"] == "error"}
    assert "FW-01" in failing and len(failing) > 1

    # The overview: readiness, and the scope with its failing pairs, linked.
    browser.get(demo.url + "/")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Ready: every watched scope has finished a run." in text and "DEMO MODE" in text
    for scope in ("shop-prod", "shop-staging", "data-platform", "ledger-clean"):
        assert scope in text
    screenshot(browser, tmp_path, "overview")
    browser.find_element(By.LINK_TEXT, SCOPE).click()
    assert browser.current_url == f"{demo.url}/results?scope={SCOPE}"

    # One scope: every control that fails is there, the planted rule with since when it fails.
    text = browser.find_element(By.TAG_NAME, "body").text
    assert f"What fails now: scope {SCOPE}" in text
    for control in failing | erroring:
        assert control in text, control
    assert "failing since" in text and "default-allow-ssh" not in text  # many pairs: each list starts folded
    before = pairs_on_page(browser)
    assert len(before) == len(json.loads(everything)["controls"]) and set(before) == {SCOPE}
    screenshot(browser, tmp_path, "results-scope")
    browser.find_element(By.CSS_SELECTOR, "#control-FW-01 details.failing > summary").click()  # unfolds, no script
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "default-allow-ssh" in text and "tcp:22" in text and since in text

    # The filter form narrows the page to one control (a GET form: no JavaScript involved).
    Select(browser.find_element(By.NAME, "control")).select_by_value("FW-01")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    assert wait_until(lambda: "control=FW-01" in browser.current_url, 10)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert pairs_on_page(browser) == [SCOPE]
    assert "What fails now: scope shop-staging, control FW-01" in text
    assert "default-allow-ssh" in text and since in text
    assert not any(f"\n{control} " in text for control in failing - {"FW-01"})
    fw01 = default_registry().get("FW-01").meta  # the daemon's catalogue: title, and the remediation folded
    assert f"FW-01 {fw01.title} critical firewall" in text and fw01.remediation[:40] not in text
    browser.find_element(By.CSS_SELECTOR, "details.fix > summary").click()
    assert fw01.remediation[:40] in browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, tmp_path, "results-filtered")

    # The link alerts and dashboards use still answers JSON to a script.
    status, content_type, body = demo.get(f"/results?scope={SCOPE}&control=FW-01", accept="*/*")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body)["controls"][0]["control"] == "FW-01"

    severe = [entry for entry in browser.get_log("browser") if entry.get("level") == "SEVERE"]
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert severe == [] and loaded == []  # nothing failed, nothing fetched beside the page
