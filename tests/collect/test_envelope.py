"""The envelope check on raw bodies: real answers pass as they are, every wrong shape is named."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from checks.kinds import FOLDER_ANSWER, POLICY_ANSWER, PROJECT_ANSWER, Kind
from monitor.collect import cloudlogging, hierarchy
from monitor.collect.calls import ANSWERS, Caller, CallFailed
from monitor.collect.envelope import judge, problem, record
from tests.collect.conftest import FAST_RETRY, Recorder

FIREWALLS = Kind.FIREWALLS.spec.envelope
DISKS = Kind.DISKS.spec.envelope
SINKS = Kind.SINKS.spec.envelope
FIREWALL = {"kind": "compute#firewall", "name": "ssh"}
DISK = {"kind": "compute#disk", "name": "data"}
NO_RESULTS = {"warning": {"code": "NO_RESULTS_ON_PAGE", "message": "none"}}

GOOD = [
    (FIREWALLS, {"kind": "compute#firewallList", "id": "p/firewalls", "selfLink": "https://x"}),  # empty: no `items`
    (FIREWALLS, {"kind": "compute#firewallList", "items": [FIREWALL], "nextPageToken": "2"}),
    (DISKS, {"kind": "compute#diskAggregatedList", "items": {"zones/a": {"disks": [DISK]}, "zones/b": NO_RESULTS}}),
    (DISKS, {"kind": "compute#diskAggregatedList", "items": {}, "unreachables": ["zones/c"]}),
    (SINKS, {}),  # Cloud Logging's answer when there is nothing to list
    (SINKS, {"sinks": [{"name": "_Required", "destination": "logging.googleapis.com/x"}]}),
    (POLICY_ANSWER, {"version": 1, "etag": "ACAB"}),  # an empty policy still has its etag
    (POLICY_ANSWER, {"etag": "BwX=", "bindings": [{"role": "roles/owner", "members": ["user:a@b.c"]}]}),
    (PROJECT_ANSWER, {"name": "projects/1", "projectId": "p", "labels": {"a": "b"}, "somethingNew": {"x": 1}}),
    (FOLDER_ANSWER, {"name": "folders/5", "parent": "organizations/4"}),
]

BAD = [
    (FIREWALLS, b"<html>500</html>", "not JSON: Expecting value: line 1 column 1 (char 0)"),
    (
        FIREWALLS,
        b'{"kind": "compute#firewallList", "ite',
        "not JSON: Unterminated string starting at: line 1 column 34 (char 33)",
    ),
    (FIREWALLS, "firewalls", "a string, expected an object"),
    (FIREWALLS, {"kind": "compute#firewallList", "items": {"a": FIREWALL}}, "'items' is an object, expected a list"),
    (FIREWALLS, {"kind": "compute#firewallList", "items": ["ssh"]}, "'items'[0] is a string, not an object"),
    (FIREWALLS, {"kind": "compute#firewallList", "items": [{"kind": "compute#firewall"}]}, "'items'[0] has no 'name'"),
    (
        FIREWALLS,
        {"kind": "compute#firewallList", "items": [FIREWALL, {**FIREWALL, "kind": "compute#network"}]},
        "'items'[1] has kind 'compute#network', expected 'compute#firewall'",
    ),
    (FIREWALLS, {"kind": "compute#firewallList", "partial": True}, "unexpected field(s) 'partial'"),
    (DISKS, {"kind": "compute#diskAggregatedList", "items": []}, "'items' is an array, expected an object of scopes"),
    (
        DISKS,
        {"kind": "compute#diskAggregatedList", "items": {"zones/a": [DISK]}},
        "items['zones/a'] is an array, not an object",
    ),
    (
        DISKS,
        {"kind": "compute#diskAggregatedList", "items": {"zones/a": {"disks": [{"name": "d"}]}}},
        "items['zones/a']['disks'][0] has no kind, expected 'compute#disk'",
    ),
    (SINKS, {"sinks": [{"name": "s"}]}, "'sinks'[0] has no 'destination'"),
    (SINKS, {"metrics": [{"name": "m", "filter": "f"}]}, "unexpected field(s) 'metrics'"),
    (POLICY_ANSWER, {"bindings": [{"role": "roles/owner", "members": ["user:a@b.c"]}]}, "no 'etag'"),
    (POLICY_ANSWER, {"etag": "", "bindings": []}, "no 'etag'"),
    (POLICY_ANSWER, {"etag": "B=", "bindings": [{"role": "roles/x", "members": []}]}, "'bindings'[0] has no 'members'"),
    (
        POLICY_ANSWER,
        {"etag": "BwX=", "auditConfigs": None},
        "'auditConfigs' is null (an API leaves out what it has not)",
    ),
    (POLICY_ANSWER, {"etag": "W/1", "name": "projects/1", "projectId": "p"}, "unexpected field(s) 'name', 'projectId'"),
    (PROJECT_ANSWER, {"name": "projects/1"}, "no 'projectId'"),
    (PROJECT_ANSWER, {"name": "organizations/4", "projectId": "p"}, "name 'organizations/4' is not a projects/… name"),
    (FOLDER_ANSWER, {"name": "projects/1", "parent": "folders/5"}, "name 'projects/1' is not a folders/… name"),
]


def _raw(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


@pytest.mark.parametrize(("envelope", "body"), GOOD, ids=range(len(GOOD)))
def test_answers_of_the_declared_shape_pass(envelope: Any, body: Any) -> None:
    assert problem(envelope, _raw(body)) is None


@pytest.mark.parametrize(("envelope", "body", "expected"), BAD, ids=range(len(BAD)))
def test_every_wrong_shape_is_named(envelope: Any, body: Any, expected: str) -> None:
    assert problem(envelope, _raw(body)) == expected


def test_a_caller_that_saw_no_body_believes_nothing() -> None:
    """An answer that did not come through a hooked session (or came from no HTTP call) is not believed."""
    call = Caller(
        service="compute",
        method="compute.firewalls.list",
        observer=Recorder(),
        policy=FAST_RETRY,
        call_timeout=1.0,
        deadline=time.monotonic() + 5.0,
        envelope=FIREWALLS,
    )

    with pytest.raises(CallFailed) as caught:
        call(lambda timeout: {"items": []})

    assert str(caught.value) == "compute.firewalls.list: malformed response body: no 2xx body was seen to check"
    assert caught.value.status == "200"


def test_a_derived_call_is_checked_against_its_own_method_s_answer() -> None:
    call = Caller(
        service="cloudresourcemanager",
        method="cloudresourcemanager.projects.getIamPolicy",
        observer=Recorder(),
        policy=FAST_RETRY,
        call_timeout=1.0,
        deadline=time.monotonic() + 5.0,
        envelope=POLICY_ANSWER,
    )

    assert call.derive("cloudresourcemanager.folders.get").envelope == FOLDER_ANSWER
    assert call.derive("cloudresourcemanager.organizations.getIamPolicy").envelope == POLICY_ANSWER


def test_a_derived_call_of_a_method_without_a_declared_answer_is_refused_not_unchecked() -> None:
    """A walk's read missing from the answer table used to get no envelope: believed unchecked."""
    call = Caller(
        service="cloudresourcemanager",
        method="cloudresourcemanager.projects.getIamPolicy",
        observer=Recorder(),
        policy=FAST_RETRY,
        call_timeout=1.0,
        deadline=time.monotonic() + 5.0,
        envelope=POLICY_ANSWER,
    )

    with pytest.raises(LookupError, match=r"^cloudresourcemanager\.folders\.search: no answer envelope declared"):
        call.derive("cloudresourcemanager.folders.search")


