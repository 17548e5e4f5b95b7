"""The auditor's HTML report: `summarize(...).to_json()` rendered as one self-contained page.

Self-contained means the file needs nothing but itself: no external CSS, JavaScript,
fonts or images (charts are inline SVG, styles an inline `<style>`), and a
Content-Security-Policy that forbids every load, so that opening it never touches the
network and it reads the same in ten years. Every value from the ledger is escaped.

`render_report` is pure: the same inputs give the same bytes. The caller passes the
generation time, the ledger head and the outcome of verification (`Report.to_json()`).

States (as in `summary.py`): a run's status holds from its end until the next run ends,
but no longer than twice its interval; after that the pair is "not monitored" (a gap).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.evidence.canonical import format_time, parse_time

__all__ = ["COLOURS", "STATE_LABELS", "render_report"]

STATES = ("pass", "fail", "error", "gap")
STATE_LABELS = {
    "pass": "passing",
    "fail": "failing",
    "error": "error (not evaluated)",
    "gap": "not monitored",
}
COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#8250df", "gap": "#afb8c1"}
_GAP_STROKE = "#57606a"

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { color-scheme: light; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
  font-size: 14px; line-height: 1.45; color: #1f2328; background: #fff; margin: 0 auto; padding: 24px 32px;
  max-width: 1200px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d0d7de; }
h3 { font-size: 16px; margin: 22px 0 6px; }
h4 { font-size: 14px; margin: 14px 0 4px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 6px 0 12px; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfcfd; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 12px; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
.verdict { padding: 10px 14px; border-radius: 6px; border: 1px solid; margin: 10px 0; }
.verdict.ok { background: #dafbe1; border-color: #1a7f37; }
.verdict.warn { background: #fff8c5; border-color: #9a6700; }
.verdict.bad { background: #ffebe9; border-color: #cf222e; }
.state { display: inline-block; padding: 0 6px; border-radius: 4px; font-weight: 600; white-space: nowrap; }
.state-pass { background: #dafbe1; color: #116329; }
.state-fail { background: #ffebe9; color: #a40e26; }
.state-error { background: #fbefff; color: #6639ba; }
.state-gap { background: #eaeef2; color: #424a53; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0; padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: 6px; }
.muted { color: #57606a; }
.none { color: #57606a; font-style: italic; }
figure { margin: 8px 0 18px; }
figcaption { color: #424a53; font-size: 13px; }
figcaption ul { margin: 4px 0; padding-left: 20px; }
svg { display: block; max-width: 100%; height: auto; }
nav ol { columns: 2; margin: 4px 0; }
.control { border-top: 1px solid #d0d7de; margin-top: 18px; }
footer { margin-top: 36px; color: #57606a; font-size: 12.5px; border-top: 1px solid #d0d7de; padding-top: 8px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; }
  h3, h4 { break-after: avoid; }
  tr, figure, .verdict { break-inside: avoid; }
  thead { display: table-header-group; }
  nav { break-after: page; }
}
"""

# --- small formatting helpers ------------------------------------------------------------------


