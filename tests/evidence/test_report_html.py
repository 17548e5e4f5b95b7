"""The HTML report: the expected numbers, everything escaped, nothing loaded from outside,
and it renders in a real headless Chromium without a console error."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest

from monitor.evidence import (
    Checkpointer,
    Ledger,
    SigningKey,
    daemon_start_body,
    daemon_stop_body,
    keyring,
    summarize,
    sweep_population_body,
    verify_ledger,
)
from monitor.evidence.canonical import format_time
from monitor.evidence.report_html import environment, render_report
from tests.evidence.conftest import INTERVAL, T0, edit_body, run_body
from tests.tools import require_tool

H = timedelta(hours=1)
END = T0 + 4 * H
GENERATED = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
APPROVER = "Zoë O'Brien & <ciso@example.be>"
RISK = f"accepted risk: legacy RDP jump host (approved by {APPROVER}, expires 2026-06-30)"
EVIL = '<script>alert("drift")</script>'
SCREENSHOT = Path("/tmp/controlwatch-report.png")


def build(path: Path, key: SigningKey) -> None:
    """Over four hours from T0, in shop-prod (runs every 15 minutes):
    FW-01    passes, but fails 01:00-02:00 (3/4 passing), with an accepted risk throughout;
    IAM-01   passes 00:00-02:00, then is in error (1/2 passing, 1/2 error);
    BKP-01   passes until its last run at 01:30, then is not monitored from 02:00 (1/2 gap);
    DRIFT-01 passes, then drifts at 03:00 (a change whose reason is hostile HTML);
    shop-dev is declared in the population but never checked. A checkpoint every hour.
    """
    with Ledger(path) as ledger:
        checkpointer = Checkpointer(ledger, key)
        ledger.append("daemon_start", daemon_start_body(version="0.1.0", mode="live", scopes=["shop-prod"]), time=T0)
        ledger.append(
            "sweep_population",
            sweep_population_body(["shop-prod", "shop-dev"], T0, T0, interval=INTERVAL),
            time=T0,
        )
        moment = T0
        while moment < END:
            hour = (moment - T0) / H
            fw = "fail" if 1 <= hour < 2 else "pass"
            ledger.append("control_run", run_body("FW-01", "shop-prod", moment, fw, excepted=RISK), time=moment)
            iam = "error" if hour >= 2 else "pass"
            ledger.append(
                "control_run",
                run_body("IAM-01", "shop-prod", moment, iam, reason="getIamPolicy: 403 PERMISSION_DENIED"),
                time=moment,
            )
            if hour <= 1.5:
                ledger.append("control_run", run_body("BKP-01", "shop-prod", moment), time=moment)
            drift = "fail" if hour >= 3 else "pass"
            ledger.append(
                "control_run",
                run_body("DRIFT-01", "shop-prod", moment, drift, reason=f"rule allow-ssh added {EVIL}"),
                time=moment,
            )
            moment += INTERVAL
            if (moment - T0) % H == timedelta(0):
                checkpointer.checkpoint(moment - timedelta(seconds=1))
        ledger.append("daemon_stop", daemon_stop_body(reason="SIGTERM"), time=END)
        checkpointer.checkpoint(END + timedelta(seconds=1))


@pytest.fixture
def ledger_file(tmp_path: Path, key: SigningKey) -> Path:
    path = tmp_path / "evidence.sqlite3"
    build(path, key)
    return path


def render(path: Path, key: SigningKey | None, **overrides: Any) -> str:
    report = verify_ledger(path, keyring([key]) if key is not None else None)
    with Ledger(path, readonly=True) as ledger:
        summary = summarize(ledger, T0, END)
    assert report.last_seq is not None and report.head_hash is not None
    arguments: dict[str, Any] = {
        "title": "controlwatch evidence, 2 March 2026",
        "period": (format_time(T0), format_time(END)),
        "ledger_head": (report.last_seq, report.head_hash),
        "verified": report.ok,
        "verification": report.to_json(),
        "generated_at": GENERATED,
        **overrides,
    }
    return render_report(summary.to_json(), **arguments)


@pytest.fixture
def page(ledger_file: Path, key: SigningKey) -> str:
    return render(ledger_file, key)


def visible_text(document: str) -> str:
    """Roughly what a reader sees: tags dropped, entities decoded."""
    import html

    without = re.sub(r"<(style|title|desc)[^>]*>.*?</\1>", " ", document, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", without)))


EXPECTED_TEXT = [
    "75.0%",  # FW-01: passing three hours of four
    "25.0%",  # FW-01: failing one hour
    "50.0%",  # IAM-01 passing / error, BKP-01 passing / not monitored
    "resolved (passing) at 2026-03-02 02:00:00",  # FW-01's failure, and when it was resolved
    "2026-03-02 01:00:00",
    "Passing for 75.0% of the period (3 h)",
    "legacy RDP jump host",
    APPROVER,
    "2026-06-30",
    "missing: shop-dev",  # daily coverage: shop-dev was never checked
    "Every expected project was checked on 0 of 1 days.",
    "rule allow-ssh added " + EVIL,  # shown as text, never run
    "error (not evaluated)",  # IAM-01 from 02:00
    "Verified: every hash, link and checkpoint signature checks out.",
    "2026-03-02 00:00:00 (inclusive) to 2026-03-02 04:00:00 (exclusive)",
    "2026-03-05 09:30:00 UTC",
    "daemon started",
]


def test_the_expected_numbers_and_facts_are_in_the_report(page: str, ledger_file: Path, key: SigningKey) -> None:
    text = visible_text(page)
    for expected in EXPECTED_TEXT:
        assert expected in text, expected
    report = verify_ledger(ledger_file, keyring([key]))
    assert f"seq {report.last_seq}, hash {report.head_hash}" in text
    # per control: FW-01's failure and BKP-01's gap, with their ends
    assert re.search(r"2026-03-02 01:00:00\s+2026-03-02 02:00:00\s+1 h\s+resolved \(passing\)", text)
    assert re.search(r"BKP-01\s+shop-prod\s+2026-03-02 02:00:00\s+end of period\s+2 h", text)
    # the summary table row of FW-01: runs, then passing, failing, error, not monitored shares, one failure
    assert re.search(r"FW-01\s+shop-prod\s+firewall\s+16\s+75\.0%\s+25\.0%\s+0\.0%\s+0\.0%\s+1\s+passing", text)
    assert re.search(r"BKP-01\s+shop-prod\s+backup\s+7\s+50\.0%\s+0\.0%\s+0\.0%\s+50\.0%", text)


def test_all_data_is_escaped(page: str) -> None:
    assert EVIL not in page
    assert "&lt;script&gt;alert(&quot;drift&quot;)&lt;/script&gt;" in page
    assert "Zoë O&#x27;Brien &amp; &lt;ciso@example.be&gt;" in page
    title = render_report(
        {"controls": [], "areas": {}, "coverage": [], "events": []},
        title="</title><script>x()</script>",
        period=(T0, END),
        ledger_head=None,
        verified=None,
    )
    assert "<script>" not in title and "&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;" in title


class Parsed(HTMLParser):
    """The page as a browser's tokenizer reads it: every element's name and attributes, all text."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


