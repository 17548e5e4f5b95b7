"""The report's sentences about the ledger itself: the verification verdict and the daemon's events.

They are plain text (the templates escape them); only their structure (which part is
strong, where a line breaks) is carried as data, so no markup is ever built here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.evidence.report_format import when
from monitor.evidence.signing import TEST_KEY_WARNING
from monitor.plurals import counted, is_are

__all__ = ["Detail", "EventView", "Verdict", "describe_event", "verdict"]


@dataclass(frozen=True, slots=True)
class Detail:
    """One line under the verdict: `text`, then `strong` in bold."""

    text: str
    strong: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    css: str  # ok, warn or bad
    head: str
    details: tuple[Detail, ...]


@dataclass(frozen=True, slots=True)
class EventView:
    """A daemon event as a row: `lines` in words, or `code` (its body as JSON) for an unknown kind."""

    time: str
    kind: object
    seq: object
    lines: tuple[str, ...]
    code: str | None = None


def _text(value: object) -> str:
    """A value in a sentence; an absent one is left out rather than written as `None`."""
    return "" if value is None else str(value)


def verdict(verified: bool | None, verification: Mapping[str, Any] | None) -> Verdict | None:
    """What verification showed (`Report.to_json()`); None when the ledger was not verified."""
    if verified is None:
        return None
    details: list[Detail] = []
    info = verification or {}
    signatures = bool(info.get("signatures_checked", True))
    if info:
        anchored = info.get("anchored_through")
        details.append(
            Detail(
                f"{_counted(info.get('records'), 'record')} checked "
                f"(seq {_text(info.get('first_seq'))}..{_text(info.get('last_seq'))}); "
                + (
                    f"anchored by {_counted(info.get('checkpoints'), 'signed checkpoint')} through seq {anchored}."
                    if anchored is not None
                    else "no valid signed checkpoint."
                )
            )
        )
        if info.get("unanchored"):
            count = info["unanchored"]
            unanchored = f"{_counted(count, 'record')} after the last checkpoint"
            verb = is_are(count) if isinstance(count, int) else "are"
            details.append(Detail(f"{unanchored} {verb} not yet anchored by a signature."))
        first_bad = info.get("first_bad")
        if isinstance(first_bad, Mapping):
            where = f"record {first_bad.get('seq')}: " if first_bad.get("seq") is not None else ""
            details.append(Detail("First bad record: ", where + _text(first_bad.get("reason"))))
            total = info.get("problems_total")
            if isinstance(total, int) and total > 1:
                details.append(Detail(f"{total} problems in all."))
        details.extend(Detail(_text(note)) for note in info.get("notes", []))
    if not verified:
        css, head = "bad", "Verification FAILED: the ledger was altered or damaged; do not rely on this report."
    elif info.get("test_key"):
        css, head = "bad", "Signed with the bundled public TEST key: the signatures prove nothing."
        details.insert(0, Detail(TEST_KEY_WARNING[0].upper() + TEST_KEY_WARNING[1:] + "."))
    elif not signatures:
        css, head = "warn", "Chain intact, but signatures NOT checked (no public key given)."
    else:
        css, head = "ok", "Verified: every hash, link and checkpoint signature checks out."
    return Verdict(css, head, tuple(details))


def _risk_change(label: str, risk: Mapping[str, Any]) -> str:
    return (
        f"{label}: {risk.get('control')} {risk.get('scope')} {risk.get('resource')}: "
        f"{risk.get('reason')} (approved by {risk.get('approver')}, expires {risk.get('expires')})"
    )


def _lines(kind: object, body: Mapping[str, Any]) -> list[str] | None:
    """The event in words, a line per item; None for a kind without words (shown as JSON)."""
    if kind == "daemon_start":
        scopes = ", ".join(str(s) for s in body.get("scopes", []))
        return [f"daemon started: version {body.get('version')}, mode {body.get('mode')}, scopes {scopes or '—'}"]
    if kind == "daemon_stop":
        return [f"daemon stopped: {body.get('reason')}"]
    if kind == "config_reload":
        error = f" ({body.get('error')})" if body.get("error") else ""
        return [f"configuration reload: {body.get('result')}{error}"]
    if kind == "baseline_approved":
        controls = ", ".join(str(c) for c in body.get("controls", []))
        return [
            f"baseline approved for {body.get('scope')} by {body.get('approver')}"
            + (f" ({controls})" if controls else "")
            + (f": {body.get('note')}" if body.get("note") else "")
        ]
    if kind == "exceptions_changed":
        added: Sequence[Any] = body.get("added", [])
        removed: Sequence[Any] = body.get("removed", [])
        lines = [
            f"accepted risks changed: {len(added)} added, {len(removed)} removed, {body.get('count')} in force"
            + (f", by {body.get('by')}" if body.get("by") else "")
        ]
        for label, risks in (("added", added), ("removed", removed)):
            lines.extend(_risk_change(label, risk) for risk in risks if isinstance(risk, Mapping))
        return lines
    if kind == "scope_discovered":
        return [f"scope {body.get('scope')} watched from now on ({body.get('cause')}): {body.get('why')}"]
    if kind == "scope_removed":
        return [f"scope {body.get('scope')} no longer watched ({body.get('cause')}): {body.get('why')}"]
    if kind == "scope_discovery_failed":
        return [
            f"scope discovery failed ({body.get('cause')}): {body.get('error')}; "
            f"the {body.get('count')} watched scope(s) were kept"
        ]
    if kind == "prune_anchor":
        return [f"records through seq {body.get('pruned_through')} pruned (retention cutoff {body.get('cutoff')})"]
    return None


def describe_event(event: Mapping[str, Any]) -> EventView:
    """A daemon, configuration, baseline, accepted-risk or pruning event as a row of the events table."""
    body = event.get("body") or {}
    kind = event.get("kind")
    time, seq = when(str(event.get("time"))), event.get("seq")
    if not isinstance(body, Mapping):
        return EventView(time, kind, seq, (str(body),))
    lines = _lines(kind, body)
    if lines is None:
        return EventView(time, kind, seq, (), json.dumps(body, sort_keys=True, ensure_ascii=False))
    return EventView(time, kind, seq, tuple(lines))


def _counted(value: Any, noun: str) -> str:
    """A count from the verification document with its noun (plural unless it is the integer one)."""
    return counted(value, noun) if isinstance(value, int) else f"{_text(value)} {noun}s"