def _e(value: object) -> str:
    """Escape anything for HTML text and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def _pct(share: float) -> str:
    """A share as a percentage; a sliver is never shown as 0.0% or 100.0%."""
    if 0 < share < 0.0005:
        return "<0.1%"
    if 0.9995 <= share < 1:
        return ">99.9%"
    return f"{share * 100:.1f}%"


def _when(text: str | None) -> str:
    """A ledger time for people: `2026-03-02 04:00:00` (UTC, fractions of a second dropped)."""
    if text is None:
        return "—"
    try:
        moment = parse_time(text)
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    if not days and not hours:
        parts.append(f"{secs} s" if secs or not minutes else "")
    return " ".join(p for p in parts if p) or "0 s"


def _state(state: str | None) -> str:
    if state is None:
        return '<span class="none">none</span>'
    return f'<span class="state state-{_e(state)}">{_e(STATE_LABELS.get(state, state))}</span>'


def _time_of(value: str | datetime) -> str:
    return format_time(value) if isinstance(value, datetime) else value


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = ()) -> str:
    """A table; cells in `rows` are already HTML (escape before), headers are escaped here."""
    cols = "".join(f'<th scope="col"{" class=num" if i in numeric else ""}>{_e(h)}</th>' for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i in numeric else ''}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{cols}</tr></thead><tbody>{body}</tbody></table>"


def _none(text: str) -> str:
    return f'<p class="none">{_e(text)}</p>'


# --- SVG ---------------------------------------------------------------------------------------


class _Ids:
    """Unique element ids within one document (several SVGs each define a hatch pattern)."""

    def __init__(self) -> None:
        self.count = 0

    def next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count}"


def _hatch(pattern_id: str) -> str:
    return (
        f'<defs><pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{COLOURS["gap"]}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{_GAP_STROKE}" stroke-width="1.5"/></pattern></defs>'
    )


def _fill(state: str, hatch_id: str) -> str:
    return f"url(#{hatch_id})" if state == "gap" else COLOURS.get(state, "#000000")


def _swatch(state: str, ids: _Ids) -> str:
    hatch = ids.next("hatch")
    return (
        f'<svg width="28" height="14" viewBox="0 0 28 14" aria-hidden="true">{_hatch(hatch)}'
        f'<rect width="28" height="14" rx="2" fill="{_fill(state, hatch)}"/></svg>'
    )


def _legend(ids: _Ids) -> str:
    items = "".join(f"<li>{_swatch(state, ids)}<span>{_e(STATE_LABELS[state])}</span></li>" for state in STATES)
    return f'<ul class="legend" aria-label="Legend: colours of the states">{items}</ul>'


def _share_bar(shares: Mapping[str, float], ids: _Ids) -> str:
    """A small stacked bar of the shares of the period (text alternative in its label)."""
    hatch = ids.next("hatch")
    label = ", ".join(f"{STATE_LABELS[s]} {_pct(float(shares.get(s, 0.0)))}" for s in STATES)
    x = 0.0
    rects = []
    for state in STATES:
        width = float(shares.get(state, 0.0)) * 120
        if width > 0:
            rects.append(f'<rect x="{x:.2f}" y="0" width="{width:.2f}" height="12" fill="{_fill(state, hatch)}"/>')
            x += width
    return (
        f'<svg width="120" height="12" viewBox="0 0 120 12" role="img" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>{_hatch(hatch)}{''.join(rects)}</svg>"
    )


_TICK_STEPS = [
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=30),
    timedelta(days=61),
    timedelta(days=91),
]


def _ticks(start: datetime, end: datetime) -> list[datetime]:
    """Round moments for the time axis: at most ~10, aligned to the step from midnight UTC."""
    span = end - start
    step = next((s for s in _TICK_STEPS if span / s <= 10), _TICK_STEPS[-1])
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = midnight + ((start - midnight + step - timedelta(microseconds=1)) // step) * step
    ticks: list[datetime] = []
    while moment <= end and len(ticks) < 40:
        ticks.append(moment)
        moment += step
    return ticks


_LABEL_W = 230.0
_CHART_W = 1000.0
_ROW_H = 22.0
_BAR_H = 16.0


def _timeline_svg(
    area: str,
    rows: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
    start: datetime,
    end: datetime,
    ids: _Ids,
) -> str:
    """One area: a row per (label, intervals), bars coloured by state, a UTC time axis."""
    hatch, title_id, desc_id = ids.next("hatch"), ids.next("svgtitle"), ids.next("svgdesc")
    span = (end - start).total_seconds() or 1.0
    plot_w = _CHART_W - _LABEL_W - 45  # room for the last tick's label
    height = 24 + len(rows) * _ROW_H + 22

    def x_of(text: str | None) -> float:
        if text is None:
            return _LABEL_W + plot_w
        moment = min(max(parse_time(text), start), end)
        return _LABEL_W + (moment - start).total_seconds() / span * plot_w

    parts = [
        f'<svg viewBox="0 0 {_CHART_W:.0f} {height:.0f}" width="{_CHART_W:.0f}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="system-ui, DejaVu Sans, sans-serif" font-size="12">',
        f'<title id="{title_id}">Timeline of the {_e(area)} area</title>',
        f'<desc id="{desc_id}">{_e(_rows_text(rows))}</desc>',
        _hatch(hatch),
    ]
    top = 8.0
    for index, (label, intervals) in enumerate(rows):
        y = top + index * _ROW_H
        weight = ' font-weight="600"' if index == 0 else ""
        parts.append(f'<text x="{_LABEL_W - 8:.0f}" y="{y + 12.5:.1f}" text-anchor="end"{weight}>{_e(label)}</text>')
        parts.append(
            f'<rect x="{_LABEL_W:.0f}" y="{y:.1f}" width="{plot_w:.0f}" height="{_BAR_H:.0f}" '
            'fill="#ffffff" stroke="#d0d7de"/>'
        )
        for interval in intervals:
            state = str(interval.get("state"))
            x0, x1 = x_of(str(interval["start"])), x_of(interval.get("end"))
            width = max(x1 - x0, 0.4)
            tip = (
                f"{label}: {STATE_LABELS.get(state, state)} from {_when(str(interval['start']))} "
                f"to {_when(interval.get('end')) if interval.get('end') else 'the end of the period'}"
            )
            parts.append(
                f'<rect x="{x0:.2f}" y="{y:.1f}" width="{width:.2f}" height="{_BAR_H:.0f}" '
                f'fill="{_fill(state, hatch)}"><title>{_e(tip)}</title></rect>'
            )
    axis_y = top + len(rows) * _ROW_H + 2
    parts.append(
        f'<line x1="{_LABEL_W:.0f}" y1="{axis_y:.1f}" x2="{_LABEL_W + plot_w:.0f}" y2="{axis_y:.1f}" stroke="#57606a"/>'
    )
    ticks = _ticks(start, end)
    daily = len(ticks) < 2 or (ticks[1] - ticks[0]) >= timedelta(days=1)
    one_day = end - start <= timedelta(days=1) and (end - timedelta(microseconds=1)).date() == start.date()
    for tick in ticks:
        x = _LABEL_W + (tick - start).total_seconds() / span * plot_w
        if daily:
            text = tick.strftime("%Y-%m-%d")
        elif one_day and tick.date() == start.date():
            text = tick.strftime("%H:%M")
        else:
            text = tick.strftime("%m-%d %H:%M")
        anchor = "middle"
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 2:.0f}" x2="{x:.1f}" y2="{axis_y + 4:.1f}" stroke="#8c959f" '
            'stroke-dasharray="2 3" stroke-width="0.8"/>'
        )
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 16:.1f}" text-anchor="{anchor}" fill="#424a53">{_e(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _shares_of(intervals: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    total = sum(float(i.get("seconds", 0.0)) for i in intervals) or 1.0
    shares = {state: 0.0 for state in STATES}
    for interval in intervals:
        state = str(interval.get("state"))
        shares[state] = shares.get(state, 0.0) + float(interval.get("seconds", 0.0)) / total
    return shares


def _rows_text(rows: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]) -> str:
    return "; ".join(
        f"{label}: " + ", ".join(f"{STATE_LABELS[s]} {_pct(v)}" for s, v in _shares_of(intervals).items() if v > 0)
        for label, intervals in rows
    )


def _area_segments(segments: Sequence[Mapping[str, Any]], end: str) -> list[dict[str, Any]]:
    """Area segments as intervals (with seconds), so they draw and describe like a control's."""
    out = []
    for segment in segments:
        seg_end = str(segment["end"])
        seconds = (parse_time(seg_end) - parse_time(str(segment["start"]))).total_seconds()
        out.append({"state": segment["state"], "start": segment["start"], "end": seg_end, "seconds": seconds})
    if out and out[-1]["end"] == end:
        out[-1]["end"] = None
    return out


