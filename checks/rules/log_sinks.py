"""Which log sinks export every log of a project: LOG-02's reading of a sink, shared with LOG-04.

A sink counts when it is enabled, has a destination, no filter (or an empty one) and no
exclusions, and sits on the project, or on an ancestor with `includeChildren: true`.
LOG-02 asks whether one counts; LOG-04 judges the destination of each that counts, and
its collector reads exactly those destinations, so all three read sinks through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from checks.kernel import Unjudgeable, read_each
from checks.rules.log_filters import excerpt, is_empty
from checks.rules.network import flag


@dataclass(frozen=True, slots=True)
class Sink:
    name: str  # projects/p/sinks/s, folders/55/sinks/s
    destination: str
    inherited: bool
    shortfalls: tuple[str, ...]  # why it does not export every log of the project; empty: it does
    parent: str = ""  # projects/p, folders/55, organizations/4242

    @property
    def counts(self) -> bool:
        """Whether it exports every log of the project (LOG-02's test)."""
        return not self.shortfalls


def read_sink(parent: str, raw: object, inherited: bool) -> Sink:
    """One candidate sink, judged; raises Unjudgeable on data it cannot read."""
    if isinstance(raw, Unjudgeable):  # its parent could not be read (see `candidates`)
        raise raw
    if not isinstance(raw, dict):
        raise Unjudgeable("sink", f"{raw!r} is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise Unjudgeable("name", "absent" if name is None else f"{name!r} is not a sink name")
    why = []
    if inherited and not flag(raw, "includeChildren"):
        state = "false" if "includeChildren" in raw else "absent"
        why.append(f"does not include children (includeChildren: {state})")
    if flag(raw, "disabled"):
        why.append("is disabled (disabled: true)")
    destination, text, exclusions = raw.get("destination", ""), raw.get("filter", ""), raw.get("exclusions")
    if not isinstance(destination, str):
        raise Unjudgeable("destination", f"{destination!r} is not a string")
    if not destination.strip():
        why.append("has no destination (destination " + ("empty)" if "destination" in raw else "absent)"))
    if not isinstance(text, str):
        raise Unjudgeable("filter", f"{text!r} is not a string")
    if not is_empty(text):
        why.append(f"has a filter ({excerpt(text)})")
    if not isinstance(exclusions, list | None):
        raise Unjudgeable("exclusions", f"{exclusions!r} is not a list")
    if exclusions:
        names = ", ".join(str(e.get("name", "?")) if isinstance(e, dict) else "?" for e in exclusions)
        dormant = all(isinstance(e, dict) and e.get("disabled") is True for e in exclusions)
        why.append(f"has exclusions ({names}{'; all disabled, one click from live' if dormant else ''})")
    return Sink(sink_name(parent, name), destination, inherited, tuple(why), parent)


def sink_name(parent: str, name: str) -> str:
    """`folders/55/sinks/s` from the parent and the sink's id (a full name is kept)."""
    return name if "/sinks/" in name else f"{parent}/sinks/{name}"


class Candidate(NamedTuple):
    label: str  # the sink's name (`folders/55/sinks/s`), or where it sits when it has none
    parent: str
    raw: object  # the LogSink, or why its parent cannot be read
    inherited: bool


def candidates(project_id: str, own: Iterable[object], inherited: Iterable[object]) -> Iterator[Candidate]:
    """The project's sinks (LogSink), then its ancestors' (`{"parent": "folders/55", "sink": LogSink}`)."""
    project = f"projects/{project_id}"
    for i, sink in enumerate(own):
        yield _candidate(f"{project} sinks[{i}]", project, sink, False)
    for i, entry in enumerate(inherited):
        parent = entry.get("parent") if isinstance(entry, dict) else None
        if isinstance(parent, str) and parent.startswith(("folders/", "organizations/")):
            assert isinstance(entry, dict)
            yield _candidate(f"{parent} sinks (ancestorSinks[{i}])", parent, entry.get("sink"), True)
        else:
            problem = Unjudgeable("parent", f"{parent!r} is not a folder or organization")
            yield Candidate(f"ancestorSinks[{i}]", "", problem, True)


def _candidate(where: str, parent: str, raw: object, inherited: bool) -> Candidate:
    name = raw.get("name") if isinstance(raw, dict) else None
    return Candidate(sink_name(parent, name) if isinstance(name, str) and name else where, parent, raw, inherited)


def read_all(items: Iterable[Candidate]) -> list[tuple[Candidate, Sink | Unjudgeable]]:
    """Every candidate with its reading, or why it has none."""
    return read_each(items, lambda c: read_sink(c.parent, c.raw, c.inherited))


def counted(project_id: str, own: Iterable[object], inherited: Iterable[object]) -> list[Sink]:
    """The readable sinks that export every log of the project, the project's first."""
    readings = read_all(candidates(project_id, own, inherited))
    return [sink for _, sink in readings if isinstance(sink, Sink) and sink.counts]


# --- destinations (LOG-04) ----------------------------------------------------------------------

STORAGE = "storage"  # storage.googleapis.com/BUCKET
LOGGING = "logging"  # logging.googleapis.com/projects/P/locations/L/buckets/B
NOT_STORAGE = "not storage"  # bigquery.googleapis.com/…, pubsub.googleapis.com/…
UNKNOWN = "unknown"  # anything else (another project's log router, a typo): not judgeable

_NOT_STORAGE_HOSTS = ("bigquery.googleapis.com/", "pubsub.googleapis.com/")
_LOG_BUCKET = re.compile(r"^projects/([^/]+)/locations/([^/]+)/buckets/([^/]+)$")


class Destination(NamedTuple):
    service: str  # STORAGE, LOGGING, NOT_STORAGE or UNKNOWN
    name: str  # the bucket's name (Cloud Storage), the LogBucket's full name (Logging), else the destination
    project: str  # the project a Logging bucket sits in; "" when the destination does not say


def destination_of(destination: str) -> Destination:
    """What a sink's `destination` points at (`storage.googleapis.com/b` is bucket b)."""
    text = destination.strip()
    if text.startswith("storage.googleapis.com/"):
        bucket = text.removeprefix("storage.googleapis.com/")
        return Destination(STORAGE, bucket, "") if bucket and "/" not in bucket else Destination(UNKNOWN, text, "")
    if text.startswith("logging.googleapis.com/"):
        name = text.removeprefix("logging.googleapis.com/")
        found = _LOG_BUCKET.match(name)
        return Destination(LOGGING, name, found.group(1)) if found else Destination(UNKNOWN, text, "")
    if text.startswith(_NOT_STORAGE_HOSTS):
        return Destination(NOT_STORAGE, text, "")
    return Destination(UNKNOWN, text, "")
