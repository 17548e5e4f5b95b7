"""What `evidence report` and `evidence soc2` share: a period read from verified ledgers.

Several ledgers (`--ledger` repeated, or a directory) are one estate: each is verified on its
own chain, and the period is read from them as one (`monitor.evidence.estate`), so a scope
that moved between replicas has one timeline.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.commands.common import fail
from monitor.commands.evidence_args import (
    anchoring_options,
    checked_period,
    config_or_none,
    estate_source_options,
    key_option,
    ledger_files,
    opened,
    period_options,
    retained_statements,
    unanchored_limit,
    up_to_now,
    verification_keys,
)
from monitor.evidence import Record, Report, verify_ledger
from monitor.evidence.canonical import format_time
from monitor.evidence.estate import Estate
from monitor.evidence.references import References
from monitor.evidence.signing import TEST_KEY_WARNING

if TYPE_CHECKING:
    from monitor.evidence.summary import Summary

__all__ = ["PeriodRead", "period_label", "read_period", "reads_period", "verification_state", "warn_if_unproven"]


@dataclass(frozen=True, slots=True)
class PeriodRead:
    """A period's summary with what was verified: the outcome (None: not verified) and each ledger's head."""

    summary: Summary
    checked: Report | None
    heads: tuple[tuple[str, tuple[int, str] | None], ...]
    period: tuple[str, str]
    open_period: bool
    generated_at: datetime
    from_time: datetime
    to_time: datetime


def _head(record: Record | None, report: Report | None) -> tuple[int, str] | None:
    """The head verification reached (seq, hash), else the ledger's last record; None: empty."""
    if report is not None and report.last_seq is not None and report.head_hash is not None:
        return (report.last_seq, report.head_hash)
    return (record.seq, record.hash) if record is not None else None


def _estate_verdict(paths: list[Path], reports: list[Report]) -> Report:
    """One ledger's report as it is; of several, the first that failed (else the first), noting each ledger."""
    if len(reports) == 1:
        return reports[0]
    worst = next((report for report in reports if not report.ok), reports[0])
    notes = [f"{path}: {report.summary()}" for path, report in zip(paths, reports, strict=True)]
    return replace(worst, notes=(*notes, *worst.notes))


def read_period(
    *,
    config_path: str | None,
    ledger_paths: Sequence[str],
    from_time: datetime,
    to_time: datetime,
    public_keys: Sequence[str],
    controls: Sequence[str],
    scopes: Sequence[str],
    no_verify: bool,
    retained: Sequence[str],
    max_unanchored: timedelta | None,
) -> PeriodRead:
    """Verify the ledgers (unless `no_verify`) and summarize `[from, to)`, up to now for an open period."""
    from monitor.evidence import summarize

    from_time, to_time = checked_period(from_time, to_time)
    generated_at = datetime.now(UTC)
    to_time, open_period = up_to_now(from_time, to_time, generated_at)
    config = config_or_none(config_path)
    paths = ledger_files(ledger_paths, config)
    keys = verification_keys(public_keys, config)
    if no_verify and (retained or max_unanchored is not None):
        fail("--retained and --max-unanchored are inputs of the verification that --no-verify skips")
    bound = unanchored_limit(max_unanchored, config)
    statements = retained_statements(retained)
    reports = (
        [] if no_verify else [verify_ledger(path, keys, retained=statements, max_unanchored=bound) for path in paths]
    )
    checked = _estate_verdict(paths, reports) if reports else None
    with ExitStack() as stack:
        ledgers = [stack.enter_context(opened(path)) for path in paths]
        source = ledgers[0] if len(ledgers) == 1 else Estate([References(ledger) for ledger in ledgers])
        summary = summarize(source, from_time, to_time, controls=list(controls) or None, scopes=list(scopes) or None)
        found = [(ledger.head(), reports[i] if reports else None) for i, ledger in enumerate(ledgers)]
    heads = tuple((str(path), _head(record, report)) for path, (record, report) in zip(paths, found, strict=True))
    return PeriodRead(
        summary=summary,
        checked=checked,
        heads=heads,
        period=(format_time(from_time), format_time(to_time)),
        open_period=open_period,
        generated_at=generated_at,
        from_time=from_time,
        to_time=to_time,
    )


def period_label(moment: datetime) -> str:
    """A period bound for a title: the date at midnight, else date and time."""
    moment = moment.astimezone(UTC)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def verification_state(checked: Report | None) -> str:
    """One phrase for the command's last line: what the verification found."""
    if checked is None:
        return "not verified (--no-verify)"
    if not checked.ok:
        return f"verification FAILED ({checked.first_bad})"
    if not checked.signatures_checked:
        return "chain intact, signatures NOT checked (no public key)"
    if checked.test_key:
        return "chain intact, signed with the public TEST key (proves nothing)"
    return "verified"


def reads_period(output: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options of a period read from verified ledgers (`--ledger`, `--from`/`--to`, keys,
    `--control`/`--scope`, `--no-verify`, anchoring); the command is called with `read`, the
    `PeriodRead`, instead of them. `output` names what `--no-verify` leaves unverified."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(command)
        def with_read(
            *,
            config_path: str | None,
            ledger_paths: tuple[str, ...],
            from_time: datetime,
            to_time: datetime,
            public_keys: tuple[str, ...],
            controls: tuple[str, ...],
            scopes: tuple[str, ...],
            no_verify: bool,
            retained: tuple[str, ...],
            max_unanchored: timedelta | None,
            **rest: Any,
        ) -> None:
            read = read_period(
                config_path=config_path, ledger_paths=ledger_paths, from_time=from_time, to_time=to_time,
                public_keys=public_keys, controls=controls, scopes=scopes, no_verify=no_verify,
                retained=retained, max_unanchored=max_unanchored,
            )  # fmt: skip
            command(read=read, **rest)

        options = (
            estate_source_options,
            period_options,
            key_option,
            click.option("--control", "controls", multiple=True, help="Only this control (repeatable)."),
            click.option("--scope", "scopes", multiple=True, help="Only this scope (repeatable)."),
            click.option("--no-verify", is_flag=True, help=f"Do not verify the ledger first ({output} then says so)."),
            anchoring_options,
        )
        decorated: Callable[..., None] = with_read
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate


def warn_if_unproven(checked: Report | None) -> None:
    """On stderr: a ledger that failed verification, or signatures made with the public TEST key."""
    if checked is not None and not checked.ok:
        click.echo(f"warning: the ledger failed verification: {checked.first_bad}", err=True)
    if checked is not None and checked.test_key:
        click.echo(f"warning: {TEST_KEY_WARNING}", err=True)