# --- sections ----------------------------------------------------------------------------------


def _verification_block(verified: bool | None, verification: Mapping[str, Any] | None) -> str:
    if verified is None:
        return (
            '<div class="verdict warn"><strong>Not verified.</strong> This report was made without verifying '
            "the ledger; run <code>controlwatch evidence verify</code>.</div>"
        )
    details: list[str] = []
    info = verification or {}
    signatures = bool(info.get("signatures_checked", True))
    if info:
        records = info.get("records")
        anchored = info.get("anchored_through")
        details.append(
            f"{_e(records)} records checked (seq {_e(info.get('first_seq'))}..{_e(info.get('last_seq'))}); "
            + (
                f"anchored by {_e(info.get('checkpoints'))} signed checkpoints through seq {_e(anchored)}."
                if anchored is not None
                else "no valid signed checkpoint."
            )
        )
        if info.get("unanchored"):
            details.append(
                f"{_e(info['unanchored'])} records after the last checkpoint are not yet anchored by a signature."
            )
        first_bad = info.get("first_bad")
        if isinstance(first_bad, Mapping):
            where = f"record {first_bad.get('seq')}: " if first_bad.get("seq") is not None else ""
            details.append(f"First bad record: <strong>{_e(where)}{_e(first_bad.get('reason'))}</strong>")
            total = info.get("problems_total")
            if isinstance(total, int) and total > 1:
                details.append(f"{total} problems in all.")
        details.extend(_e(note) for note in info.get("notes", []))
    if not verified:
        css, head = "bad", "Verification FAILED: the ledger was altered or damaged; do not rely on this report."
    elif not signatures:
        css, head = "warn", "Chain intact, but signatures NOT checked (no public key given)."
    else:
        css, head = "ok", "Verified: every hash, link and checkpoint signature checks out."
    items = "".join(f"<li>{d}</li>" for d in details)
    return f'<div class="verdict {css}"><strong>{_e(head)}</strong>' + (f"<ul>{items}</ul>" if items else "") + "</div>"


