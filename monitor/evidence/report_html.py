"""The auditor's HTML report: `summarize(...).to_json()` rendered as one self-contained page.

Self-contained means the file needs nothing but itself: no external CSS, JavaScript,
fonts or images (charts are inline SVG, styles an inline `<style>`), and a
Content-Security-Policy that forbids every load, so that opening it never touches the
network and it reads the same in ten years.

The page is written by Jinja2 templates (`templates/`, shipped as package data) with
autoescape on for every template, so a value from the ledger can only ever be text, and
StrictUndefined, so a value the template expects but was not given fails the report
instead of leaving a blank an auditor would read as "nothing". The numbers are prepared
in Python: `report_format` (shares, times), `report_svg` (chart geometry), `report_text`
(the verdict and the daemon's events).

`render_report` is pure: the same inputs give the same bytes. The caller passes the
generation time, the ledger head and the outcome of verification (`Report.to_json()`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import jinja2

from monitor.evidence.canonical import parse_time
from monitor.evidence.report_format import (
    COLOURS,
    DETAILED_STATES,
    GAP_STROKE,
    STATE_LABELS,
    STATES,
    duration,
    pct,
    time_of,
    when,
)
from monitor.evidence.report_svg import Ids, area_timeline, legend, share_bar
from monitor.evidence.report_text import describe_event, verdict

__all__ = ["COLOURS", "CSP", "STATE_LABELS", "environment", "render_report", "restore_entities"]

# MarkupSafe writes " and ' as &#34; and &#39;; html.escape, which wrote the report before the
# templates did, as &quot; and &#x27;. Kept, so the same ledger gives the same source in reports
# of any version. Only escaping makes these (one in the data is escaped to "&amp;#34;").
_ENTITIES = {"&#34;": "&quot;", "&#39;": "&#x27;"}

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _fixed(value: float, digits: int = 1) -> str:
    """A coordinate for the SVG source: a fixed number of decimals keeps the file short and stable."""
    return f"{float(value):.{digits}f}"


def _counted(counts: Mapping[str, int]) -> str:
    """`3 failing, 1 excepted`: the non-zero counts of failing resources by state, in their order."""
    words = {"fail": "failing", "excepted": "excepted", "error": "in error"}
    return ", ".join(f"{count} {words.get(name, name)}" for name, count in counts.items() if count)


def _blank_none(value: object) -> object:
    """An absent value (None) is written as nothing, never as the word `None`."""
    return "" if value is None else value


@cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment of the report; its templates are read from the package once."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.evidence", "templates"),
        autoescape=True,  # every template here writes HTML: no file-name rule to get wrong
        undefined=jinja2.StrictUndefined,
        finalize=_blank_none,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(pct=pct, when=when, duration=duration, fixed=_fixed, counted=_counted)
    env.globals.update(
        states=STATES,
        detailed_states=DETAILED_STATES,
        state_labels=STATE_LABELS,
        colours=COLOURS,
        gap_stroke=GAP_STROKE,
    )
    return env


def _coverage(days: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each day with how many of its expected projects were checked."""
    rows = []
    for day in days:
        expected, checked = list(day.get("expected", [])), list(day.get("checked", []))
        rows.append(
            {
                "day": day.get("day"),
                "expected": expected,
                "checked": checked,
                "missing": list(day.get("missing", [])),
                "covered": len(set(checked) & set(expected)),
                # the recorded cause of each missing run (run_skipped, evidence_lost), by scope
                "explained": sorted((scope, list(causes)) for scope, causes in (day.get("explained") or {}).items()),
            }
        )
    return rows


def render_report(
    summary_json: Mapping[str, Any],
    *,
    title: str,
    period: tuple[str | datetime, str | datetime],
    ledger_head: tuple[int, str] | None,
    verified: bool | None,
    verification: Mapping[str, Any] | None = None,
    generated_at: str | datetime | None = None,
    generator: str = "controlwatch",
    ledger_heads: Sequence[tuple[str, tuple[int, str] | None]] = (),
    open_period: bool = False,
    soc2: Mapping[str, Any] | None = None,
) -> str:
    """The report as one HTML document (a `str`); nothing is read or written here.

    `summary_json` is `Summary.to_json()`; `period` the `[from, to)` it covers; `ledger_head`
    (seq, hash) of the ledger when the report was made (None: empty ledger); `verified` the
    outcome of `verify_ledger` (None: not verified), with its `Report.to_json()` as
    `verification` for the details; `generated_at` when the report was made. `ledger_heads`
    (name, head) of each ledger, when several are read as one estate. `open_period`: the
    period asked for has not ended, and `period` ends at the moment the report was made.
    `soc2`: the view by criterion (`Soc2View.to_json()`), shown first, with the failing resources.
    """
    from_s, to_s = time_of(period[0]), time_of(period[1])
    controls: list[Mapping[str, Any]] = list(summary_json.get("controls", []))
    areas: Mapping[str, Sequence[Mapping[str, Any]]] = summary_json.get("areas", {})
    # Element ids are handed out in document order, so that they are unique and stable.
    ids = Ids()
    legends = [legend(ids)]
    share_bars = [share_bar(item["shares"], ids) for item in controls]
    legends.append(legend(ids))
    timelines = [area_timeline(area, segments, controls, (from_s, to_s), ids) for area, segments in areas.items()]
    document = (
        environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            generator=generator,
            csp=CSP,
            period_from=from_s,
            period_to=to_s,
            open_period=open_period,
            period_seconds=(parse_time(to_s) - parse_time(from_s)).total_seconds(),
            generated=time_of(generated_at) if generated_at is not None else None,
            ledger_head=ledger_head,
            ledger_heads=list(ledger_heads),
            first_seq=summary_json.get("first_seq"),
            last_seq=summary_json.get("last_seq"),
            verdict=verdict(verified, verification),
            controls=controls,
            legends=legends,
            share_bars=share_bars,
            timelines=timelines,
            coverage=_coverage(summary_json.get("coverage", [])),
            risks=[risk for item in controls for risk in item["accepted_risks"]],
            drift=[event for item in controls for event in item["drift"]],
            events=[describe_event(event) for event in summary_json.get("events", [])],
            soc2=soc2,
            fold_over=FOLD_OVER,
            shown_rows=SHOWN_ROWS,
        )
    )
    return restore_entities(document)


FOLD_OVER = 12
"""A list longer than this (control sections, failing resources of one pair) starts folded."""
SHOWN_ROWS = 8
"""The pairs of a criterion shown before the rest is folded: a criterion fits one screen."""


def restore_entities(document: str) -> str:
    """The quotes written as `html.escape` did (see `_ENTITIES`)."""
    for markupsafe, html_escape in _ENTITIES.items():
        document = document.replace(markupsafe, html_escape)
    return document
