"""What the `/results` page and the `/` overview say, prepared from the store for the templates.

One page of pairs at a time (the JSON's paging): each pair with its counts and its results,
each failure with since when it fails (`ControlState.first_seen`), under its control with the
catalogue's title and remediation; per scope, the pairs by status. Plain data: the templates
(`results_page`) only lay it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from checks.model import Result, Verdict
from checks.registry import ControlMeta
from monitor.sinks.store import ControlState, FirstSeen

ROWS_SHOWN = 100  # results of one pair written into the page; the rest are counted and linked (JSON)
FILTER_ORDER = ("scope", "control", "area", "severity", "status")


def utc_text(ts: float) -> str:
    """Unix time as `YYYY-MM-DD HH:MM:SS UTC`, the one form a reader sees on these pages."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age_text(seconds: float) -> str:
    """A duration a person reads at a glance: `45 s`, `12 min`, `3 h 5 min`, `4 d 2 h`."""
    whole = max(int(seconds), 0)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def control_order(control_id: str) -> tuple[str, int, str]:
    """Ids in the registry's order (`FW-2` before `FW-10`), for the filter form's list."""
    area, _, number = control_id.partition("-")
    return (area, int(number) if number.isdigit() else 0, control_id)


def results_url(**params: str | None) -> str:
    """`/results` with the given parameters in a stable order (the links alerts and dashboards use)."""
    order = (*FILTER_ORDER, "limit", "page_token", "format")
    kept = [(name, params[name]) for name in order if params.get(name)]
    unknown = set(params) - set(order)
    if unknown:
        raise ValueError(f"not a /results parameter: {sorted(unknown)}")
    return "/results" + ("?" + urlencode(kept) if kept else "")


@dataclass(frozen=True, slots=True)
class Row:
    """One result of a pair, as the page shows it."""

    resource: str
    subject: str
    reason: str
    latent: bool = False
    since: str | None = None  # first seen failing (failures only)
    age: str | None = None
    new: bool = False
    exception_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RowList:
    """Some rows of one kind (failing, accepted, error), at most `ROWS_SHOWN`, and how many were left out."""

    rows: tuple[Row, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True, slots=True)
class PairView:
    scope: str
    status: str  # pass, fail, error, or "not run"
    failing: int
    excepted: int
    checked: int
    passing: int
    last_run: str | None
    last_success: str | None  # the last run that could judge (not `error`): what an error pair hides since
    failing_since: str | None  # the oldest first-seen of a failure outside accepted risks
    failing_for: str | None
    new: bool  # a failure outside accepted risks is new (appeared after a judged run)
    link: str
    json_link: str
    failures: RowList
    accepted: RowList
    errors: RowList

    @property
    def quiet(self) -> bool:
        """Passing with nothing to read (no accepted risk): listed in one line at the page's end."""
        return self.status == Verdict.PASS.value and self.accepted.total == 0


@dataclass(slots=True)
class ControlGroup:
    """One control with the pairs of this page, its catalogue text written once."""

    control: str
    title: str
    area: str
    severity: str
    remediation: str
    rationale: str
    link: str
    pairs: list[PairView] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return all(pair.quiet for pair in self.pairs)


def _rows(results: Iterable[Result], seen: Mapping[tuple[str, str], FirstSeen], now: float) -> RowList:
    chosen = list(results)
    rows = []
    for result in chosen[:ROWS_SHOWN]:
        entry = seen.get((result.resource, result.subject)) if result.verdict is Verdict.FAIL else None
        rows.append(
            Row(
                resource=result.resource,
                subject=result.subject,
                reason=result.reason,
                latent=result.latent,
                since=utc_text(entry.at) if entry is not None else None,
                age=age_text(now - entry.at) if entry is not None else None,
                new=entry.new if entry is not None else False,
                exception_reason=result.exception_reason,
            )
        )
    return RowList(tuple(rows), len(chosen))


def pair_view(state: ControlState, now: float) -> PairView:
    """What the page says about one pair: its counts, and its failures with since when they fail."""
    results = state.results
    seen = state.first_seen() if state.seen else {}
    failing = [r for r in results if r.verdict is Verdict.FAIL and not r.excepted]
    firsts = [entry for r in failing if (entry := seen.get((r.resource, r.subject))) is not None]
    oldest = min((entry.at for entry in firsts), default=None)
    return PairView(
        scope=state.scope,
        status=state.status.value if state.status is not None else "not run",
        failing=state.failing,
        excepted=state.excepted,
        checked=state.checked,
        passing=state.passing,
        last_run=utc_text(state.last_run) if state.last_run is not None else None,
        last_success=utc_text(state.last_success) if state.last_success is not None else None,
        failing_since=utc_text(oldest) if oldest is not None else None,
        failing_for=age_text(now - oldest) if oldest is not None else None,
        new=any(entry.new for entry in firsts),
        link=results_url(scope=state.scope, control=state.control),
        json_link=results_url(scope=state.scope, control=state.control, format="json"),
        failures=_rows(failing, seen, now),
        accepted=_rows((r for r in results if r.verdict is Verdict.FAIL and r.excepted), seen, now),
        errors=_rows((r for r in results if r.verdict is Verdict.ERROR), seen, now),
    )


def group_by_control(
    states: Sequence[ControlState], catalogue: Mapping[str, ControlMeta], now: float
) -> list[ControlGroup]:
    """The page's pairs under their controls, in the store's order (control, then scope)."""
    groups: list[ControlGroup] = []
    for state in states:
        if not groups or groups[-1].control != state.control:
            meta = catalogue.get(state.control)
            groups.append(
                ControlGroup(
                    control=state.control,
                    title=meta.title if meta is not None else "",
                    area=state.area.value,
                    severity=state.severity.value,
                    remediation=meta.remediation if meta is not None else "",
                    rationale=meta.rationale if meta is not None else "",
                    link=results_url(control=state.control),
                )
            )
        groups[-1].pairs.append(pair_view(state, now))
    return groups


@dataclass(frozen=True, slots=True)
class About:
    """What the pages say about the process: its version and mode, and whether it is ready."""

    version: str
    mode: str
    ready: bool
    waiting: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScopeCounts:
    scope: str
    fail: int = 0
    error: int = 0
    passing: int = 0
    not_run: int = 0


def scope_counts(states: Iterable[ControlState]) -> list[ScopeCounts]:
    """Pairs per scope by status, scopes with the most failing and erroring pairs first."""
    counts: dict[str, list[int]] = {}
    for state in states:
        row = counts.setdefault(state.scope, [0, 0, 0, 0])
        status = state.status
        row[0 if status is Verdict.FAIL else 1 if status is Verdict.ERROR else 2 if status is Verdict.PASS else 3] += 1
    listed = [ScopeCounts(scope, *row) for scope, row in counts.items()]
    return sorted(listed, key=lambda c: (-c.fail, -c.error, c.scope))