def _summary_table(controls: Sequence[Mapping[str, Any]], ids: _Ids) -> str:
    if not controls:
        return _none("No control was monitored in this period.")
    rows = []
    for index, item in enumerate(controls):
        shares = item.get("shares", {})
        rows.append(
            [
                f'<a href="#ctl-{index}">{_e(item["control"])}</a>',
                _e(item["scope"]),
                _e(item.get("area")),
                _e(item.get("runs")),
                _pct(float(shares.get("pass", 0.0))),
                _pct(float(shares.get("fail", 0.0))),
                _pct(float(shares.get("error", 0.0))),
                _pct(float(shares.get("gap", 0.0))),
                _e(len(item.get("failures", []))),
                _state(item.get("last_status")),
                _share_bar(shares, ids),
            ]
        )
    return _table(
        [
            "Control",
            "Scope",
            "Area",
            "Runs",
            "Passing",
            "Failing",
            "Error",
            "Not monitored",
            "Failures",
            "Last status",
            "Share of the period",
        ],
        rows,
        numeric=(3, 4, 5, 6, 7, 8),
    )


def _how_ended(interval: Mapping[str, Any]) -> str:
    end, ended_by = interval.get("end"), interval.get("ended_by")
    if end is None:
        return "still so at the end of the period"
    if ended_by == "pass":
        return f"resolved (passing) at {_e(_when(str(end)))}"
    if ended_by is None:
        return f"ended at {_e(_when(str(end)))}"
    return f"followed by {_state(str(ended_by))} at {_e(_when(str(end)))}"


