"""What every control is built from, so that adding one is a pure judge and a declaration.

- `JSON`: a resource as the APIs return it (camelCase dicts, never client objects).
- `Unjudgeable`: raised by a reader on data it cannot judge with certainty, naming the field.
- `parse_time`: the one RFC 3339 reader (Compute writes `-08:00`, Logging nanoseconds).
- The bulkhead: `per_resource` gives one finding per resource from a judge that sees one
  resource; whatever that resource holds that cannot be read becomes its `error` result
  (fail closed), never a pass and never a reason to skip the others. Any other exception is
  a bug and goes up to the runner, which turns the whole control into `error`. Findings are
  yielded one resource at a time: between them the runner checks the run's evaluation
  deadline (`monitor.run.budget`), which a pure control never reads itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ParamSpec, TypeAlias, TypeVar

from checks.model import Finding, Verdict
from checks.names import compute_name

JSON = dict[str, Any]

T = TypeVar("T")
Item = TypeVar("Item")
P = ParamSpec("P")

# Date, clock, fraction (any number of digits), offset; `T` and `Z` in either case (RFC 3339 §5.6).
_TIME = re.compile(r"(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)", re.ASCII)


class Unjudgeable(ValueError):
    """A resource holds data that cannot be judged; `field` says where (`allowed[0].ports[1]`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def reason(self, who: str) -> str:
        """`rule r: cannot judge priority: 'x' is not a priority`: how an error result says it."""
        return f"{who}: cannot judge {self.field}: {self.message}"


def parse_time(text: object) -> datetime | None:
    """An aware datetime (fraction cut, not rounded, to microseconds), or None when `text` is
    not an RFC 3339 timestamp with its offset: callers decide what an unreadable time means."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    day, clock, fraction, offset = match.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=_offset(offset))
    except ValueError:  # 2025-02-30, 24:00:00, an offset of 24 hours or more
        return None
    return moment + timedelta(microseconds=int((fraction[1:] + "000000")[:6])) if fraction else moment


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


# --- the bulkhead ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a judge says about one resource; the bulkhead adds which resource it is."""

    verdict: Verdict
    reason: str
    subject: str = ""
    latent: bool = False

    def at(self, resource: str) -> Finding:
        return Finding(resource, self.verdict, self.reason, self.subject, self.latent)


# A judge: (what it judges, how reasons name it: "rule allow-ssh") -> its judgement, or None
# when the resource is out of the control's scope. It raises Unjudgeable on unreadable data.
Judge: TypeAlias = Callable[[T, str], Judgement | None]


def attempt(read: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T | Unjudgeable:
    """`read(...)`, or the Unjudgeable saying why it cannot be read: kept as a value, so that
    one unreadable item never hides what the others say."""
    try:
        return read(*args, **kwargs)
    except Unjudgeable as error:
        return error


def read_each(items: Iterable[Item], read: Callable[[Item], T]) -> list[tuple[Item, T | Unjudgeable]]:
    """Every item with its reading, or why it has none."""
    return [(item, attempt(read, item)) for item in items]


def per_resource(
    resources: Iterable[JSON], scope: str, collection: str, noun: str, judge: Judge[JSON]
) -> Iterator[Finding]:
    """One finding per Compute resource of `collection` (`firewalls`), named `noun NAME` in reasons."""
    return per_reading(((raw, raw) for raw in resources), scope, collection, noun, judge)


def per_reading(
    readings: Iterable[tuple[JSON, T | Unjudgeable]], scope: str, collection: str, noun: str, judge: Judge[T]
) -> Iterator[Finding]:
    """`per_resource` over resources read beforehand (firewall rules, which judge each other:
    see `read_each`); a resource that could not be read is an `error` like one the judge cannot."""
    for raw, reading in readings:
        resource, who = compute_name(raw, scope, collection), f"{noun} {raw.get('name', '?')}"
        judged = reading if isinstance(reading, Unjudgeable) else attempt(judge, reading, who)
        if isinstance(judged, Unjudgeable):
            yield Finding(resource, Verdict.ERROR, judged.reason(who), judged.field)
        elif judged is not None:
            yield judged.at(resource)
