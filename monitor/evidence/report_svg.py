"""Geometry of the report's inline SVG: timelines, share bars and legend swatches.

Here the numbers are computed (where a bar starts, which moments get a tick, what the
text alternative says); `templates/svg.html.j2` only writes them out, so the drawing
can change without touching the arithmetic and the arithmetic is testable without HTML.

A run's status holds from its end until the next run ends, but no longer than twice its
interval; the intervals arrive already cut that way (`summary.py`), so a bar is drawn
exactly as long as its interval, clamped to the period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.evidence.canonical import parse_time
from monitor.evidence.report_format import COLOURS, STATE_LABELS, STATES, pct, when

__all__ = [
    "Bar",
    "Ids",
    "ShareBar",
    "Swatch",
    "Tick",
    "Timeline",
    "TimelineRow",
    "area_timeline",
    "legend",
    "share_bar",
    "ticks",
]

CHART_W = 1000.0
LABEL_W = 230.0
PLOT_W = CHART_W - LABEL_W - 45  # room for the last tick's label
ROW_H = 22.0
BAR_H = 16.0
TOP = 8.0
SHARE_BAR_W = 120.0


class Ids:
    """Unique element ids within one document (several SVGs each define a hatch pattern)."""

    def __init__(self) -> None:
        self.count = 0

    def next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count}"


def fill(state: str, hatch_id: str) -> str:
    """Not monitored is hatched (told apart without colour, and in grey print); others are colours."""
    return f"url(#{hatch_id})" if state == "gap" else COLOURS.get(state, "#000000")


@dataclass(frozen=True, slots=True)
class Swatch:
    label: str
    hatch: str
    fill: str


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    fill: str
    tip: str = ""


@dataclass(frozen=True, slots=True)
class ShareBar:
    hatch: str
    label: str
    bars: tuple[Bar, ...]
    width: float = SHARE_BAR_W


@dataclass(frozen=True, slots=True)
class TimelineRow:
    label: str
    y: float
    text_y: float
    bold: bool
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """One area's chart: a row per (label, intervals) and a UTC time axis, in SVG user units."""

    area: str
    hatch: str
    title_id: str
    desc_id: str
    captions: tuple[str, ...]
    height: float
    rows: tuple[TimelineRow, ...]
    axis_y: float
    ticks: tuple[Tick, ...]
    width: float = CHART_W
    label_x: float = LABEL_W - 8
    plot_x: float = LABEL_W
    plot_w: float = PLOT_W
    bar_h: float = BAR_H
    tick_top: float = TOP - 2

    @property
    def description(self) -> str:
        return "; ".join(self.captions)

    @property
    def plot_end(self) -> float:
        return self.plot_x + self.plot_w

    @property
    def tick_bottom(self) -> float:
        return self.axis_y + 4

    @property
    def tick_label_y(self) -> float:
        return self.axis_y + 16


def legend(ids: Ids) -> tuple[Swatch, ...]:
    """One swatch per state, in the order the charts and tables use."""
    swatches = []
    for state in STATES:
        hatch = ids.next("hatch")
        swatches.append(Swatch(STATE_LABELS[state], hatch, fill(state, hatch)))
    return tuple(swatches)


def share_bar(shares: Mapping[str, float], ids: Ids) -> ShareBar:
    """A small stacked bar of the shares of the period (its label is the text alternative)."""
    hatch = ids.next("hatch")
    label = ", ".join(f"{STATE_LABELS[s]} {pct(float(shares.get(s, 0.0)))}" for s in STATES)
    x = 0.0
    bars = []
    for state in STATES:
        width = float(shares.get(state, 0.0)) * SHARE_BAR_W
        if width > 0:
            bars.append(Bar(x, width, fill(state, hatch)))
            x += width
    return ShareBar(hatch, label, tuple(bars))


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