def _intervals_table(intervals: Sequence[Mapping[str, Any]], what: str, *, resolution: bool) -> str:
    if not intervals:
        return _none(f"No {what} in the period.")
    head = ["Start (UTC)", "End (UTC)", "Time to resolution" if resolution else "Duration", "How it ended", "Record"]
    rows = [
        [
            _e(_when(str(i["start"]))),
            _e(_when(i.get("end"))) if i.get("end") else "—",
            _e(_duration(float(i.get("seconds", 0.0)))) + ("" if i.get("end") else " (open)"),
            _how_ended(i),
            f"seq {_e(i['first_seq'])}" if i.get("first_seq") is not None else "—",
        ]
        for i in intervals
    ]
    return _table(head, rows)


def _change_text(change: Mapping[str, Any]) -> str:
    parts = [f"<code>{_e(change.get('resource', ''))}</code>"]
    if change.get("subject"):
        parts.append(f"<code>{_e(change.get('subject'))}</code>")
    parts.append(_e(change.get("reason", "")))
    return " — ".join(parts)


def _control_section(index: int, item: Mapping[str, Any], period_seconds: float) -> str:
    shares = item.get("shares", {})
    parts = [
        f'<section class="control" id="ctl-{index}">',
        f"<h3>{_e(item['control'])} in {_e(item['scope'])} <span class='muted'>({_e(item.get('area'))})</span></h3>",
        "<p>",
        f"Passing for <strong>{_pct(float(shares.get('pass', 0.0)))}</strong> of the period",
        f" ({_e(_duration(float(shares.get('pass', 0.0)) * period_seconds))}); ",
        f"failing {_pct(float(shares.get('fail', 0.0)))}, error {_pct(float(shares.get('error', 0.0)))}, ",
        f"not monitored {_pct(float(shares.get('gap', 0.0)))}. ",
        f"{_e(item.get('runs'))} runs in the period, every {_e(_duration(float(item.get('interval_seconds', 0))))}; ",
        f"last status {_state(item.get('last_status'))}.",
        "</p>",
        "<h4>Failures</h4>",
        _intervals_table(item.get("failures", []), "failure", resolution=True),
        "<h4>Errors (the control could not judge)</h4>",
        _intervals_table(item.get("errors", []), "error", resolution=True),
        "<h4>Gaps in monitoring</h4>",
        _intervals_table(item.get("gaps", []), "gap", resolution=False),
    ]
    drift = item.get("drift", [])
    if drift:
        parts.append("<h4>Drift events</h4>")
        parts.append(_drift_table(drift, with_pair=False))
    risks = item.get("accepted_risks", [])
    if risks:
        parts.append("<h4>Accepted risks</h4>")
        parts.append(_risks_table(risks, with_pair=False))
    parts.append("</section>")
    return "".join(parts)


def _drift_table(events: Sequence[Mapping[str, Any]], *, with_pair: bool) -> str:
    head = (["Control", "Scope"] if with_pair else []) + ["Time (UTC)", "Changes", "Record"]
    rows = []
    for event in events:
        changes = event.get("changes", [])
        text = "<br>".join(_change_text(c) for c in changes) or '<span class="none">(no detail)</span>'
        pair = [_e(event.get("control")), _e(event.get("scope"))] if with_pair else []
        rows.append(
            [
                *pair,
                _e(_when(str(event.get("time")))),
                text,
                f"seq {_e(event.get('seq'))}<br><code>{_e(event.get('hash'))}</code>",
            ]
        )
    return _table(head, rows)


def _risks_table(risks: Sequence[Mapping[str, Any]], *, with_pair: bool) -> str:
    head = (["Control", "Scope"] if with_pair else []) + [
        "Resource / subject",
        "Reason",
        "Approved by",
        "Expires",
        "Seen (UTC)",
        "Runs",
    ]
    rows = []
    for risk in risks:
        pair = [_e(risk.get("control")), _e(risk.get("scope"))] if with_pair else []
        subject = f"<br><code>{_e(risk['subject'])}</code>" if risk.get("subject") else ""
        rows.append(
            [
                *pair,
                f"<code>{_e(risk.get('resource'))}</code>{subject}",
                _e(risk.get("reason")),
                _e(risk.get("approver")) if risk.get("approver") else '<span class="none">not recorded</span>',
                _e(risk.get("expires")) if risk.get("expires") else '<span class="none">not recorded</span>',
                f"{_e(_when(risk.get('first_seen')))} – {_e(_when(risk.get('last_seen')))}",
                _e(risk.get("runs")),
            ]
        )
    return _table(head, rows, numeric=(len(head) - 1,))


