"""Control metadata and an explicit registry: no import-time global side effects.

`@control(...)` wraps a pure function with its metadata; `checks.default_registry()`
gathers the area modules' controls into a `Registry`, rejecting duplicate ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from checks.model import Area, Finding, Severity
from checks.params import Params
from checks.snapshot import Snapshot

ControlFunc = Callable[[Snapshot, Params], Iterable[Finding]]


CisRef = tuple[str, str]
"""One CIS Google Cloud Platform Foundation Benchmark recommendation: (benchmark version, id),
e.g. ("4.0", "3.6"). v5.0 renumbered v4.0, so a control names each version's id separately."""

CIS_VERSIONS = ("4.0", "5.0")
_CIS_ID = re.compile(r"[1-9][0-9]*(\.[1-9][0-9]*)+")


@dataclass(frozen=True, slots=True)
class References:
    """What a control evidences: the CIS recommendations it judges (none when CIS has no
    recommendation for it), SOC 2 criteria and the Security Command Center finding category."""

    cis: tuple[CisRef, ...] = ()
    soc2: tuple[str, ...] = ()
    sha: str = ""

    def __post_init__(self) -> None:
        # Checked at import: a misspelt id would otherwise point an auditor at the wrong recommendation.
        for version, rec in self.cis:
            if version not in CIS_VERSIONS or not _CIS_ID.fullmatch(rec):
                raise ValueError(f"CIS reference {(version, rec)!r} is not a (version, dotted id) of {CIS_VERSIONS}")
        if len(set(self.cis)) != len(self.cis):
            raise ValueError(f"CIS references {self.cis!r} repeat an entry")

    def cis_ids(self, version: str) -> tuple[str, ...]:
        """The recommendation ids of one benchmark version, in declared order."""
        return tuple(rec for v, rec in self.cis if v == version)

    def cis_text(self) -> str:
        """Compact form for tables: `4.0: 3.6 · 5.0: 3.6`; empty when CIS has no recommendation."""
        parts = [f"{v}: {', '.join(ids)}" for v in CIS_VERSIONS if (ids := self.cis_ids(v))]
        return " · ".join(parts)


_NO_REFERENCES = References()


@dataclass(frozen=True, slots=True)
class ControlMeta:
    id: str
    title: str
    area: Area
    severity: Severity
    kinds: tuple[str, ...]
    rationale: str
    remediation: str
    references: References = _NO_REFERENCES
    params: tuple[str, ...] = ()  # dotted keys under `params:` the control reads
    unit: str = "resource"  # what one result is about: firewall rule, instance, grant, ...
    logic_version: int = 1  # bump when the judgement changes, so evidence says which logic judged
    # The control's definition as `docs/controls.md` and `controls -v` print it, in our words
    # from the benchmark's audit procedure and Google's API reference:
    holds: str = ""  # what must hold, one sentence, of one unit
    logic: str = ""  # the exact logic: which fields decide, in what order, and what is out of scope
    unknown: str = ""  # what unknown, unreadable or missing data gives (an `error`, never a pass)


@dataclass(frozen=True, slots=True)
class Control:
    meta: ControlMeta
    func: ControlFunc = field(repr=False)

    def __call__(self, snapshot: Snapshot, params: Params) -> Iterable[Finding]:
        return self.func(snapshot, params)


def control(
    *,
    id: str,
    title: str,
    area: Area,
    severity: Severity,
    kinds: tuple[str, ...],
    rationale: str,
    remediation: str,
    references: References = _NO_REFERENCES,
    params: tuple[str, ...] = (),
    unit: str = "resource",
    logic_version: int = 1,
    holds: str = "",
    logic: str = "",
    unknown: str = "",
) -> Callable[[ControlFunc], Control]:
    """Decorator: turn a pure function into a `Control` carrying its `ControlMeta` (the fields,
    typed one by one, so that a misspelt or mistyped declaration fails the type check)."""
    meta = ControlMeta(
        id=id,
        title=title,
        area=area,
        severity=severity,
        kinds=kinds,
        rationale=rationale,
        remediation=remediation,
        references=references,
        params=params,
        unit=unit,
        logic_version=logic_version,
        holds=holds,
        logic=logic,
        unknown=unknown,
    )

    def wrap(func: ControlFunc) -> Control:
        return Control(meta, func)

    return wrap


class Registry:
    """The controls this process knows, in a stable order (by id)."""

    def __init__(self, controls: Iterable[Control] = ()) -> None:
        self._controls: dict[str, Control] = {}
        for item in controls:
            self.add(item)

    def add(self, item: Control) -> None:
        if item.meta.id in self._controls:
            raise ValueError(f"duplicate control id {item.meta.id}")
        self._controls[item.meta.id] = item

    def get(self, control_id: str) -> Control:
        try:
            return self._controls[control_id]
        except KeyError:
            raise KeyError(f"unknown control {control_id!r}") from None

    def __contains__(self, control_id: object) -> bool:
        return control_id in self._controls

    def __iter__(self) -> Iterator[Control]:
        return iter(sorted(self._controls.values(), key=lambda c: _sort_key(c.meta.id)))

    def __len__(self) -> int:
        return len(self._controls)

    def ids(self) -> list[str]:
        return [c.meta.id for c in self]


def _sort_key(control_id: str) -> tuple[str, int]:
    area, _, number = control_id.partition("-")
    return (area, int(number) if number.isdigit() else 0)


def controls_in(module_values: Iterable[object]) -> list[Control]:
    """The `Control` objects among a module's attributes (used by `default_registry`)."""
    return [value for value in module_values if isinstance(value, Control)]
