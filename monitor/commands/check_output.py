"""What `controlwatch check` prints, and the exit code it returns (README, "Command line").

Exit 0 when nothing fails (excepted failures included), 1 when something fails, 3 when
any result is `error` (3 wins over 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from checks.model import Result, Verdict

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3
SCHEMA_VERSION = 1


def summarise(results: Iterable[Result]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "excepted": 0, "error": 0}
    for result in results:
        counts["excepted" if result.excepted else result.verdict.value] += 1
    return counts


def exit_code(results: Iterable[Result]) -> int:
    code = EXIT_OK
    for result in results:
        if result.verdict is Verdict.ERROR:
            return EXIT_ERROR
        if result.verdict is Verdict.FAIL and not result.excepted:
            code = EXIT_FAIL
    return code


def check_json(now: datetime, results: Sequence[Result], notes: Sequence[str] = ()) -> str:
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "now": now.isoformat().replace("+00:00", "Z"),
        "results": [r.to_json() for r in results],
        "summary": summarise(results),
    }
    if notes:
        document["notes"] = list(notes)
    return json.dumps(document, indent=2)


def check_table(results: Sequence[Result], *, show_passing: bool = False, passes_counted: int = 0) -> str:
    """A human listing: failures and errors first, one line each, then the summary.

    `passes_counted`: passes known only by their count (a daemon keeps no passing results),
    added to the summary."""
    order = {Verdict.ERROR: 0, Verdict.FAIL: 1, Verdict.PASS: 2}
    shown = [r for r in results if show_passing or r.verdict is not Verdict.PASS]
    shown.sort(key=lambda r: (order[r.verdict], r.scope, r.control, r.resource))
    lines = []
    for r in shown:
        verdict = "EXCEPTED" if r.excepted else r.verdict.value.upper()
        where = _short(r.resource, r.scope) + (f" [{r.subject}]" if r.subject else "")
        latent = " (latent)" if r.latent else ""
        lines.append(f"{verdict:<8} {r.control:<8} {r.scope:<24} {where}: {r.reason}{latent}")
        if r.excepted and r.exception_reason:
            lines.append(f"{'':<8} {'':<8} {'':<24} {r.exception_reason}")
    counts = summarise(results)
    counts["pass"] += passes_counted
    lines.append(
        f"{counts['pass']} pass, {counts['fail']} fail, {counts['excepted']} excepted, {counts['error']} error"
    )
    return "\n".join(lines)


def _short(resource: str, scope: str) -> str:
    """`global/firewalls/x` from `//compute.googleapis.com/projects/p/global/firewalls/x`."""
    marker = f"/projects/{scope}/"
    head, found, tail = resource.partition(marker)
    return tail if found and tail else resource
