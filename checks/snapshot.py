"""An immutable picture of one scope as one run saw it: the only input a control reads.

Per resource kind the snapshot holds either the resources (the API's own camelCase JSON
dicts) or the reason they could not be collected. A control never sees a half-collected
kind: asking for a failed kind raises `KindUnavailable`, which the runner turns into an
`error` result (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

from checks.kernel import JSON
from checks.kinds import Kind

__all__ = ["Kind", "KindData", "KindUnavailable", "Snapshot"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class KindData:
    """Outcome of collecting one kind: resources, or an error message (never both)."""

    resources: tuple[JSON, ...] = ()
    error: str | None = None
    note: str | None = None  # e.g. "Compute Engine API not enabled" for a disabled API

    @property
    def ok(self) -> bool:
        return self.error is None


class KindUnavailable(Exception):
    """A control asked for a kind that was not collected, or whose collection failed."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one run of one scope saw, and the moment it is judged at (`now`)."""

    scope: str
    now: datetime
    kinds: Mapping[str, KindData] = field(default_factory=dict)
    baseline: Mapping[str, Any] | None = None
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", MappingProxyType(dict(self.kinds)))

    def derive(self, name: str, compute: Callable[[Snapshot], T]) -> T:
        """`compute(self)`, computed once per snapshot under `name`: what several controls read
        the same way (the firewall rules parsed and indexed) is not recomputed by each of them.
        `compute` must be a pure function of the snapshot; what it raises is not kept."""
        if name not in self._derived:
            self._derived[name] = compute(self)
        value: T = self._derived[name]
        return value

    def get(self, kind: str) -> tuple[JSON, ...]:
        """The resources of `kind`; raises `KindUnavailable` if they are not known."""
        data = self.kinds.get(kind)
        if data is None:
            raise KindUnavailable(kind, "not collected")
        if data.error is not None:
            raise KindUnavailable(kind, data.error)
        return data.resources

    def note(self, kind: str) -> str | None:
        data = self.kinds.get(kind)
        return data.note if data is not None else None

    def failed_kinds(self, kinds: tuple[str, ...]) -> dict[str, str]:
        """Of `kinds`, those not usable, with why."""
        failed: dict[str, str] = {}
        for kind in kinds:
            data = self.kinds.get(kind)
            if data is None:
                failed[kind] = "not collected"
            elif data.error is not None:
                failed[kind] = data.error
        return failed
