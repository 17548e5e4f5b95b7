"""The values that flow from controls to everything downstream: verdicts, findings, results.

Kept free of I/O and of Google types so that controls stay pure and every consumer
(exporter, `/results`, evidence, CLI) reads one shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """Outcome of one result. `error` means the control could not judge: never a pass."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Area(StrEnum):
    FW = "firewall"
    IAM = "iam"
    ORG = "org"
    BKP = "backup"
    REG = "region"
    LOG = "logging"
    DRIFT = "drift"
    DATA = "data"
    VM = "compute"


def is_drift(control: str) -> bool:
    """Whether `control` (an id such as `DRIFT-01`) judges against an approved baseline: such a
    control needs a baseline to run, and each of its failures is drift."""
    return control.startswith("DRIFT-")


@dataclass(frozen=True, slots=True)
class Finding:
    """What a control says about one subject; the runner stamps control and scope on it."""

    resource: str
    verdict: Verdict
    reason: str
    subject: str = ""
    latent: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """One judged subject, as exported, logged and kept as evidence (README, "Seeing what fails")."""

    control: str
    scope: str
    resource: str
    subject: str
    verdict: Verdict
    reason: str
    excepted: bool = False
    latent: bool = False
    exception_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Field by field, not `asdict` (a recursive deep copy): `/results` writes tens of thousands.
        data: dict[str, Any] = {
            "control": self.control,
            "scope": self.scope,
            "resource": self.resource,
            "subject": self.subject,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "excepted": self.excepted,
            "latent": self.latent,
        }
        if self.exception_reason is not None:
            data["exception_reason"] = self.exception_reason
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        """The inverse of `to_json`; keys a reader added beside the result (`/results`'s
        `first_seen`, `new`) are not the result's and are left out."""
        return cls(
            control=data["control"],
            scope=data["scope"],
            resource=data["resource"],
            subject=data["subject"],
            verdict=Verdict(data["verdict"]),
            reason=data["reason"],
            excepted=data.get("excepted", False),
            latent=data.get("latent", False),
            exception_reason=data.get("exception_reason"),
        )


def roll_up(results: Iterable[Result]) -> Verdict:
    """Status of a control for a scope: any error wins, then any non-excepted failure."""
    status = Verdict.PASS
    for result in results:
        if result.verdict is Verdict.ERROR:
            return Verdict.ERROR
        if result.verdict is Verdict.FAIL and not result.excepted:
            status = Verdict.FAIL
    return status
