"""Where a Compute resource lives, judged against `region.allowed` (the rule every REG control shares).

- A location is the last path segment of a `zone` or `region` URL
  (`.../zones/europe-west1-b` is `europe-west1-b`), or a storage location as written (`eu`).
- A zone's region is the zone without its `-[a-z]` suffix: `europe-west1-b` is in
  `europe-west1`. A `zone` field whose value is not `REGION-x` cannot be judged (error).
- Multi-regions (`eu`, `EU`, `us`, `asia`) and dual-regions (`eur4`, `nam4`, `asia1`) are
  never a single region: like every location they are compared verbatim with
  `region.allowed`, so `eu` passes only where `eu` itself is listed, and listing `eu` does not
  admit `europe-west1` (nor the other way round).
- A resource with several locations passes only when ALL of them are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from checks.kernel import JSON, Judgement, Unjudgeable
from checks.model import Verdict
from checks.names import last_segment

_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
_DUAL = re.compile(r"^[a-z]{3,4}\d+$", re.IGNORECASE)
_MULTI = frozenset({"eu", "us", "asia"})


@dataclass(frozen=True, slots=True)
class Location:
    """One location of a resource: where it was read, what it says, and the region it means."""

    field: str  # `zone`, `replicaZones[1]`, `storageLocations[0]`
    value: str  # as written (the last segment of a URL)
    region: str  # what is compared with `region.allowed`: a zone's region, else the value itself
    kind: str  # zone, region, multi-region, dual-region, location

    def describe(self) -> str:
        if self.kind == "zone":
            return f"{self.field} {self.value} (region {self.region})"
        if self.kind in ("multi-region", "dual-region"):
            return f"{self.field} {self.value} (a {self.kind})"
        return f"{self.field} {self.value}"


def region_of(location: str) -> str:
    """The region a location stands for: a zone's region, else the location itself."""
    name = last_segment(location)
    match = _ZONE.match(name)
    return match[1] if match else name


def classify(name: str) -> str:
    if _ZONE.match(name):
        return "zone"
    if _REGION.match(name):
        return "region"
    if name.casefold() in _MULTI:
        return "multi-region"
    if _DUAL.match(name):
        return "dual-region"
    return "location"


def read_location(field: str, value: object, *, zonal: bool = False) -> Location:
    """The location in `value` (a URL or a bare name); raises Unjudgeable when there is none."""
    if not isinstance(value, str) or not last_segment(value).strip():
        raise Unjudgeable(field, f"{value!r} is not a location")
    name = last_segment(value)
    kind = classify(name)
    if zonal and kind != "zone":
        raise Unjudgeable(field, f"{name!r} is not a zone (REGION-x, e.g. europe-west1-b)")
    return Location(field, name, region_of(name), kind)


def field_location(resource: JSON, key: str, *, zonal: bool = False) -> Location | None:
    """The location in `resource[key]`, None when the field is absent or empty."""
    value = resource.get(key)
    if value is None or value == "":
        return None
    return read_location(key, value, zonal=zonal)


def list_locations(resource: JSON, key: str, field: str = "", *, zonal: bool = False) -> list[Location]:
    """Every entry of the list `resource[key]` (empty when absent); `field` names it in reasons."""
    field = field or key
    values = resource.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise Unjudgeable(field, f"{values!r} is not a list")
    return [read_location(f"{field}[{i}]", value, zonal=zonal) for i, value in enumerate(values)]


def judge_locations(
    who: str,
    locations: Sequence[Location],
    allowed: Iterable[str],
    *,
    failures: Sequence[tuple[str, str]] = (),
) -> Judgement:
    """Pass only if every location is listed in `allowed` (case-insensitively, after zone -> region).

    `failures` are (subject, reason) findings beyond the locations themselves (REG-06's
    "no storage location"). Subject: the offending locations, else every location judged.
    """
    allowed = tuple(allowed)
    shown = ", ".join(allowed)
    folded = {entry.casefold() for entry in allowed}  # `EU` and `eu` are one multi-region
    outside = [loc for loc in locations if loc.region.casefold() not in folded]
    if outside or failures:
        subject = _distinct([loc.value for loc in outside] + [s for s, _ in failures])
        parts = [loc.describe() for loc in outside] + [why for _, why in failures]
        inside = [loc.describe() for loc in locations if loc not in outside]
        within = f"; allowed: {', '.join(inside)}" if inside else ""
        reason = f"{who} is located outside region.allowed ({shown}): {'; '.join(parts)}{within}"
        return Judgement(Verdict.FAIL, reason, subject)
    if not locations:
        return Judgement(Verdict.ERROR, f"{who}: cannot judge its location: none given", "")
    subject = _distinct([loc.value for loc in locations])
    described = ", ".join(loc.describe() for loc in locations)
    reason = f"{who} is located only within region.allowed ({shown}): {described}"
    return Judgement(Verdict.PASS, reason, subject)


def _distinct(values: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(values))
