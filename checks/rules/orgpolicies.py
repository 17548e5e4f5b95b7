"""Reading a project's effective organisation policies (orgpolicy v2), as ORG-01..03 and the bucket controls do.

The orgPolicies kind holds one effective Policy per constraint the collector reads, named
`projects/P/policies/CONSTRAINT` (P a project id or number). Constraint names are compared
without their `constraints/` prefix, wherever it is written. A policy without a `spec`, or
a spec without `rules`, sets nothing: no constraint is enforced and no value allowed.

A boolean constraint is *enforced* when its spec has a rule with `enforce: true` and no
`condition`: a conditional rule enforces only where its condition holds, which a
detective control cannot tell for every resource, so it does not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from checks.kernel import JSON, Unjudgeable

PREFIX = "constraints/"
HOST = "//orgpolicy.googleapis.com/"


def bare(constraint: str) -> str:
    """`constraints/gcp.resourceLocations` -> `gcp.resourceLocations`."""
    return constraint.removeprefix(PREFIX)


def constraint_of(policy: JSON) -> str:
    """The bare constraint a policy is about, from its `name`; raises Unjudgeable when unnamed."""
    name = policy.get("name")
    if not isinstance(name, str) or "/policies/" not in name:
        raise Unjudgeable("name", f"{name!r} is not a policy name (projects/P/policies/CONSTRAINT)")
    return bare(name.split("/policies/", 1)[1])


def index(policies: Iterable[JSON]) -> Mapping[str, JSON]:
    """The effective policies by bare constraint; an unnamed one is left out (nothing reads it)."""
    found: dict[str, JSON] = {}
    for policy in policies:
        try:
            found.setdefault(constraint_of(policy), policy)
        except Unjudgeable:
            continue
    return found


def resource_name(scope: str, constraint: str) -> str:
    """The result's resource: `//orgpolicy.googleapis.com/projects/P/policies/CONSTRAINT`."""
    return f"{HOST}projects/{scope}/policies/{bare(constraint)}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a policy's spec, read: where it sits (`spec.rules[0]`) and what it says."""

    field: str
    raw: JSON

    @property
    def condition(self) -> str:
        """The condition's title (or expression), "" for an unconditional rule."""
        condition = self.raw.get("condition")
        if not condition:
            return ""
        if not isinstance(condition, dict):
            raise Unjudgeable(f"{self.field}.condition", f"{condition!r} is not an object")
        return str(condition.get("title") or condition.get("expression") or "untitled")

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            raise Unjudgeable(f"{self.field}.{key}", f"{value!r} is not true or false")
        return value

    def values(self, key: str) -> list[tuple[str, str]]:
        """(field, value) of `values.KEY` (`allowedValues`), empty when absent."""
        values = self.raw.get("values")
        if values is None:
            return []
        if not isinstance(values, dict):
            raise Unjudgeable(f"{self.field}.values", f"{values!r} is not an object")
        listed = values.get(key)
        if listed is None:
            return []
        where = f"{self.field}.values.{key}"
        if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
            raise Unjudgeable(where, f"{listed!r} is not a list of strings")
        return [(f"{where}[{i}]", value) for i, value in enumerate(listed)]


def rules(policy: JSON) -> list[Rule]:
    """The rules of the policy's `spec` (none when it has no spec)."""
    spec = policy.get("spec")
    if spec is None:
        return []
    if not isinstance(spec, dict):
        raise Unjudgeable("spec", f"{spec!r} is not an object")
    listed = spec.get("rules")
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise Unjudgeable("spec.rules", f"{listed!r} is not a list")
    found = []
    for i, rule in enumerate(listed):
        if not isinstance(rule, dict):
            raise Unjudgeable(f"spec.rules[{i}]", f"{rule!r} is not an object")
        found.append(Rule(f"spec.rules[{i}]", rule))
    return found


@dataclass(frozen=True, slots=True)
class Enforcement:
    """Whether a boolean constraint is enforced, and why, said after its name (`is enforced (…)`)."""

    enforced: bool
    why: str


def enforcement(policy: JSON | None, constraint: str) -> Enforcement:
    """Whether `constraint` is enforced by its effective `policy`; raises Unjudgeable on unreadable rules."""
    name = bare(constraint)
    if policy is None:
        raise Unjudgeable(name, "its effective policy was not collected")
    read = rules(policy)
    for rule in read:
        if rule.flag("enforce") and not rule.condition:
            return Enforcement(True, f"is enforced ({rule.field}: enforce true, no condition)")
    conditional = [f"{rule.field} if {rule.condition!r}" for rule in read if rule.flag("enforce") and rule.condition]
    if conditional:
        return Enforcement(False, f"is enforced only under a condition ({'; '.join(conditional)})")
    if not read:
        return Enforcement(False, "is not enforced (no policy: no rule in its effective spec)")
    return Enforcement(False, "is not enforced (no rule with enforce true)")
