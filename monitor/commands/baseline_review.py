"""What `baseline diff` shows and `baseline approve` asks about: per scope and DRIFT control,
the live state against its approved baseline, field by field, or, where none was approved,
the whole live state as `approve` would record it.

Why one review for both commands: the preview before an approval must be exactly what
`diff` shows, so that what was reviewed is what gets recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.driftstate import AREA_ITEM, CONTROL_AREAS, STATE_VERSION, Change, diff, show
from monitor.commands.common import fail

# DRIFT-01's items are the VPC rules and the project's network firewall policies
_UNITS = {
    "DRIFT-01": ("firewall rule or policy", "firewall rules and policies"),
    "DRIFT-02": ("grant", "grants"),
    "DRIFT-03": ("disk", "disks"),
}


def counted(count: int, control: str) -> str:
    """`4 firewall rules and policies`, `1 grant`."""
    one, many = _UNITS.get(control, ("item", "items"))
    return f"{count} {one if count == 1 else many}"


def items_of(state: Mapping[str, Any], control: str) -> int:
    """How many items a control's state `{area: {key: item}}` holds."""
    items = state.get(CONTROL_AREAS.get(control, ""), {})
    return len(items) if isinstance(items, dict) else 0


@dataclass(frozen=True, slots=True)
class Compared:
    """One control of one scope: its approved baseline part and what changed since."""

    scope: str
    control: str
    part: dict[str, Any]
    changes: list[Change]

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "control": self.control,
            "approved_by": self.part["approved_by"],
            "approved_at": self.part["approved_at"],
            "approval": self.part["approval"],
            "items": items_of(self.part.get("state", {}), self.control),
            "changes": [c.to_json() for c in self.changes],
        }

    def lines(self) -> list[str]:
        since = f"the baseline approved by {self.part['approved_by']} at {self.part['approved_at']}"
        count = len(self.changes)
        if not count:
            items = counted(items_of(self.part.get("state", {}), self.control), self.control)
            return [f"{self.scope} {self.control}: no drift from {since} ({items})"]
        lines = [f"{self.scope} {self.control}: {count} change{'s' if count > 1 else ''} since {since}"]
        for change in self.changes:
            lines.append(f"  {AREA_ITEM.get(change.area, change.area)} {change.key} {change.change}")
            lines.extend(f"      {field.describe()}" for field in change.fields)
        return lines


@dataclass(frozen=True, slots=True)
class Preview:
    """One control of one scope with no approved baseline: the live state `approve` would record
    (the table shows one line per item, empty lists left out; JSON holds the state as stored)."""

    scope: str
    control: str
    state: dict[str, Any]

    @property
    def changes(self) -> list[Change]:
        """Nothing approved, so nothing drifted: a preview is never drift."""
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "control": self.control,
            "approved_by": None,
            "would_record": {"items": items_of(self.state, self.control), "state": self.state},
            "changes": [],
        }

    def lines(self) -> list[str]:
        items = counted(items_of(self.state, self.control), self.control)
        lines = [f"{self.scope} {self.control}: no approved baseline; approving would record {items}:"]
        for item in diff({}, self.state):  # every live item, as "added" to nothing; one line each
            fields = "; ".join(f"{f.path} {show(f.after)}" for f in item.fields if f.after != [])
            lines.append(f"  {AREA_ITEM.get(item.area, item.area)} {item.key}: {fields}")
        return lines


Entry = Compared | Preview


def review(
    scope: str,
    controls: Sequence[str],
    baseline: Mapping[str, Any] | None,
    live: Mapping[str, dict[str, Any]],
    *,
    approving: bool = False,
) -> list[Entry]:
    """Per control, the live state against the baseline's part, or a preview where there is
    none. A part stored by another state version cannot be compared: `diff` exits 2 saying to
    re-approve it, and `approve` (the fix) previews the state that replaces it."""
    parts = baseline.get("controls", {}) if baseline is not None else {}
    entries: list[Entry] = []
    for control in controls:
        part = parts.get(control)
        if isinstance(part, dict) and part.get("state_version") != STATE_VERSION and not approving:
            fail(
                f"the baseline of {control} in scope {scope} was stored with state version "
                f"{part.get('state_version')}, this controlwatch compares {STATE_VERSION}: re-approve it"
            )
        if isinstance(part, dict) and part.get("state_version") == STATE_VERSION:
            entries.append(Compared(scope, control, part, diff(part["state"], live[control])))
        else:
            entries.append(Preview(scope, control, live[control]))
    return entries
