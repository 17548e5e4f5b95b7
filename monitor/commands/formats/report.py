"""What every machine-readable `check` format is built from: one run's results and the
catalogue entries of their controls, plus the helpers the formats share."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from checks.model import Result, Verdict
from checks.registry import ControlMeta

DOCS_URL = "https://github.com/example/controlwatch/blob/main/docs/controls.md"
"""Where a control's definition is published; the same placeholder host as the runbook links."""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One `check` run: when it judged, what it found, and what each control is."""

    now: datetime
    results: Sequence[Result]
    controls: Mapping[str, ControlMeta]
    version: str
    source: str | None = None  # the config (or scenario) file the run read, as given on the command line
    judged: Mapping[str, Sequence[str]] | None = None  # scope -> the controls run there, results or not
    seconds: Mapping[str, float] | None = None  # scope -> how long its run took, collection included

    def controls_by_scope(self) -> dict[str, list[str]]:
        """Each scope's controls, including those that found nothing to judge (not applicable)."""
        found: dict[str, set[str]] = {scope: set(controls) for scope, controls in (self.judged or {}).items()}
        for result in self.results:
            found.setdefault(result.scope, set()).add(result.control)
        return {scope: sorted(controls, key=_control_order) for scope, controls in sorted(found.items())}


def _control_order(control: str) -> tuple[str, int]:
    area, _, number = control.rpartition("-")
    return (area, int(number)) if number.isdigit() else (control, 0)


def finding_key(result: Result) -> str:
    """A stable id of one judged subject across runs: control, scope, resource and subject.

    The subject is part of it because one resource can carry several findings of one control
    (one per member of a bucket policy, say); the reason and verdict are not, so a finding keeps
    its id while it changes from fail to pass and back."""
    text = "\x1f".join((result.control, result.scope, result.resource, result.subject))
    return hashlib.sha256(text.encode()).hexdigest()


def non_pass(results: Sequence[Result]) -> list[Result]:
    """The findings: every result that is not a pass (excepted failures included)."""
    return [r for r in results if r.verdict is not Verdict.PASS]


def help_uri(control: str) -> str:
    """The control's section of the published catalogue (`docs/controls.md`)."""
    return f"{DOCS_URL}#{control.lower()}"


def cis_ids(meta: ControlMeta) -> list[str]:
    """`CIS 4.0 3.6`-style names of the CIS recommendations a control judges."""
    return [f"CIS {version} {rec}" for version, rec in meta.references.cis]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