HOSTILE_SCOPE = 'shop-"prod" & <script>alert(1)</script>'
HOSTILE_REASON = 'port 22 open to <script>steal()</script> & "everyone"'
HOSTILE_RISK = 'legacy <b>RDP</b> & "jump" host'
HOSTILE_APPROVER = '<script>x()</script> "CISO" & co'


def test_user_controlled_strings_are_text_wherever_they_land(tmp_path: Path, key: SigningKey) -> None:
    """A scope, a control's reason, an accepted risk and its approver, from a real ledger, each with
    markup, quotes and ampersands: no element is injected, no attribute broken, each reads as written."""
    path = tmp_path / "hostile.sqlite3"
    risk = f"accepted risk: {HOSTILE_RISK} (approved by {HOSTILE_APPROVER}, expires 2026-06-30)"
    with Ledger(path) as ledger:
        moment = T0
        while moment < END:
            fails = moment >= T0 + 2 * H
            ledger.append(
                "control_run",
                run_body("DRIFT-01", HOSTILE_SCOPE, moment, "fail" if fails else "pass", reason=HOSTILE_REASON),
                time=moment,
            )
            ledger.append("control_run", run_body("FW-01", HOSTILE_SCOPE, moment, excepted=risk), time=moment)
            moment += INTERVAL
        Checkpointer(ledger, key).checkpoint(END)
    page = render(path, key, title=f"Report for {HOSTILE_SCOPE}", generator=HOSTILE_APPROVER)
    parsed = Parsed(page)
    tags = {tag for tag, _ in parsed.elements}
    assert "script" not in tags and "b" not in tags
    assert "<script" not in page.lower()
    text = "".join(parsed.text)
    for hostile in (HOSTILE_SCOPE, HOSTILE_REASON, HOSTILE_RISK, HOSTILE_APPROVER):
        assert hostile in text, hostile  # shown as written, as text
    # in attribute values the quotes did not end the attribute: the value reads back whole
    generators = [attrs.get("content") for tag, attrs in parsed.elements if attrs.get("name") == "generator"]
    assert generators == [HOSTILE_APPROVER]
    assert "shop-&quot;prod&quot; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "legacy &lt;b&gt;RDP&lt;/b&gt; &amp; &quot;jump&quot; host" in page


def test_autoescape_is_on_for_every_template() -> None:
    env = environment()
    assert env.autoescape is True  # not a rule by file name, which a new template's name could miss
    escaped = env.from_string("{{ value }}").render(value='<a href="x">&</a>')
    assert escaped == "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;"
    assert set(env.list_templates()) >= {"report.html.j2", "parts.html.j2", "svg.html.j2"}


