"""`/results` and `/` for a browser, over real HTTP: content negotiation, the page's facts
(since when each resource fails, remediation, accepted risks, errors), filters, paging,
escaping, and a bounded page at a thousand scopes."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from checks import default_registry
from checks.model import Area, Result, Severity, Verdict
from checks.registry import ControlMeta
from monitor.sinks.accept import prefers_html
from monitor.sinks.http_server import MetricsServer
from monitor.sinks.metrics import Metrics
from monitor.sinks.results_page import environment
from monitor.sinks.results_view import age_text, results_url, utc_text
from monitor.sinks.store import ResultStore
from tests.monitor.test_httpserver import get

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
CATALOGUE = {c.meta.id: c.meta for c in default_registry()}
FW01, IAM01, BKP01 = (CATALOGUE[i] for i in ("FW-01", "IAM-01", "BKP-01"))
T0 = 1_760_000_000.0  # the runs' own times: what the page shows is compared with them, never with the clock
EVIL = '<script>alert("x")</script>'
RISK = "accepted risk: jump host until CHG-7 (approved by Zoë <ciso@example.be>, expires 2031-01-31)"


def result(meta: ControlMeta, scope: str, verdict: Verdict, name: str, **extra: Any) -> Result:
    fields: dict[str, Any] = {"reason": f"{name} is open to 0.0.0.0/0 on tcp:22", **extra}
    return Result(
        control=meta.id,
        scope=scope,
        resource=f"//compute.googleapis.com/projects/{scope}/global/firewalls/{name}",
        subject="",
        verdict=verdict,
        **fields,
    )


def estate() -> ResultStore:
    """shop-prod: FW-01 passed, then fails on `allow-ssh` (new) beside a standing accepted risk;
    IAM-01 is in error; shop-dev: FW-01 fails from its first run (standing), IAM-01 passes,
    BKP-01 never ran."""
    store = ResultStore()
    store.configure(
        [(meta, scope, 900.0) for meta in (FW01, IAM01) for scope in ("shop-prod", "shop-dev")]
        + [(BKP01, "shop-dev", 3600.0)]
    )
    ok = result(FW01, "shop-prod", Verdict.PASS, "https")
    jump = result(FW01, "shop-prod", Verdict.FAIL, "jump", excepted=True, exception_reason=RISK)
    store.record("shop-prod", FW01, [ok, jump], T0)
    store.record("shop-prod", FW01, [ok, jump, result(FW01, "shop-prod", Verdict.FAIL, "allow-ssh")], T0 + 900)
    store.record("shop-dev", FW01, [result(FW01, "shop-dev", Verdict.FAIL, "legacy")], T0 + 60)
    store.record(
        "shop-prod",
        IAM01,
        [result(IAM01, "shop-prod", Verdict.ERROR, "policy", reason="getIamPolicy: 403 PERMISSION_DENIED")],
        T0 + 901,
    )
    store.record("shop-dev", IAM01, [result(IAM01, "shop-dev", Verdict.PASS, "policy")], T0 + 61)
    for scope in ("shop-prod", "shop-dev"):
        store.mark_scope_run_finished(scope)
    return store


def start(store: ResultStore) -> MetricsServer:
    server = MetricsServer("127.0.0.1:0", Metrics(store, version="0.1.0", mode="demo"), store, catalogue=CATALOGUE)
    server.start()
    return server


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    served = start(estate())
    yield served
    served.stop()


def page(server: MetricsServer, path: str, accept: str | None = BROWSER) -> tuple[int, dict[str, str], str]:
    status, headers, body = get(server, path, headers={"Accept": accept} if accept else {})
    return status, headers, body.decode("utf-8")


def visible(document: str) -> str:
    """Roughly what a reader sees: tags dropped, entities decoded, whitespace folded."""
    without = re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", document, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", without)))


def pairs_shown(document: str) -> list[tuple[str, str]]:
    """(control, scope) of every pair on the page, from its stable link."""
    return [
        (control, scope)
        for scope, control in re.findall(
            r'<a class="scope" href="/results\?scope=([^&"]+)&amp;control=([^&"]+)"', document
        )
    ]


def test_links_name_the_filters_in_one_stable_order() -> None:
    """The form alerts and dashboards link to: `/results?scope=S&control=C`, whatever the call's order."""
    assert results_url(control="FW-01", scope="shop-prod") == "/results?scope=shop-prod&control=FW-01"
    assert results_url(status="fail", severity="critical", limit=None) == "/results?severity=critical&status=fail"
    assert results_url() == "/results"
    assert results_url(scope="a b&c") == "/results?scope=a+b%26c"
    with pytest.raises(ValueError, match="verdict"):
        results_url(verdict="fail")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59.9, "59 s"), (60, "1 min"), (3600, "1 h"), (3 * 3600 + 300, "3 h 5 min"), (86400, "1 d"),
     (4 * 86400 + 7300, "4 d 2 h"), (-5, "0 s")],
)  # fmt: skip
def test_ages_read_at_a_glance(seconds: float, text: str) -> None:
    assert age_text(seconds) == text


