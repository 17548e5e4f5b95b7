"""The SOC 2 view of a period: per Trust Services Criterion, the controls that evidence it and
how each control × scope fared.

A SOC 2 Type II auditor works criterion by criterion (CC6.1, CC6.6, …). Every control
declares the criteria it evidences (`References(soc2=...)` in the catalogue), so the
summary of a period (`summary.py`) regroups as: for each criterion, its controls, and for
each control × scope the share of the period it was passing, failing, excepted (passing
only under an accepted risk), in error or unmonitored, with the count of resources found
failing and the id of the report's block that names them with their records. Under CC8.1,
the changes of the drift-watched state in the period, with who made and who approved each
(`changes.py`).

The view is typed data, built here and rendered by templates (`report_soc2.py`) or written
as JSON (`Soc2View.to_json()`); nothing here formats text for people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from monitor.evidence.canonical import json_fields
from monitor.evidence.changes import APPROVALS, ChangeSeen
from monitor.evidence.failing import FailingResource, count_by_state
from monitor.evidence.summary import DETAILED_STATES, ControlSummary, Summary

__all__ = [
    "CRITERIA_TITLES",
    "UNMAPPED",
    "ControlRef",
    "Criterion",
    "FailingGroup",
    "PairShares",
    "Soc2View",
    "catalogue_refs",
    "criteria_of",
    "criterion_order",
    "soc2_view",
]

# The criteria the catalogue names, in short words of our own (AICPA TSC 2017, revised 2022).
CRITERIA_TITLES: Mapping[str, str] = {
    "CC2.3": "Communication with external parties about internal control",
    "CC6.1": "Logical access security over software, infrastructure and architectures",
    "CC6.2": "Users registered and authorised before access is granted",
    "CC6.3": "Access granted, changed and removed by role, with least privilege",
    "CC6.6": "Protection against threats from outside the system boundaries",
    "CC6.7": "Transmission, movement and removal of information restricted and protected",
    "CC6.8": "Unauthorised or malicious software prevented or detected",
    "CC7.1": "Configuration changes and vulnerabilities detected and monitored",
    "CC7.2": "System components monitored for anomalies and security events",
    "CC7.3": "Security events evaluated",
    "CC8.1": "Changes authorised, designed, tested, approved and implemented",
    "CC9.1": "Risks of business disruption mitigated",
    "CC9.2": "Risks from vendors and business partners managed",
    "A1.1": "Capacity planned and managed to meet availability commitments",
    "A1.2": "Environmental protections, backup and recovery infrastructure",
    "C1.1": "Confidential information identified and protected",
}
UNMAPPED = "unmapped"
"""The pseudo-criterion of controls in the ledger that this release's catalogue does not know."""

_CATEGORIES = ("CC", "A", "PI", "C", "P")
_ID = re.compile(r"^([A-Z]+)(\d+)\.(\d+)$")


def criterion_order(criterion: str) -> tuple[int, int, int, str]:
    """Common criteria first (CC1..CC9), then availability, processing integrity, confidentiality,
    privacy; numerically within each (CC6.10 after CC6.9); anything else, and `unmapped`, last."""
    match = _ID.match(criterion)
    if match is None or match[1] not in _CATEGORIES:
        return (len(_CATEGORIES) + (criterion == UNMAPPED), 0, 0, criterion)
    return (_CATEGORIES.index(match[1]), int(match[2]), int(match[3]), criterion)