def _coverage_table(days: Sequence[Mapping[str, Any]]) -> str:
    if not days:
        return _none("No day in the period.")
    rows = []
    for day in days:
        missing = list(day.get("missing", []))
        expected = list(day.get("expected", []))
        checked = list(day.get("checked", []))
        verdict = (
            '<span class="state state-pass">yes</span>'
            if not missing
            else f'<span class="state state-fail">no</span> missing: {_e(", ".join(missing))}'
        )
        for scope, causes in sorted((day.get("explained") or {}).items()):  # recorded causes of missing runs
            verdict += f"<br>{_e(scope)}: {_e('; '.join(causes))}"
        rows.append(
            [
                _e(day.get("day")),
                verdict,
                f"{len(set(checked) & set(expected))} of {len(expected)}",
                _e(", ".join(checked)) or '<span class="none">none</span>',
            ]
        )
    complete = sum(1 for day in days if not day.get("missing"))
    return f"<p>Every expected project was checked on <strong>{complete} of {len(days)}</strong> days.</p>" + _table(
        ["Day (UTC)", "Every project checked?", "Checked", "Projects with a run that day"], rows
    )


def _event_text(event: Mapping[str, Any]) -> str:
    body = event.get("body") or {}
    kind = event.get("kind")
    if not isinstance(body, Mapping):
        return _e(body)
    if kind == "daemon_start":
        scopes = ", ".join(str(s) for s in body.get("scopes", []))
        return _e(f"daemon started: version {body.get('version')}, mode {body.get('mode')}, scopes {scopes or '—'}")
    if kind == "daemon_stop":
        return _e(f"daemon stopped: {body.get('reason')}")
    if kind == "config_reload":
        error = f" ({body.get('error')})" if body.get("error") else ""
        return _e(f"configuration reload: {body.get('result')}{error}")
    if kind == "baseline_approved":
        controls = ", ".join(str(c) for c in body.get("controls", []))
        return _e(
            f"baseline approved for {body.get('scope')} by {body.get('approver')}"
            + (f" ({controls})" if controls else "")
            + (f": {body.get('note')}" if body.get("note") else "")
        )
    if kind == "exceptions_changed":
        lines = [
            _e(
                f"accepted risks changed: {len(body.get('added', []))} added, {len(body.get('removed', []))} removed, "
                f"{body.get('count')} in force" + (f", by {body.get('by')}" if body.get("by") else "")
            )
        ]
        for label, key in (("added", "added"), ("removed", "removed")):
            for risk in body.get(key, []):
                if isinstance(risk, Mapping):
                    lines.append(
                        _e(
                            f"{label}: {risk.get('control')} {risk.get('scope')} {risk.get('resource')}: "
                            f"{risk.get('reason')} (approved by {risk.get('approver')}, expires {risk.get('expires')})"
                        )
                    )
        return "<br>".join(lines)
    if kind == "prune_anchor":
        return _e(f"records through seq {body.get('pruned_through')} pruned (retention cutoff {body.get('cutoff')})")
    return f"<code>{_e(json.dumps(body, sort_keys=True, ensure_ascii=False))}</code>"


def _events_table(events: Sequence[Mapping[str, Any]]) -> str:
    if not events:
        return _none("No daemon, configuration, baseline or accepted-risk event in the period.")
    rows = [
        [_e(_when(str(e.get("time")))), _e(e.get("kind")), _event_text(e), f"seq {_e(e.get('seq'))}"] for e in events
    ]
    return _table(["Time (UTC)", "Event", "Details", "Record"], rows)