# -- content negotiation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "html_wanted"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("application/json;q=0.5, text/html", True),
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("text/html, application/json", False),  # a tie keeps JSON
        ("text/html;q=0.5, */*", False),
        ("text/html;q=0", False),
        ("text/html;q=oops", False),
        ("text/plain", False),
        ("garbage", False),
    ],
)
def test_only_an_explicit_html_preference_gets_html(accept: str | None, html_wanted: bool) -> None:
    assert prefers_html(accept) is html_wanted


def test_a_browser_gets_html_and_everything_else_keeps_the_json(server: MetricsServer) -> None:
    status, headers, body = page(server, "/results")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["vary"] == "Accept" and body.startswith("<!DOCTYPE html>")
    documents = []
    for path, accept in [
        ("/results", None),
        ("/results", "*/*"),
        ("/results", "application/json"),
        ("/results?format=json", BROWSER),
    ]:
        status, headers, body = page(server, path, accept)
        assert (status, headers["content-type"], headers["vary"]) == (200, "application/json", "Accept"), (path, accept)
        document = json.loads(body)
        document.pop("generated_at")
        documents.append(document)
    assert all(document == documents[0] for document in documents)
    assert len(documents[0]["controls"]) == 5 and documents[0]["next_page_token"] is None
    status, headers, _ = page(server, "/results?format=html", None)
    assert (status, headers["content-type"]) == (200, "text/html; charset=utf-8")


def test_a_bad_query_is_400_in_the_form_asked_for(server: MetricsServer) -> None:
    status, headers, body = page(server, "/results?status=failing")
    assert (status, headers["content-type"]) == (400, "text/html; charset=utf-8")
    assert "query parameter 'status' must be pass or fail or error, got 'failing'" in visible(body)
    status, headers, body = page(server, "/results?status=failing", None)
    assert (status, headers["content-type"]) == (400, "application/json")
    assert "'status'" in json.loads(body)["error"]
    status, _, body = page(server, "/results?format=xml", None)
    assert status == 400 and "query parameter 'format' must be json or html" in json.loads(body)["error"]


def test_the_filter_forms_empty_fields_mean_any_for_a_browser_only(server: MetricsServer) -> None:
    status, _, body = page(server, "/results?scope=shop-dev&control=&area=&severity=&status=&limit=")
    assert status == 200
    assert pairs_shown(body) == [("BKP-01", "shop-dev"), ("FW-01", "shop-dev"), ("IAM-01", "shop-dev")]
    status, _, body = page(server, "/results?scope=shop-dev&control=", None)
    assert status == 400 and "'control' is empty" in json.loads(body)["error"]


# -- what the page says -----------------------------------------------------------------------


def test_the_page_says_what_fails_since_when_and_how_to_fix_it(server: MetricsServer) -> None:
    _, _, body = page(server, "/results")
    text = visible(body)
    assert pairs_shown(body) == [
        ("BKP-01", "shop-dev"),
        ("FW-01", "shop-dev"),
        ("FW-01", "shop-prod"),
        ("IAM-01", "shop-dev"),
        ("IAM-01", "shop-prod"),
    ]
    for meta in (FW01, IAM01, BKP01):
        assert f"{meta.id} {meta.title} {meta.severity.value} {meta.area.value}" in text
        assert visible(meta.remediation) in text
    # allow-ssh: new, first seen at the second run; legacy: standing since shop-dev's first run
    assert re.search(
        rf"//compute.googleapis.com/projects/shop-prod/global/firewalls/allow-ssh"
        rf"\s+allow-ssh is open to 0.0.0.0/0 on tcp:22\s+{utc_text(T0 + 900)} \([^)]+\) new",
        text,
    )
    legacy = rf"firewalls/legacy\s+legacy is open to 0.0.0.0/0 on tcp:22\s+{utc_text(T0 + 60)} \([^)]+\)\s"
    assert re.search(legacy, text)
    assert not re.search(rf"{utc_text(T0 + 60)} \([^)]+\) new", text)
    assert f"shop-prod fail 1 failing · 1 accepted · 1 passing · 3 checked failing since {utc_text(T0 + 900)}" in text
    # the accepted risk with its approver and expiry, failing since the first run
    assert re.search(rf"firewalls/jump\s+jump is open[^|]*?{re.escape(RISK)}\s+{utc_text(T0)}", text)
    # the error with its cause; the pair that never ran
    error_line = "shop-prod error 0 failing · 0 accepted · 0 passing · 1 checked last judged never last run"
    assert f"{error_line} {utc_text(T0 + 901)}" in text
    assert "1 error (not judged)" in text and "getIamPolicy: 403 PERMISSION_DENIED" in text
    assert "shop-dev not run no run ended yet" in text
    assert "This page: 2 fail 1 error 1 pass 1 not run" in text


