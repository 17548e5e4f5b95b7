"""The one paging loop: one observed call per page, tokens passed on, a repeated token fails."""

from __future__ import annotations

import time
from typing import Any

import pytest

from monitor.collect.calls import Caller, CallFailed
from monitor.collect.paging import json_token, pages
from tests.collect.conftest import FAST_RETRY, Recorder


def _caller(recorder: Recorder) -> Caller:
    return Caller(
        service="logging",
        method="logging.projects.sinks.list",
        observer=recorder,
        policy=FAST_RETRY,
        call_timeout=1.0,
        deadline=time.monotonic() + 5.0,
    )


class _Api:
    """Serves `bodies` in turn and remembers the token and timeout of each request."""

    def __init__(self, *bodies: dict[str, Any]) -> None:
        self.bodies = list(bodies)
        self.asked: list[tuple[str, float]] = []

    def page(self, token: str, timeout: float) -> dict[str, Any]:
        self.asked.append((token, timeout))
        return self.bodies[len(self.asked) - 1]


def test_each_page_is_one_observed_call_and_the_token_is_passed_on() -> None:
    recorder = Recorder()
    api = _Api({"items": [1], "nextPageToken": "a"}, {"items": [2], "nextPageToken": "b"}, {"items": [3]})

    found = [item for body in pages(_caller(recorder), api.page, json_token) for item in body["items"]]

    assert found == [1, 2, 3]
    assert api.asked == [("", 1.0), ("a", 1.0), ("b", 1.0)]
    assert recorder.codes("logging.projects.sinks.list") == ["200"] * 3


def test_a_token_handed_back_twice_is_a_paging_loop() -> None:
    api = _Api({"nextPageToken": "a"}, {"nextPageToken": "b"}, {"nextPageToken": "a"}, {})

    with pytest.raises(CallFailed) as caught:
        list(pages(_caller(Recorder()), api.page, json_token))

    assert str(caught.value) == "logging.projects.sinks.list: the API returned page token 'a' twice (paging loop)"
    assert len(api.asked) == 3


def test_the_next_page_waits_until_this_one_is_read() -> None:
    api = _Api({"nextPageToken": "a"}, {})
    listing = pages(_caller(Recorder()), api.page, json_token)

    next(listing)
    assert len(api.asked) == 1  # a consumer that fails this page never triggers the next call
    assert list(listing) == [{}] and len(api.asked) == 2
