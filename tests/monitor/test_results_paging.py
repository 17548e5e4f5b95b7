"""`/results` in pages: `limit`, an opaque `page_token`, filters kept across pages, 400 on bad paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from checks.model import Verdict
from monitor.sinks.http_server import DEFAULT_LIMIT, MetricsServer
from monitor.sinks.store import ResultStore
from tests.monitor.test_httpserver import get_json, serve
from tests.monitor.test_store import FW01, FW10, IAM02, res

SCOPES = [f"team-{n:03d}" for n in range(300)]


@pytest.fixture(scope="module")
def store() -> ResultStore:
    store = ResultStore()
    store.configure([(meta, scope, 900.0) for meta in (FW01, FW10, IAM02) for scope in SCOPES])
    for n, scope in enumerate(SCOPES):
        store.record(scope, FW01, [res(FW01, scope, Verdict.FAIL if n % 3 == 0 else Verdict.PASS)], 1.0)
        store.record(scope, IAM02, [res(IAM02, scope, Verdict.PASS)], 1.0)
    return store


@pytest.fixture(scope="module")
def server(store: ResultStore) -> Iterator[MetricsServer]:
    served = serve(store)
    yield served
    served.stop()


def pairs(server: MetricsServer, query: str, pages: int = 100) -> tuple[list[tuple[str, str]], int]:
    """Every pair `query` lists, following the tokens; and how many pages it took."""
    found: list[tuple[str, str]] = []
    token = None
    for page in range(1, pages + 1):
        path = "/results?" + query + (f"&page_token={quote(token)}" if token else "")
        status, doc = get_json(server, path)
        assert status == 200, doc
        found += [(c["control"], c["scope"]) for c in doc["controls"]]
        token = doc["next_page_token"]
        if token is None:
            return found, page
    raise AssertionError(f"more than {pages} pages")


def test_pages_list_every_pair_once_in_order(server: MetricsServer, store: ResultStore) -> None:
    everything = [(s.control, s.scope) for s in store.states()]
    assert len(everything) == 900 > DEFAULT_LIMIT
    status, first = get_json(server, "/results")
    assert status == 200 and len(first["controls"]) == DEFAULT_LIMIT and first["next_page_token"]
    found, count = pairs(server, "limit=128")
    assert found == everything and count == 8  # 7 full pages and one of 4


def test_filters_apply_to_every_page(server: MetricsServer) -> None:
    found, count = pairs(server, "control=FW-01&status=fail&limit=7")
    assert found == [("FW-01", scope) for n, scope in enumerate(SCOPES) if n % 3 == 0]
    assert count == 15  # 100 pairs, 7 a page
    assert pairs(server, "area=iam&limit=5000")[0] == [("IAM-02", scope) for scope in SCOPES]
    assert pairs(server, "severity=low")[0] == [("FW-10", scope) for scope in SCOPES]


def test_a_page_ending_exactly_at_the_last_match_says_no_more(server: MetricsServer) -> None:
    status, doc = get_json(server, "/results?control=FW-01&status=fail&limit=100")
    assert status == 200 and len(doc["controls"]) == 100 and doc["next_page_token"] is None


def first_token(server: MetricsServer, query: str) -> Any:
    return get_json(server, "/results?" + query)[1]["next_page_token"]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("limit=0", "limit"),
        ("limit=5001", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("page_token=garbage!", "page_token"),
        ("page_token=eyJ2IjoxfQ", "page_token"),  # {"v":1}: ours in form, not in content
        ("area=network", "area"),
        ("severity=urgent", "severity"),
    ],
)
def test_bad_paging_is_400_naming_the_parameter(server: MetricsServer, query: str, names: str) -> None:
    status, doc = get_json(server, "/results?" + query)
    assert status == 400 and names in doc["error"]


def test_a_token_is_refused_with_other_filters(server: MetricsServer) -> None:
    token = first_token(server, "control=FW-01&limit=10")
    status, doc = get_json(server, f"/results?control=IAM-02&limit=10&page_token={quote(token)}")
    assert status == 400 and "other filters" in doc["error"]
    status, doc = get_json(server, f"/results?limit=20&control=FW-01&page_token={quote(token)}")
    assert status == 200 and doc["controls"][0]["scope"] == SCOPES[10]  # the limit may change between pages


def test_controlwatch_results_reads_every_page(server: MetricsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from monitor.commands import inspect_cmds
    from tests.test_cli import invoke

    monkeypatch.setattr(inspect_cmds, "PAGE_LIMIT", 100)  # nine pages of the 900 pairs
    code, out, _ = invoke("results", "--url", server.url, "--format", "json")
    assert code == 1  # failures, as `check` exits
    doc = json.loads(out)
    assert len(doc["controls"]) == 900 and "next_page_token" not in doc
    code, out, _ = invoke("results", "--url", server.url)
    assert code == 1 and out.strip().endswith("500 pass, 100 fail, 0 excepted, 0 error")


def test_a_results_json_has_every_field_of_the_result() -> None:
    """`Result.to_json` is written field by field: a field added to `Result` must show in `/results`."""
    from dataclasses import asdict

    from checks.model import Result

    excepted = Result("FW-01", "p", "//r", "s", Verdict.FAIL, "open", True, True, "accepted risk: ...")
    assert excepted.to_json() == {**asdict(excepted), "verdict": "fail"}
    plain = Result("FW-01", "p", "//r", "", Verdict.PASS, "closed")
    assert plain.to_json() == {k: v for k, v in asdict(plain).items() if k != "exception_reason"} | {"verdict": "pass"}
    # and read back: what a `/results` row adds beside the result (since when it fails) is not the result's
    for result in (excepted, plain):
        assert Result.from_json({**result.to_json(), "first_seen": "2026-01-01T00:00:00Z", "new": True}) == result