def test_pairs_that_pass_with_nothing_to_read_take_one_line_at_the_end(server: MetricsServer) -> None:
    _, _, body = page(server, "/results?scope=shop-dev")
    text = visible(body)
    assert pairs_shown(body) == [("BKP-01", "shop-dev"), ("FW-01", "shop-dev"), ("IAM-01", "shop-dev")]
    quiet = "Passing, nothing accepted (1 control on this page) control title severity passing in"
    assert f"{quiet} IAM-01 {IAM01.title} high shop-dev" in text
    assert "IAM-01 " + IAM01.title + " high iam" not in text  # no section of its own
    store = ResultStore()  # passing beside an accepted risk: the risk is shown, with approver and expiry
    store.configure([(FW01, "s", 900.0)])
    jump = result(FW01, "s", Verdict.FAIL, "jump", excepted=True, exception_reason=RISK)
    store.record("s", FW01, [result(FW01, "s", Verdict.PASS, "https"), jump], T0)
    served = start(store)
    try:
        text = visible(page(served, "/results")[2])
    finally:
        served.stop()
    assert "Passing, nothing accepted" not in text
    assert "s pass 0 failing · 1 accepted · 1 passing · 2 checked" in text and RISK in text


def test_the_first_seen_time_is_the_one_the_json_gives(server: MetricsServer) -> None:
    _, _, body = page(server, "/results?scope=shop-prod&control=FW-01", None)
    [state] = json.loads(body)["controls"]
    [failure] = [r for r in state["results"] if r["resource"].endswith("/allow-ssh")]
    first_seen = failure["first_seen"].replace("T", " ").replace("Z", " UTC")
    _, _, document = page(server, "/results?scope=shop-prod&control=FW-01")
    assert f"{first_seen}" in visible(document) and failure["new"] is True


def test_long_lists_fold_and_are_capped_with_a_count() -> None:
    store = ResultStore()
    store.configure([(FW01, "big", 900.0)])
    store.record("big", FW01, [result(FW01, "big", Verdict.FAIL, f"rule-{i:03}") for i in range(130)], T0)
    store.mark_scope_run_finished("big")
    served = start(store)
    try:
        _, _, body = page(served, "/results")
    finally:
        served.stop()
    text = visible(body)
    assert '<details class="failing">' in body  # not open: 130 rows
    assert "130 failing resources" in text and "… and 30 more: every result is in the JSON of this pair." in text
    assert "rule-099" in text and "rule-100" not in text


def test_a_page_of_many_pairs_starts_folded_and_one_pair_starts_open() -> None:
    store = ResultStore()
    scopes = [f"p-{i}" for i in range(6)]
    store.configure([(FW01, scope, 900.0) for scope in scopes])
    for scope in scopes:
        store.record(scope, FW01, [result(FW01, scope, Verdict.FAIL, "allow-ssh")], T0)
    served = start(store)
    try:
        many = page(served, "/results")[2]
        one = page(served, "/results?scope=p-3&control=FW-01")[2]
    finally:
        served.stop()
    assert many.count('<details class="failing">') == 6 and "<details class=\"failing\" open>" not in many
    assert one.count('<details class="failing" open>') == 1