def ticks(start: datetime, end: datetime) -> list[datetime]:
    """Round moments for the time axis: at most ~10, aligned to the step from midnight UTC."""
    span = end - start
    step = next((s for s in _TICK_STEPS if span / s <= 10), _TICK_STEPS[-1])
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = midnight + ((start - midnight + step - timedelta(microseconds=1)) // step) * step
    found: list[datetime] = []
    while moment <= end and len(found) < 40:
        found.append(moment)
        moment += step
    return found


def _tick_labels(start: datetime, end: datetime, moments: Sequence[datetime]) -> list[str]:
    """Dates for daily steps, times alone within one day, else month-day and time."""
    daily = len(moments) < 2 or (moments[1] - moments[0]) >= timedelta(days=1)
    one_day = end - start <= timedelta(days=1) and (end - timedelta(microseconds=1)).date() == start.date()
    labels = []
    for tick in moments:
        if daily:
            labels.append(tick.strftime("%Y-%m-%d"))
        elif one_day and tick.date() == start.date():
            labels.append(tick.strftime("%H:%M"))
        else:
            labels.append(tick.strftime("%m-%d %H:%M"))
    return labels


def _shares_of(intervals: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Each state's share of the time the intervals cover."""
    total = sum(float(i.get("seconds", 0.0)) for i in intervals) or 1.0
    shares = {state: 0.0 for state in STATES}
    for interval in intervals:
        state = str(interval.get("state"))
        shares[state] = shares.get(state, 0.0) + float(interval.get("seconds", 0.0)) / total
    return shares


def _row_text(label: str, intervals: Sequence[Mapping[str, Any]]) -> str:
    shares = _shares_of(intervals).items()
    return f"{label}: " + ", ".join(f"{STATE_LABELS.get(s, s)} {pct(v)}" for s, v in shares if v > 0)


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


def area_timeline(
    area: str,
    segments: Sequence[Mapping[str, Any]],
    controls: Sequence[Mapping[str, Any]],
    period: tuple[str, str],
    ids: Ids,
) -> Timeline:
    """The area's chart: first its worst state at each moment, then each of its (control, scope) pairs."""
    rows: list[tuple[str, Sequence[Mapping[str, Any]]]] = [(f"{area} (worst)", _area_segments(segments, period[1]))]
    rows.extend((f"{c['control']} / {c['scope']}", c.get("timeline", [])) for c in controls if c.get("area") == area)
    start, end = parse_time(period[0]), parse_time(period[1])
    return _timeline(area, rows, start, end, ids)


def _timeline(
    area: str,
    rows: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
    start: datetime,
    end: datetime,
    ids: Ids,
) -> Timeline:
    hatch, title_id, desc_id = ids.next("hatch"), ids.next("svgtitle"), ids.next("svgdesc")
    span = (end - start).total_seconds() or 1.0

    def x_of(moment: datetime) -> float:
        return LABEL_W + (moment - start).total_seconds() / span * PLOT_W

    def x_of_text(text: str | None) -> float:
        return LABEL_W + PLOT_W if text is None else x_of(min(max(parse_time(text), start), end))

    drawn = []
    for index, (label, intervals) in enumerate(rows):
        y = TOP + index * ROW_H
        bars = []
        for interval in intervals:
            state = str(interval.get("state"))
            x0, x1 = x_of_text(str(interval["start"])), x_of_text(interval.get("end"))
            until = when(interval.get("end")) if interval.get("end") else "the end of the period"
            tip = f"{label}: {STATE_LABELS.get(state, state)} from {when(str(interval['start']))} to {until}"
            bars.append(Bar(x0, max(x1 - x0, 0.4), fill(state, hatch), tip))
        drawn.append(TimelineRow(label, y, y + 12.5, index == 0, tuple(bars)))
    axis_y = TOP + len(rows) * ROW_H + 2
    moments = ticks(start, end)
    labels = _tick_labels(start, end, moments)
    return Timeline(
        area=area,
        hatch=hatch,
        title_id=title_id,
        desc_id=desc_id,
        captions=tuple(_row_text(label, intervals) for label, intervals in rows),
        height=24 + len(rows) * ROW_H + 22,
        rows=tuple(drawn),
        axis_y=axis_y,
        ticks=tuple(Tick(x_of(moment), text) for moment, text in zip(moments, labels, strict=True)),
    )