def test_every_method_a_collector_can_call_has_its_answer_envelope() -> None:
    """The rows' methods and every read a walk derives (`READS`, built by the walks' own method-id helpers)."""
    called = {kind.spec.method for kind in Kind} | hierarchy.READS | cloudlogging.READS

    assert called <= set(ANSWERS), sorted(called - set(ANSWERS))
    assert hierarchy.READS == {
        "cloudresourcemanager.projects.get",
        "cloudresourcemanager.folders.get",
        "cloudresourcemanager.folders.getIamPolicy",
        "cloudresourcemanager.organizations.get",
        "cloudresourcemanager.organizations.getIamPolicy",
    }
    assert cloudlogging.READS == {"logging.folders.sinks.list", "logging.organizations.sinks.list"}


def _answer(body: bytes, parsed: Any) -> Callable[[float], Any]:
    """An attempt whose HTTP answer had `body` (handed to the hook as a session would) and that returns `parsed`."""

    def attempt(timeout: float) -> Any:
        record(SimpleNamespace(status_code=200, content=body))
        return parsed

    return attempt


def _caller(service: str, method: str, envelope: Any, **bounds: int) -> Caller:
    return Caller(
        service=service,
        method=method,
        observer=Recorder(),
        policy=FAST_RETRY,
        call_timeout=1.0,
        deadline=time.monotonic() + 5.0,
        envelope=envelope,
        **bounds,
    )