# -- filters and paging ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("scope=shop-prod", [("FW-01", "shop-prod"), ("IAM-01", "shop-prod")]),
        ("control=FW-01", [("FW-01", "shop-dev"), ("FW-01", "shop-prod")]),
        ("scope=shop-prod&control=FW-01", [("FW-01", "shop-prod")]),
        ("area=iam", [("IAM-01", "shop-dev"), ("IAM-01", "shop-prod")]),
        ("severity=critical", [("FW-01", "shop-dev"), ("FW-01", "shop-prod")]),
        ("status=fail", [("FW-01", "shop-dev"), ("FW-01", "shop-prod")]),
        ("status=error", [("IAM-01", "shop-prod")]),
        ("status=pass&scope=shop-prod", []),
    ],
)
def test_filters_narrow_the_page_and_stay_selected(server: MetricsServer, query: str, expected: list[Any]) -> None:
    status, _, body = page(server, "/results?" + query)
    assert status == 200 and pairs_shown(body) == expected
    for name, value in (part.split("=") for part in query.split("&")):
        chosen = rf'<select name="{name}">(?:(?!</select>).)*<option value="{value}" selected>'
        assert re.search(chosen, body, flags=re.S), name
    link = re.search(r'<a href="([^"]+)">this view as JSON', body)
    assert link is not None
    assert parse_qs(urlsplit(html.unescape(link.group(1))).query) == {**parse_qs(query), "format": ["json"]}
    if not expected:
        assert "No control × scope pair matches" in visible(body)


def test_the_pages_follow_one_another_like_the_json(server: MetricsServer) -> None:
    seen: list[tuple[str, str]] = []
    path: str | None = "/results?limit=2"
    for _ in range(10):
        assert path is not None
        status, _, body = page(server, path)
        assert status == 200
        shown = pairs_shown(body)
        assert len(shown) <= 2
        seen += shown
        link = re.search(r'<a href="([^"]+)" rel="next">next page', body)
        path = html.unescape(link.group(1)) if link else None
        if path is None:
            break
        assert "limit=2" in path and "page_token=" in path
    assert path is None
    _, _, body = page(server, "/results", None)
    assert seen == [(s["control"], s["scope"]) for s in json.loads(body)["controls"]]
    assert "« first page" in visible(page(server, "/results?limit=2&page_token=" + _token(server))[2])


def _token(server: MetricsServer) -> str:
    _, _, body = page(server, "/results?limit=2", None)
    token = json.loads(body)["next_page_token"]
    assert isinstance(token, str)
    return token


def test_a_filtered_page_defaults_to_fewer_pairs_than_the_json() -> None:
    store = ResultStore()
    store.configure([(FW01, f"p-{i:03}", 900.0) for i in range(150)])
    served = start(store)
    try:
        _, _, body = page(served, "/results")
        _, _, doc = page(served, "/results", None)
    finally:
        served.stop()
    assert len(pairs_shown(body)) == 100 and 'rel="next"' in body
    assert len(json.loads(doc)["controls"]) == 150


# -- the overview at / ------------------------------------------------------------------------


def test_the_overview_counts_failing_and_error_pairs_per_scope(server: MetricsServer) -> None:
    for accept in (BROWSER, None, "application/json"):
        status, headers, body = page(server, "/", accept)
        assert (status, headers["content-type"]) == (200, "text/html; charset=utf-8")
    text = visible(body)
    assert "Ready: every watched scope has finished a run." in text
    assert "0.1.0 · demo" in text and "DEMO MODE" in text
    assert "control × scope pairs 5 fail 2" in text and "error 1" in text
    assert re.search(r"shop-prod 1 1 0 0 JSON shop-dev 1 0 1 1 JSON", text)  # the worst scope first
    assert 'href="/results?scope=shop-prod&amp;status=fail"' in body
    assert 'href="/results?scope=shop-prod&amp;status=error"' in body
    assert 'href="/results?severity=critical&amp;status=fail"' in body
    for route in ("/metrics", "/healthz", "/readyz"):
        assert f'href="{route}"' in body


def test_the_overview_says_what_it_waits_for() -> None:
    store = estate()
    store.configure([(FW01, "shop-prod", 900.0), (FW01, "shop-new", 900.0)])
    served = start(store)
    try:
        _, _, body = page(served, "/")
    finally:
        served.stop()
    assert "Not ready yet: waiting for 1 (shop-new)." in visible(body)


