"""Cloud SQL database flags: one rule per flag, one generic judge for every rule.

A rule says which engine it concerns, which flag of `settings.databaseFlags[]` it reads, what
its value must be (`Word`: one word of a closed vocabulary; `Number`: a whole number in a
range; `Unset`: the flag must not be set at all) and which value the engine runs with when the
flag is absent. The judge is pure: an instance of another engine is out of scope (`None`),
everything it cannot read with certainty raises `Unjudgeable` naming the field (turned into
`error` by `per_instance`), never a pass.

The API writes boolean flags as `on` or `off` and omits the value of a flag that takes none
(SQL Admin v1, `DatabaseFlags`); values of word flags are compared case-insensitively, as the
engines do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.kernel import JSON, Judgement, Unjudgeable
from checks.model import Verdict
from checks.rules.cloudsql import engine, engine_name, settings

FLAGS = "settings.databaseFlags"
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True, slots=True)
class Word:
    """A flag whose value is one word of `valid` (lower case); compliant when it is one of `good`."""

    valid: tuple[str, ...]
    good: tuple[str, ...]

    def want(self) -> str:
        return " or ".join(self.good)

    def vocabulary(self) -> str:
        return ", ".join(self.valid)

    def read(self, value: str, field: str) -> tuple[str, bool]:
        word = value.lower()
        if word not in self.valid:
            raise Unjudgeable(field, f"{value!r} is not one of {self.vocabulary()}")
        return word, word in self.good


def switch(good: str) -> Word:
    """A boolean flag, which the API spells `on` or `off`."""
    return Word(valid=("on", "off"), good=(good,))


@dataclass(frozen=True, slots=True)
class Number:
    """A flag whose value is a whole number from `lowest` to `highest`; compliant when it is `good`."""

    lowest: int
    highest: int
    good: int

    def want(self) -> str:
        return str(self.good)

    def vocabulary(self) -> str:
        return f"a whole number from {self.lowest} to {self.highest}"

    def read(self, value: str, field: str) -> tuple[str, bool]:
        if not _INTEGER.fullmatch(value):
            raise Unjudgeable(field, f"{value!r} is not {self.vocabulary()}")
        number = int(value)
        if not self.lowest <= number <= self.highest:
            raise Unjudgeable(field, f"{value!r} is not {self.vocabulary()}")
        return str(number), number == self.good


@dataclass(frozen=True, slots=True)
class Unset:
    """A flag that must not be set at all, whatever its value."""


Requirement = Word | Number | Unset


@dataclass(frozen=True, slots=True)
class FlagRule:
    """One CIS database-flag recommendation: the engine (`MYSQL`, `POSTGRES`, `SQLSERVER`, the
    prefix of `databaseVersion`), the flag's name as the API writes it, what its value must be,
    and the engine's value when the flag is absent (None for an `Unset` rule: nothing is set)."""

    engine: str
    flag: str
    requirement: Requirement
    default: str | None

    def default_passes(self) -> bool:
        if isinstance(self.requirement, Unset):
            return True
        assert self.default is not None, f"{self.flag}: a rule on a value states the engine default"
        return self.requirement.read(self.default, "default")[1]


def read_flags(instance: JSON) -> dict[str, list[tuple[int, object]]]:
    """Every entry of `settings.databaseFlags` by name: (its index, its value or None when absent).
    An absent list is no flag set; an entry that is not an object with a string name, or whose
    value is neither absent nor a string, is not the API's shape and cannot be judged."""
    listed = settings(instance).get("databaseFlags")
    if listed is None:
        return {}
    if not isinstance(listed, list):
        raise Unjudgeable(FLAGS, f"{listed!r} is not a list")
    found: dict[str, list[tuple[int, object]]] = {}
    for index, entry in enumerate(listed):
        at = f"{FLAGS}[{index}]"
        if not isinstance(entry, dict):
            raise Unjudgeable(at, f"{entry!r} is not a DatabaseFlags object")
        name, value = entry.get("name"), entry.get("value")
        if not isinstance(name, str) or not name:
            raise Unjudgeable(f"{at}.name", f"{name!r} is not a flag name")
        if value is not None and not isinstance(value, str):
            raise Unjudgeable(f"{at}.value", f"{value!r} is not a string")
        found.setdefault(name, []).append((index, value))
    return found


def judge_flag(rule: FlagRule, instance: JSON, who: str) -> Judgement | None:
    """The rule's verdict on one instance; None for an instance of another engine."""
    prefix = engine(instance)
    if prefix != rule.engine:
        return None
    requirement, flag = rule.requirement, rule.flag
    entries = read_flags(instance).get(flag, [])
    on = f"{engine_name(prefix)} {instance['databaseVersion']}"
    if isinstance(requirement, Unset):
        if not entries:
            return Judgement(Verdict.PASS, f"{who} ({on}) does not set {flag}")
        value = entries[0][1]
        shown = "without a value" if value is None else f"to {value}"
        return Judgement(
            Verdict.FAIL, f"{who} ({on}) sets {flag} {shown} (it must not be set)", f"{flag}={value or ''}"
        )
    want = requirement.want()
    if len(entries) > 1:
        places = ", ".join(f"{FLAGS}[{index}]" for index, _ in entries)
        raise Unjudgeable(FLAGS, f"{flag} is set {len(entries)} times ({places}): which one applies is unknown")
    if not entries:
        verdict = Verdict.PASS if rule.default_passes() else Verdict.FAIL
        return Judgement(verdict, f"{who} ({on}) does not set {flag}: the engine default {rule.default} "
                         f"applies (must be {want})")  # fmt: skip
    index, value = entries[0]
    field = f"{FLAGS}[{index}].value"
    if value is None:
        raise Unjudgeable(field, f"absent: {flag} takes {requirement.vocabulary()}")
    assert isinstance(value, str)  # read_flags refused any other type
    read, good = requirement.read(value, field)
    verdict = Verdict.PASS if good else Verdict.FAIL
    return Judgement(verdict, f"{who} ({on}) sets {flag} to {read} (must be {want})", f"{flag}={read}")