def _sinks_caller(**bounds: int) -> Caller:
    return _caller("logging", "logging.projects.sinks.list", SINKS, **bounds)


def test_a_body_the_client_already_parsed_is_checked_as_parsed_not_parsed_again() -> None:
    sinks = {"sinks": [{"name": "a", "destination": "storage.googleapis.com/b"}]}
    # The raw bytes are not looked at again: only the client's parse of them is checked.
    assert _sinks_caller()(_answer(b"<not parsed again>", sinks), parsed=True) == sinks

    with pytest.raises(CallFailed, match=r"malformed response body: not JSON"):
        _sinks_caller()(_answer(b"<not parsed again>", sinks))
    with pytest.raises(CallFailed, match=r"malformed response body: 'sinks'\[0\] has no 'destination'"):
        _sinks_caller()(_answer(b"{}", {"sinks": [{"name": "a"}]}), parsed=True)
    with pytest.raises(CallFailed, match=r"malformed response body: no 2xx body was seen to check"):
        _sinks_caller()(lambda timeout: sinks, parsed=True)  # still no belief without a hooked answer


def test_a_caller_counts_the_items_of_each_answer_and_refuses_past_max_items() -> None:
    call = _sinks_caller(max_items=3)
    two = {"sinks": [{"name": n, "destination": "d"} for n in ("a", "b")]}

    call(_answer(json.dumps(two).encode(), None))
    assert (call.items, call.answers) == (2, 1)
    with pytest.raises(CallFailed) as caught:
        call(_answer(b"{}", two), parsed=True)

    assert str(caught.value) == (
        "logging.projects.sinks.list: more than max_items 3 resources (4 in the first 2 pages): refused"
    )
    assert call.derive("logging.folders.sinks.list").max_items == 3


def test_an_aggregated_answer_counts_the_items_of_every_scope() -> None:
    body = {
        "kind": "compute#diskAggregatedList",
        "items": {"zones/a": {"disks": [DISK, DISK]}, "regions/b": {"disks": [DISK]}, "zones/c": NO_RESULTS},
    }
    assert judge(DISKS, _raw(body)) == (None, 3)
    assert judge(FIREWALLS, _raw({"kind": "compute#firewallList"})) == (None, 0)
    assert judge(PROJECT_ANSWER, b"", {"name": "projects/1", "projectId": "p"}) == (None, 0)


def _firewalls_caller() -> Caller:
    return _caller("compute", "compute.firewalls.list", FIREWALLS)


def _http_answer(body: bytes, handed: list[bytes]) -> Callable[[float], Any]:
    """An attempt whose session got `body`; the bytes the client then reads are kept in `handed`."""

    def attempt(timeout: float) -> Any:
        response = requests.models.Response()
        response.status_code, response._content = 200, body
        record(response)
        handed.append(response.content)
        return object()  # the client's message: never read by a lean listing

    return attempt


def test_a_lean_call_hands_the_client_the_envelope_and_keeps_the_items_parsed_once() -> None:
    page = {"kind": "compute#firewallList", "items": [FIREWALL, {**FIREWALL, "name": "rdp"}], "nextPageToken": "2"}
    body = json.dumps(page).encode()
    handed: list[bytes] = []
    call = _firewalls_caller()

    call(_http_answer(body, handed), lean=True)

    assert json.loads(handed[0]) == {"kind": "compute#firewallList", "nextPageToken": "2"}
    assert call.answer == page and call.items == 2
    call(_http_answer(body, handed))  # not lean: the client reads the body whole
    assert handed[1] == body and call.answer == page


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>500</html>", "not JSON"),
        (b'{"kind":"compute#firewallList","items":[{}]}', "'items'[0] has no kind, expected 'compute#firewall'"),
        (b'{"kind":"compute#firewallList","items":{"a":1}}', "'items' is an object, expected a list"),
    ],
)
def test_a_lean_call_refuses_what_a_full_one_refuses(body: bytes, expected: str) -> None:
    handed: list[bytes] = []
    with pytest.raises(CallFailed, match=re.escape(expected)):
        _firewalls_caller()(_http_answer(body, handed), lean=True)
    if not body.startswith(b"{"):
        assert handed == [body]  # what is no JSON object reaches the client whole, for it to refuse too