# -- escaping ---------------------------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self, document: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_hostile_names_and_reasons_are_text_never_markup() -> None:
    store = ResultStore()
    store.configure([(FW01, "shop-prod", 900.0)])
    hostile = [
        Result(
            control="FW-01",
            scope="shop-prod",
            resource=f"//compute.googleapis.com/projects/shop-prod/global/firewalls/{EVIL}",
            subject=f'"><img src=x onerror=alert(1)>{EVIL}',
            verdict=Verdict.FAIL,
            reason=f"rule {EVIL} & more",
        ),
        Result(
            control="FW-01",
            scope="shop-prod",
            resource="//x/jump",
            subject="",
            verdict=Verdict.FAIL,
            reason="r",
            excepted=True,
            exception_reason=f"accepted risk: {EVIL} (approved by <b>me</b>, expires 2031-01-01)",
        ),
        Result(control="FW-01", scope="shop-prod", resource="//x/e", subject="", verdict=Verdict.ERROR, reason=EVIL),
    ]
    store.record("shop-prod", FW01, hostile, T0)
    store.mark_scope_run_finished("shop-prod")
    catalogue = {"FW-01": replace(FW01, title=f"title {EVIL}", remediation=f"fix {EVIL}")}
    served = MetricsServer("127.0.0.1:0", Metrics(store, version="0.1.0"), store, catalogue=catalogue)
    served.start()
    try:
        documents = [page(served, path)[2] for path in ("/results", "/results?scope=shop-prod", "/")]
        documents.append(page(served, f"/results?scope={EVIL}")[2])  # an unknown scope, echoed in the 400 page
    finally:
        served.stop()
    for document in documents:
        assert "<script>" not in document and "<img" not in document and "<b>" not in document
        assert set(_Elements(document).tags) <= {
            "html", "head", "meta", "title", "style", "body", "nav", "span", "a", "p", "h1", "h2", "h3",
            "form", "label", "select", "option", "input", "button", "section", "details", "summary", "div",
            "table", "thead", "tbody", "tr", "th", "td", "code", "ul", "li",
        }  # fmt: skip
    text = visible(documents[0])
    assert f"firewalls/{EVIL}" in text and f"rule {EVIL} & more" in text and f"fix {EVIL}" in text
    assert "&lt;script&gt;" in documents[0]
    assert f"'scope': '{EVIL}' is not a configured scope" in visible(documents[3])


def test_autoescape_is_on_for_every_template() -> None:
    env = environment()
    for name in env.list_templates():
        assert name.endswith(".html.j2")
        template = env.get_template(name)
        assert env.autoescape is True or (callable(env.autoescape) and env.autoescape(template.name)), name


# -- bounded at a thousand scopes ------------------------------------------------------------


def test_a_page_and_the_overview_stay_small_and_fast_at_a_thousand_scopes() -> None:
    """1,000 scopes × 8 controls, each failing on 30 resources: a page is 100 pairs, the
    overview lists 200 scopes; both are bounded in size and time whatever the estate."""
    metas = [
        ControlMeta(id=f"FW-{n:02}", title=f"t{n}", area=Area.FW, severity=Severity.HIGH, kinds=(),
                    rationale="r", remediation="fix it")
        for n in range(1, 9)
    ]  # fmt: skip
    store = ResultStore()
    scopes = [f"project-{i:04}" for i in range(1000)]
    store.configure([(meta, scope, 900.0) for meta in metas for scope in scopes])
    for meta in metas:
        rows = [
            Result(control=meta.id, scope=scopes[0], resource=f"//compute/{i}", subject="", verdict=Verdict.FAIL,
                   reason="open to the internet on tcp:22")
            for i in range(30)
        ]  # fmt: skip
        for scope in scopes:
            store.record(scope, meta, [replace(r, scope=scope) for r in rows], T0)
    for scope in scopes:
        store.mark_scope_run_finished(scope)
    served = start(store)
    try:
        page(served, "/results")  # templates compiled once
        timings = {}
        for path in ("/results", "/results?status=fail&page_token=" + _first_token(served), "/"):
            began = time.perf_counter()
            status, _, body = page(served, path)
            timings[path] = (time.perf_counter() - began, len(body))
            assert status == 200
            assert len(pairs_shown(body)) == (100 if path.startswith("/results") else 0)
    finally:
        served.stop()
    for path, (seconds, size) in timings.items():
        print(f"{path[:40]}: {seconds:.3f} s, {size} bytes")
        assert size < 1_000_000 and seconds < 5.0, (path, seconds, size)  # 0.2 s, 700 KB here


def _first_token(served: MetricsServer) -> str:
    _, _, body = page(served, "/results?status=fail&limit=100", None)
    token = json.loads(body)["next_page_token"]
    assert isinstance(token, str)
    return token