def _all_gaps(controls: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for item in controls:
        for gap in item.get("gaps", []):
            rows.append(
                [
                    _e(item.get("control")),
                    _e(item.get("scope")),
                    _e(_when(str(gap["start"]))),
                    _e(_when(gap.get("end"))) if gap.get("end") else "end of period",
                    _e(_duration(float(gap.get("seconds", 0.0)))),
                ]
            )
    if not rows:
        return _none("Every control was monitored throughout the period: no gap.")
    return _table(["Control", "Scope", "From (UTC)", "To (UTC)", "Duration"], rows, numeric=(4,))


# --- the document ------------------------------------------------------------------------------


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
) -> str:
    """The report as one HTML document (a `str`); nothing is read or written here.

    `summary_json` is `Summary.to_json()`; `period` the `[from, to)` it covers; `ledger_head`
    (seq, hash) of the ledger when the report was made (None: empty ledger); `verified` the
    outcome of `verify_ledger` (None: not verified), with its `Report.to_json()` as
    `verification` for the details; `generated_at` when the report was made.
    """
    ids = _Ids()
    from_s, to_s = _time_of(period[0]), _time_of(period[1])
    start, end = parse_time(from_s), parse_time(to_s)
    period_seconds = (end - start).total_seconds()
    controls: list[Mapping[str, Any]] = list(summary_json.get("controls", []))
    areas: Mapping[str, Sequence[Mapping[str, Any]]] = summary_json.get("areas", {})
    generated = _time_of(generated_at) if generated_at is not None else None

    head = (
        f"seq {_e(ledger_head[0])}, hash <code>{_e(ledger_head[1])}</code>"
        if ledger_head is not None
        else '<span class="none">the ledger is empty</span>'
    )
    first_seq, last_seq = summary_json.get("first_seq"), summary_json.get("last_seq")
    in_period = f"seq {_e(first_seq)}..{_e(last_seq)}" if first_seq is not None else "none"
    failing = [c for c in controls if c.get("failures")]
    gaps = [c for c in controls if c.get("gaps")]
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="{_e(generator)}">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        "<header>",
        f"<h1>{_e(title)}</h1>",
        '<dl class="meta">',
        f"<dt>Period</dt><dd>{_e(_when(from_s))} (inclusive) to {_e(_when(to_s))} (exclusive), UTC "
        f"<span class='muted'>({_e(_duration(period_seconds))})</span></dd>",
        f"<dt>Generated</dt><dd>{_e(_when(generated)) + ' UTC' if generated else 'not stated'} by {_e(generator)}</dd>",
        f"<dt>Ledger head</dt><dd>{head}</dd>",
        f"<dt>Records in the period</dt><dd>{in_period}</dd>",
        f"<dt>Controls × scopes</dt><dd>{len(controls)} monitored; {len(failing)} with failures; "
        f"{len(gaps)} with gaps in monitoring</dd>",
        "</dl>",
        _verification_block(verified, verification),
        "</header>",
        '<nav aria-label="Contents"><h2>Contents</h2><ol>',
        '<li><a href="#summary">Summary</a></li>',
        '<li><a href="#timelines">Timelines by area</a></li>',
        '<li><a href="#coverage">Daily coverage</a></li>',
        '<li><a href="#controls">Each control and scope</a></li>',
        '<li><a href="#risks">Accepted risks</a></li>',
        '<li><a href="#drift">Drift events</a></li>',
        '<li><a href="#gaps">Gaps in monitoring and daemon events</a></li>',
        '<li><a href="#reading">How to read this report</a></li>',
        "</ol></nav>",
        '<section id="summary"><h2>Summary</h2>',
        "<p>Share of the period each control spent in each state, per scope (project).</p>",
        _legend(ids),
        _summary_table(controls, ids),
        "</section>",
        '<section id="timelines"><h2>Timelines by area</h2>',
        "<p>The first row of each chart is the area's worst state at each moment "
        "(error, then failing, then not monitored, then passing); the others are its controls per scope. "
        "Times on the axis are UTC.</p>",
        _legend(ids),
    ]
    if not areas:
        out.append(_none("No area was monitored in this period."))
    for area, segments in areas.items():
        rows: list[tuple[str, Sequence[Mapping[str, Any]]]] = [(f"{area} (worst)", _area_segments(segments, to_s))]
        rows.extend(
            (f"{c['control']} / {c['scope']}", c.get("timeline", [])) for c in controls if c.get("area") == area
        )
        lines = "".join(f"<li>{_e(line)}</li>" for line in _rows_text(rows).split("; "))
        out.append(
            f"<figure><h3>{_e(area)}</h3>{_timeline_svg(area, rows, start, end, ids)}"
            f"<figcaption>Shares of the period: <ul>{lines}</ul></figcaption></figure>"
        )
    out += [
        "</section>",
        '<section id="coverage"><h2>Daily coverage</h2>',
        "<p>Was every project checked on each day? Expected projects are those the daemon declared it "
        "monitors (its sweep population), or, without such a record, those seen in the period.</p>",
        _coverage_table(summary_json.get("coverage", [])),
        "</section>",
        '<section id="controls"><h2>Each control and scope</h2>',
    ]
    if not controls:
        out.append(_none("No control was monitored in this period."))
    out.extend(_control_section(index, item, period_seconds) for index, item in enumerate(controls))
    all_risks = [r for c in controls for r in c.get("accepted_risks", [])]
    all_drift = [d for c in controls for d in c.get("drift", [])]
    out += [
        "</section>",
        '<section id="risks"><h2>Accepted risks</h2>',
        "<p>Failures under an accepted risk stay failures (they are counted as failing above); "
        "these are the risks seen in force, with who approved them and until when.</p>",
        _risks_table(all_risks, with_pair=True) if all_risks else _none("No accepted risk was in force."),
        "</section>",
        '<section id="drift"><h2>Drift events</h2>',
        "<p>Changes of the watched state away from the approved baseline, as first seen by a run.</p>",
        _drift_table(all_drift, with_pair=True) if all_drift else _none("No drift from the approved baselines."),
        "</section>",
        '<section id="gaps"><h2>Gaps in monitoring and daemon events</h2>',
        "<h3>Gaps</h3>",
        "<p>A gap is time with no run for more than twice the control's interval: absence of evidence, "
        "never counted as passing.</p>",
        _all_gaps(controls),
        "<h3>Events</h3>",
        "<p>Daemon starts and stops, configuration reloads, baseline approvals, accepted-risk changes and "
        "pruning: they explain gaps and changes.</p>",
        _events_table(summary_json.get("events", [])),
        "</section>",
        '<section id="reading"><h2>How to read this report</h2>',
        "<ul>",
        "<li>Every number here is computed from <code>control_run</code> records of the evidence ledger. "
        "A run's status holds from its end until the next run ends, but no longer than twice its interval; "
        "after that the control is counted as not monitored.</li>",
        "<li><strong>Failing</strong> includes failures under an accepted risk. <strong>Error</strong> means the "
        "control could not judge (its input could not be read): it is never counted as passing.</li>",
        "<li>Each record is named by its sequence number (seq) and hash. "
        "<code>controlwatch evidence export</code> gives the records themselves with the proof of their "
        "chain, which anyone can check with the public key: <code>controlwatch evidence verify --export FILE "
        "--public-key KEY</code>.</li>",
        "<li>What verification proves: no record before the last signed checkpoint was changed, removed, "
        "inserted or reordered, unless by someone holding the signing key. Records after the last checkpoint "
        "are not yet anchored. A key kept on the writer's host does not stop that host's administrator; "
        "the copy of every record in a locked Cloud Logging bucket, and checkpoints or exports kept by the "
        "auditor, do.</li>",
        "</ul></section>",
        f"<footer>{_e(title)} — period {_e(from_s)} to {_e(to_s)} — generated "
        f"{_e(generated) if generated else 'at an unstated time'} by {_e(generator)}.</footer>",
        "</body></html>",
    ]
    return "\n".join(out) + "\n"
