"""The control kernel: the one RFC 3339 reader, and the bulkhead that turns unreadable data into
`error` for its own resource only, never into a pass."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import MISSING, fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from checks.kernel import JSON, Judgement, Unjudgeable, attempt, parse_time, per_reading, per_resource, read_each
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import ControlMeta, References, control
from checks.snapshot import Kind, Snapshot
from monitor.drift.audit_poller import _parse_time as audit_time
from monitor.run.runner import run_control
from monitor.standin import rfc3339
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0,
       *, offset: timedelta = timedelta(0)) -> datetime:  # fmt: skip
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone(offset) if offset else UTC)


# --- parse_time --------------------------------------------------------------------------------

READABLE = {
    "zulu": ("2026-11-25T12:00:00Z", at(2026, 11, 25, 12)),
    "lower-case-t-and-z": ("2026-11-25t12:00:00z", at(2026, 11, 25, 12)),
    "compute-offset": ("2025-01-15T09:30:00.000-08:00", at(2025, 1, 15, 9, 30, offset=timedelta(hours=-8))),
    "positive-offset": ("2026-11-25T12:00:00+05:30", at(2026, 11, 25, 12, offset=timedelta(hours=5, minutes=30))),
    "minus-zero-is-utc": ("2026-11-25T12:00:00-00:00", at(2026, 11, 25, 12)),
    "milliseconds": ("2026-11-25T12:00:00.123+01:00", at(2026, 11, 25, 12, 0, 0, 123000, offset=timedelta(hours=1))),
    "nanoseconds-cut": ("2025-02-01T10:00:00.123456789Z", at(2025, 2, 1, 10, 0, 0, 123456)),
    "cut-not-rounded": ("2025-02-01T10:00:00.9999999Z", at(2025, 2, 1, 10, 0, 0, 999999)),
    "one-digit-fraction": ("2025-02-01T10:00:00.5Z", at(2025, 2, 1, 10, 0, 0, 500000)),
    "leap-day": ("2024-02-29T00:00:00Z", at(2024, 2, 29)),
}

UNREADABLE = {
    "not-a-string": 1764072000,
    "none": None,
    "empty": "",
    "no-offset": "2026-11-25T12:00:00",
    "date-only": "2026-11-25",
    "space-separator": "2026-11-25 12:00:00Z",
    "basic-format": "20261125T120000Z",
    "offset-without-colon": "2026-11-25T12:00:00+0100",
    "dot-without-digits": "2026-11-25T12:00:00.Z",
    "no-seconds": "2026-11-25T12:00Z",
    "february-30": "2026-02-30T12:00:00Z",
    "not-a-leap-year": "2025-02-29T00:00:00Z",
    "hour-24": "2026-11-25T24:00:00Z",
    "second-60": "2026-11-25T12:00:60Z",
    "offset-of-a-day": "2026-11-25T12:00:00+24:00",
    "leading-space": " 2026-11-25T12:00:00Z",
    "trailing-newline": "2026-11-25T12:00:00Z\n",
    "trailing-text": "2026-11-25T12:00:00Zgarbage",
    "non-ascii-digits": "٢٠٢٦-11-25T12:00:00Z",
}


@pytest.mark.parametrize(("text", "expected"), READABLE.values(), ids=READABLE.keys())
def test_parse_time_reads_rfc3339(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected and parsed is not None
    assert parsed.utcoffset() == expected.utcoffset()  # the offset as written, not converted


@pytest.mark.parametrize("text", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_parse_time_gives_none_for_anything_else(text: object) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize("text", [*(t for t, _ in READABLE.values()), *UNREADABLE.values()],
                         ids=[*READABLE, *UNREADABLE])  # fmt: skip
def test_every_reader_of_api_times_reads_them_alike(text: Any) -> None:
    """The stand-in and the audit poller read times through the kernel: one grammar."""
    assert audit_time(text) == parse_time(text)
    if isinstance(text, str):
        assert rfc3339.parse(text) == parse_time(text)


# --- attempt and read_each ---------------------------------------------------------------------


def _port(value: object) -> int:
    if not isinstance(value, int):
        raise Unjudgeable("port", f"{value!r} is not a number")
    return value


def test_attempt_keeps_the_unjudgeable_as_a_value() -> None:
    assert attempt(_port, 22) == 22
    error = attempt(_port, "ssh")
    assert isinstance(error, Unjudgeable) and (error.field, error.message) == ("port", "'ssh' is not a number")


def test_attempt_lets_a_bug_through() -> None:
    with pytest.raises(ZeroDivisionError):
        attempt(lambda: 1 // 0)


def test_read_each_reads_past_an_unreadable_item() -> None:
    readings = read_each([22, "x", 443], _port)
    assert [item for item, _ in readings] == [22, "x", 443]
    assert [reading if isinstance(reading, int) else reading.field for _, reading in readings] == [22, "port", 443]


# --- the per-resource bulkhead -----------------------------------------------------------------


def rule(name: str, **fields: Any) -> JSON:
    return {"name": name, "selfLink": PROJECT + f"global/firewalls/{name}", **fields}


def _judge_priority(raw: JSON, who: str) -> Judgement | None:
    """Fails priority 0, passes the rest; skips rules marked out of scope."""
    if raw.get("skip"):
        return None
    priority = raw.get("priority", 1000)
    if not isinstance(priority, int):
        raise Unjudgeable("priority", f"{priority!r} is not a number")
    if priority == 0:
        return Judgement(FAIL, f"{who} has priority 0", "0")
    return Judgement(PASS, f"{who} has priority {priority}", str(priority), latent=raw.get("latent", False))


def judged(resources: list[JSON]) -> list[Finding]:
    return list(per_resource(resources, "shop-prod", "firewalls", "rule", _judge_priority))


def test_each_resource_gets_its_own_finding_in_order() -> None:
    found = judged([rule("b", priority=0), rule("a", priority=10, latent=True)])
    assert found == [
        Finding("//compute.googleapis.com/projects/shop-prod/global/firewalls/b", FAIL, "rule b has priority 0", "0"),
        Finding("//compute.googleapis.com/projects/shop-prod/global/firewalls/a", PASS, "rule a has priority 10", "10",
                latent=True),
    ]  # fmt: skip


def test_unreadable_data_is_an_error_for_that_resource_only() -> None:
    found = judged([rule("a", priority="high"), rule("b", priority=0), rule("c")])
    assert [(f.verdict, f.subject) for f in found] == [(ERROR, "priority"), (FAIL, "0"), (PASS, "1000")]
    assert found[0].reason == "rule a: cannot judge priority: 'high' is not a number"
    assert found[0].resource.endswith("/global/firewalls/a")


def test_out_of_scope_resources_get_no_finding() -> None:
    assert [f.reason for f in judged([rule("a", skip=True), rule("b")])] == ["rule b has priority 1000"]


def test_a_resource_without_name_or_link_is_still_named() -> None:
    (found,) = judged([{"priority": "x"}])
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/global/firewalls/?"
    assert found.reason.startswith("rule ?: cannot judge priority")


def test_a_failed_reading_is_an_error_and_the_judge_is_not_called() -> None:
    calls: list[str] = []

    def judge(priority: int, who: str) -> Judgement:
        calls.append(who)
        return Judgement(PASS, f"{who}: {priority}")

    raws = [rule("a", priority="x"), rule("b", priority=7)]
    readings = read_each(raws, lambda raw: _port(raw["priority"]))
    found = list(per_reading(readings, "shop-prod", "firewalls", "rule", judge))
    assert [(f.verdict, f.reason) for f in found] == [
        (ERROR, "rule a: cannot judge port: 'x' is not a number"), (PASS, "rule b: 7")]
    assert calls == ["rule b"]


@control(
    id="T-01", title="Kernel-built", area=Area.FW, severity=Severity.LOW, kinds=(Kind.FIREWALLS,),
    rationale="r", remediation="gcloud x", unit="firewall rule",
)
def _priorities(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    return per_resource(snapshot.get(Kind.FIREWALLS), snapshot.scope, "firewalls", "rule", _judge_priority)


def test_through_the_runner_unreadable_data_never_passes() -> None:
    snapshot = make_snapshot({"compute": {"firewalls": [rule("a", priority=[1]), rule("b", priority=0)]}})
    results = run_control(_priorities, snapshot, Params())
    assert [(r.resource.rsplit("/", 1)[-1], r.verdict) for r in results] == [("a", ERROR), ("b", FAIL)]


@pytest.mark.parametrize("garbage", ["not-an-object", 7, None], ids=["string", "number", "null"])
def test_unexpected_data_is_a_bug_the_runner_reports_as_error(garbage: Any) -> None:
    """Data no reader expected (a resource that is not an object) is not judged per resource:
    the control fails as a whole, with `error`, and the good resource beside it is not a pass."""
    snapshot = make_snapshot({"compute": {"firewalls": [rule("b", priority=5), garbage]}})
    (result,) = run_control(_priorities, snapshot, Params())
    assert result.verdict is ERROR and result.reason.startswith("control raised AttributeError")


# --- the declaration ---------------------------------------------------------------------------


def test_control_declares_every_meta_field_with_the_same_default() -> None:
    """`control(...)` spells out ControlMeta's fields for the type checker: none missing, none extra."""
    declared = inspect.signature(control).parameters
    assert list(declared) == [f.name for f in fields(ControlMeta)]
    for field in fields(ControlMeta):
        assert declared[field.name].kind is inspect.Parameter.KEYWORD_ONLY
        assert declared[field.name].default == (inspect.Parameter.empty if field.default is MISSING else field.default)


def test_control_wraps_a_pure_function_with_its_meta() -> None:
    meta = _priorities.meta
    assert (meta.id, meta.title, meta.area, meta.unit, meta.params, meta.logic_version) == (
        "T-01", "Kernel-built", Area.FW, "firewall rule", (), 1)
    assert meta.references == References() and _priorities.func.__name__ == "_priorities"