def test_a_missing_value_fails_the_report_instead_of_leaving_a_blank(ledger_file: Path, key: SigningKey) -> None:
    with pytest.raises(jinja2.UndefinedError, match="missing"):
        environment().from_string("<p>{{ missing }}</p>").render()
    with pytest.raises(jinja2.UndefinedError, match="missing"):
        environment().from_string("<p>{{ row.missing }}</p>").render(row={"present": 1})
    report = verify_ledger(ledger_file, keyring([key]))
    with Ledger(ledger_file, readonly=True) as ledger:
        summary = summarize(ledger, T0, END).to_json()
    del summary["controls"][0]["runs"]  # a summary of another shape: the report must not show a blank
    with pytest.raises(jinja2.UndefinedError, match="runs"):
        render_report(summary, title="t", period=(T0, END), ledger_head=None, verified=report.ok)


def test_element_ids_are_unique(page: str) -> None:
    """Several SVGs each define a hatch pattern: a repeated id would paint one chart with another's."""
    ids = [attrs["id"] for _, attrs in Parsed(page).elements if "id" in attrs]
    assert len(ids) > 20 and len(ids) == len(set(ids))


def test_nothing_is_loaded_from_outside(page: str) -> None:
    lowered = page.lower()
    assert "http://" not in lowered and "https://" not in lowered
    assert "<script" not in lowered and "<link" not in lowered and "<img" not in lowered
    assert "@import" not in lowered and "@font-face" not in lowered
    assert not re.search(r"\ssrc\s*=", lowered)
    assert not re.search(r"\shref\s*=\s*[\"'](?!#)", lowered)  # only links inside the page
    assert set(re.findall(r"url\(([^)]*)\)", lowered)) <= {f"#hatch-{n}" for n in range(1000)}
    assert "default-src &#x27;none&#x27;" in page  # and the browser is told to refuse any load anyway


def test_the_report_is_printable_and_accessible(page: str) -> None:
    assert "@media print" in page and "break-inside: avoid" in page
    svgs = re.findall(r"<svg[^>]*>", page)
    charts = [s for s in svgs if "aria-labelledby" in s]
    assert len(charts) == 4  # one timeline per area: backup, drift, firewall, iam
    assert all('role="img"' in s or 'aria-hidden="true"' in s for s in svgs)
    assert page.count("<desc ") == 4
    for heading in ("Summary", "Timelines by area", "Daily coverage", "Accepted risks", "Drift events"):
        assert f">{heading}</h2>" in page


def test_rendering_is_pure(ledger_file: Path, key: SigningKey) -> None:
    assert render(ledger_file, key) == render(ledger_file, key)


def test_a_failed_or_missing_verification_is_shown(ledger_file: Path, key: SigningKey) -> None:
    unsigned = visible_text(render(ledger_file, None))
    assert "Chain intact, but signatures NOT checked (no public key given)." in unsigned
    unverified = visible_text(render(ledger_file, key, verified=None, verification=None))
    assert "Not verified." in unverified
    edit_body(ledger_file, 5, status="fail")  # BKP-01 at 00:00
    failed = visible_text(render(ledger_file, key))
    assert "Verification FAILED" in failed and "First bad record: record 5: hash mismatch" in failed


def test_an_empty_period_renders(tmp_path: Path) -> None:
    with Ledger(tmp_path / "empty.sqlite3") as ledger:
        summary = summarize(ledger, T0, END)
    page = render_report(summary.to_json(), title="Empty", period=(T0, END), ledger_head=None, verified=True)
    assert "No control was monitored in this period." in page and "the ledger is empty" in page


# --- in a real browser ---------------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _selenium() -> Any:
    try:
        import selenium.webdriver
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("selenium is required under CI=true (the dev extra installs it)")
        pytest.skip("selenium not installed")
    return selenium.webdriver


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_the_report_renders_in_headless_chromium(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chromium = require_tool("chromium")
    chromedriver = require_tool("chromedriver")
    webdriver = _selenium()
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def no_download(*_: object) -> None:
        raise AssertionError("Selenium Manager must not run: it would download a driver or a browser")

    monkeypatch.setattr(SeleniumManager, "binary_paths", no_download)

    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver's path is given, so Selenium Manager never runs (nothing is downloaded).
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(10)
        driver.get(report.as_uri())
        text = driver.execute_script("return document.body.innerText")
        loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        charts = driver.execute_script(
            "return Array.from(document.querySelectorAll('figure svg')).map(s => s.getBoundingClientRect().width)"
        )
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.set_window_size(1280, min(max(height, 1000), 12000))
        screenshot = tmp_path / "report.png"
        assert driver.save_screenshot(str(screenshot))
        severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    finally:
        driver.quit()
    assert severe == []
    assert loaded == []  # no resource fetched at all
    for expected in EXPECTED_TEXT:
        assert expected in text, expected
    assert len(charts) == 4 and all(width > 600 for width in charts)
    assert screenshot.stat().st_size > 20_000
    shutil.copy(screenshot, SCREENSHOT)
