"""`/` and `/results` as pages a person reads in a browser: what fails now, since when, how to fix it.

The same store the JSON reads, one page of pairs at a time (so a page at a thousand scopes
costs what a JSON page costs), grouped by control so that a control's title and remediation
are written once above its scopes (`results_view` prepares what is said). Rendered by Jinja2
with autoescape on for every template (a resource name or a reason is always text, never
markup) and StrictUndefined (a value the template expects and was not given fails loudly).
No JavaScript: filters are a GET form, long lists fold with `<details>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jinja2

from checks.model import Area, Severity, Verdict
from checks.registry import ControlMeta
from monitor.sinks.results_view import (
    FILTER_ORDER,
    About,
    group_by_control,
    results_url,
    scope_counts,
    utc_text,
)
from monitor.sinks.store import ControlState

SCOPES_LISTED = 200  # scopes in the landing page's table, those with the most failing pairs first
FOLD_OVER = 10  # a pair's result list longer than this starts folded
OPEN_UP_TO = 5  # pairs with something to read on a page, up to which their lists start open
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"


@cache
def environment() -> jinja2.Environment:
    """The pages' one Jinja2 environment; templates are read from the package once."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.sinks", "templates"),
        autoescape=True,  # every template here writes HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(results_url=results_url, fold_over=FOLD_OVER, csp=_CSP)
    return env


def _render(template: str, **context: Any) -> bytes:
    return environment().get_template(template).render(**context).encode("utf-8")


def render_results(
    *,
    states: Sequence[ControlState],
    catalogue: Mapping[str, ControlMeta],
    filters: Mapping[str, str],
    limit: str | None,
    next_token: str | None,
    first_page: bool,
    about: About,
    scopes: Sequence[str],
    controls: Sequence[str],
    now: float,
) -> bytes:
    """One page of `/results` as HTML: the pairs of `states` (already filtered and paged)."""
    groups = group_by_control(states, catalogue, now)
    statuses = [pair.status for group in groups for pair in group.pairs]
    return _render(
        "results.html.j2",
        about=about,
        generated=utc_text(now),
        groups=[group for group in groups if not group.quiet],
        quiet_groups=[group for group in groups if group.quiet],
        # A few pairs (a link from an alert): their lists open. Many (a scope, an area): folded, one line each.
        unfold=sum(1 for group in groups for pair in group.pairs if not pair.quiet) <= OPEN_UP_TO,
        filters=filters,
        filter_text=", ".join(f"{name} {filters[name]}" for name in FILTER_ORDER if name in filters),
        totals={name: statuses.count(name) for name in ("fail", "error", "pass", "not run")},
        next_link=results_url(**filters, limit=limit, page_token=next_token) if next_token else None,
        first_link=None if first_page else results_url(**filters, limit=limit),
        json_link=results_url(**filters, limit=limit, format="json"),
        options=_options(catalogue, scopes, controls),
        limit=limit or "",
    )


def _options(catalogue: Mapping[str, ControlMeta], scopes: Sequence[str], controls: Sequence[str]) -> dict[str, Any]:
    titled = [(c, f"{c} {catalogue[c].title}" if c in catalogue else c) for c in controls]
    return {
        "scope": [(s, s) for s in scopes],
        "control": titled,
        "area": [(a.value, a.value) for a in Area],
        "severity": [(s.value, s.value) for s in Severity],
        "status": [(v.value, v.value) for v in Verdict],
    }


def render_landing(*, states: Sequence[ControlState], about: About, now: float) -> bytes:
    """`/`: what this process is, whether it is ready, and where to look (per scope, the failing pairs)."""
    counts = scope_counts(states)
    failing_by_severity = {s.value: 0 for s in Severity}
    for state in states:
        if state.status is Verdict.FAIL:
            failing_by_severity[state.severity.value] += 1
    return _render(
        "landing.html.j2",
        about=about,
        generated=utc_text(now),
        scopes=counts[:SCOPES_LISTED],
        scopes_left_out=max(len(counts) - SCOPES_LISTED, 0),
        scope_total=len(counts),
        totals={
            "pairs": len(states),
            "fail": sum(c.fail for c in counts),
            "error": sum(c.error for c in counts),
            "pass": sum(c.passing for c in counts),
            "not run": sum(c.not_run for c in counts),
        },
        failing_by_severity=failing_by_severity,
    )


def render_error(*, status: int, message: str, about: About, now: float) -> bytes:
    """A refused `/results` query, for a browser: the message and the way back."""
    return _render("error.html.j2", status=status, message=message, about=about, generated=utc_text(now))
