"""Values of the HTML report written for people: states, shares, times and durations.

Kept apart from the rendering so that the numbers an auditor reads (a share shown as
`<0.1%` rather than `0.0%`, a time in UTC without fractions) are decided in one place,
for the tables, the chart labels and the text alternatives alike.
"""

from __future__ import annotations

from datetime import datetime

from monitor.evidence.canonical import format_time, parse_time

__all__ = [
    "COLOURS",
    "DETAILED_STATES",
    "GAP_STROKE",
    "STATES",
    "STATE_LABELS",
    "duration",
    "pct",
    "time_of",
    "when",
]

STATES = ("pass", "fail", "error", "gap")
# The SOC 2 view's states: passing only under an accepted risk is told apart (`excepted`).
DETAILED_STATES = ("pass", "excepted", "fail", "error", "gap")
STATE_LABELS = {
    "pass": "passing",
    "excepted": "excepted (failing under an accepted risk)",
    "fail": "failing",
    "error": "error (not evaluated)",
    "gap": "not monitored",
}
COLOURS = {"pass": "#1a7f37", "excepted": "#bf8700", "fail": "#cf222e", "error": "#8250df", "gap": "#afb8c1"}
GAP_STROKE = "#57606a"


def pct(share: float) -> str:
    """A share as a percentage; a sliver is never shown as 0.0% or 100.0%."""
    share = float(share)
    if 0 < share < 0.0005:
        return "<0.1%"
    if 0.9995 <= share < 1:
        return ">99.9%"
    return f"{share * 100:.1f}%"


def when(text: object) -> str:
    """A ledger time for people: `2026-03-02 04:00:00` (UTC, fractions of a second dropped).

    None (no such moment) is a dash; text that is not a ledger time is shown as it is.
    """
    if text is None:
        return "—"
    try:
        moment = parse_time(str(text))
    except ValueError:
        return str(text)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float) -> str:
    """`1 d 2 h 5 min`; seconds are shown only for spans under an hour."""
    seconds = max(0, int(round(float(seconds))))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    if not days and not hours:
        parts.append(f"{secs} s" if secs or not minutes else "")
    return " ".join(p for p in parts if p) or "0 s"


def time_of(value: str | datetime) -> str:
    """A ledger time as text, whether the caller gave text or a datetime."""
    return format_time(value) if isinstance(value, datetime) else value
