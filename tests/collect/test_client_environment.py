"""The clients read the environment's proxies and CA bundle once, at build, not on every request."""

from __future__ import annotations

import pytest
import requests.sessions

from checks.snapshot import Kind, KindData
from monitor.collect import collect_snapshot, make_clients
from monitor.standin import StandIn
from tests.collect.conftest import NOW, PROJECT, Recorder, fast

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY")


def firewalls(standin: StandIn) -> KindData:
    clients = make_clients(standin.url)
    snapshot = collect_snapshot(PROJECT, (Kind.FIREWALLS,), clients, settings=fast(), observer=Recorder(), now=NOW)
    return snapshot.snapshot.kinds[Kind.FIREWALLS]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_proxy_in_the_environment_is_used(standin: StandIn, clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    data = firewalls(standin)
    assert data.error is not None and "connection" in data.error.lower()
    assert standin.requests_for(Kind.FIREWALLS.spec.method) == []  # it went to the proxy, not the stand-in


def test_no_proxy_still_bypasses_it(standin: StandIn, clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    clean_environment.setenv("NO_PROXY", "127.0.0.1")
    assert firewalls(standin).ok


def test_the_environment_is_not_read_per_request(standin: StandIn, clean_environment: pytest.MonkeyPatch) -> None:
    lookups: list[str] = []
    real = requests.sessions.get_netrc_auth
    clean_environment.setattr(requests.sessions, "get_netrc_auth", lambda url, *a: lookups.append(url) or real(url))
    assert firewalls(standin).ok
    assert lookups == []
    # Pinned when a client is built: a proxy set afterwards does not reach it.
    clients = make_clients(standin.url)
    clients.get("firewalls")
    clean_environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    collection = collect_snapshot(PROJECT, (Kind.FIREWALLS,), clients, settings=fast(), observer=Recorder(), now=NOW)
    assert collection.snapshot.kinds[Kind.FIREWALLS].ok