@dataclass(frozen=True, slots=True)
class ControlRef:
    """What the catalogue says of a control: its title and the criteria it evidences."""

    title: str
    criteria: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PairShares:
    """One control × scope under a criterion: its shares of the period and its failing resources.

    `failing` counts the resources by state (`fail`, `excepted`, `error`); `anchor` is the id
    of the block that names them (None when there is none).
    """

    control: str
    title: str
    scope: str
    runs: int
    shares: dict[str, float]
    last_status: str | None
    failing: dict[str, int]
    anchor: str | None

    @property
    def throughout(self) -> bool:
        """Passing for the whole period, with no accepted risk, no error and no gap."""
        return self.shares.get("pass", 0.0) >= 1 - 1e-9


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion: the controls that evidence it, the mean of its pairs' shares, its pairs.

    `attention` are the pairs not passing throughout, worst first (most time failing, then in
    error, excepted, unmonitored); `clean` those passing throughout, by control and scope.
    """

    id: str
    title: str
    controls: tuple[str, ...]
    shares: dict[str, float]
    attention: tuple[PairShares, ...]
    clean: tuple[PairShares, ...]


@dataclass(frozen=True, slots=True)
class FailingGroup:
    """The failing resources of one control × scope, under the id its criterion rows link to."""

    anchor: str
    control: str
    scope: str
    counts: dict[str, int]
    resources: tuple[FailingResource, ...]


@dataclass(frozen=True, slots=True)
class Soc2View:
    from_time: str
    to_time: str
    criteria: tuple[Criterion, ...]
    failing: tuple[FailingGroup, ...]
    changes: tuple[ChangeSeen, ...] = ()  # CC8.1: every change in the period and its approval

    @property
    def change_counts(self) -> dict[str, int]:
        """How many changes were approved before, after, reverted, or not approved (`none`)."""
        return {state: sum(1 for change in self.changes if change.approval == state) for state in APPROVALS}

    def to_json(self) -> dict[str, object]:
        fields = json_fields(self)
        fields["change_counts"] = self.change_counts
        for criterion, typed in zip(fields["criteria"], self.criteria, strict=True):
            for name in ("attention", "clean"):
                for pair, item in zip(criterion[name], getattr(typed, name), strict=True):
                    pair["throughout"] = item.throughout
        return {"from": fields.pop("from_time"), "to": fields.pop("to_time"), **fields}


def catalogue_refs() -> dict[str, ControlRef]:
    """Title and criteria of every control this release knows, from the catalogue."""
    from checks import default_registry

    return {item.meta.id: ControlRef(item.meta.title, tuple(item.meta.references.soc2)) for item in default_registry()}


def _worst_first(pair: PairShares) -> tuple[float, float, float, float, str, str]:
    shares = pair.shares
    return (-shares["fail"], -shares["error"], -shares["excepted"], -shares["gap"], pair.control, pair.scope)


def _mean(pairs: Sequence[PairShares]) -> dict[str, float]:
    if not pairs:
        return dict.fromkeys(DETAILED_STATES, 0.0)
    return {state: sum(pair.shares[state] for pair in pairs) / len(pairs) for state in DETAILED_STATES}


def _shares(item: ControlSummary) -> dict[str, float]:
    return {state: float(item.detailed_shares.get(state, 0.0)) for state in DETAILED_STATES}


def soc2_view(summary: Summary, catalogue: Mapping[str, ControlRef]) -> Soc2View:
    """The summary regrouped by criterion. A control the catalogue does not know goes under `unmapped`."""
    groups: list[FailingGroup] = []
    by_criterion: dict[str, list[PairShares]] = {}
    for item in summary.controls:
        anchor = None
        counts = count_by_state(item.failing_resources)
        if item.failing_resources:
            anchor = f"fr-{len(groups)}"
            groups.append(FailingGroup(anchor, item.control, item.scope, counts, item.failing_resources))
        ref = catalogue.get(item.control)
        pair = PairShares(
            control=item.control,
            title=ref.title if ref is not None else "",
            scope=item.scope,
            runs=item.runs,
            shares=_shares(item),
            last_status=item.last_status,
            failing=counts,
            anchor=anchor,
        )
        for criterion in ref.criteria if ref is not None and ref.criteria else (UNMAPPED,):
            by_criterion.setdefault(criterion, []).append(pair)
    criteria = []
    for criterion in sorted(by_criterion, key=criterion_order):
        pairs = by_criterion[criterion]
        criteria.append(
            Criterion(
                id=criterion,
                title=_title(criterion),
                controls=tuple(sorted({pair.control for pair in pairs})),
                shares=_mean(pairs),
                attention=tuple(sorted((p for p in pairs if not p.throughout), key=_worst_first)),
                clean=tuple(sorted((p for p in pairs if p.throughout), key=lambda p: (p.control, p.scope))),
            )
        )
    return Soc2View(summary.from_time, summary.to_time, tuple(criteria), tuple(groups), summary.changes)


def _title(criterion: str) -> str:
    if criterion == UNMAPPED:
        return "Controls this release's catalogue does not know (no criterion declared)"
    return CRITERIA_TITLES.get(criterion, "")


def criteria_of(catalogue: Mapping[str, ControlRef], controls: Iterable[str]) -> set[str]:
    """Every criterion the given controls declare (what a report of them must show)."""
    return {criterion for control in controls if control in catalogue for criterion in catalogue[control].criteria}
