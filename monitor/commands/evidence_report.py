"""`controlwatch evidence report`: a self-contained HTML report of a period, verified first.

Several ledgers (`--ledger` repeated, or a directory) are one estate: each is verified on its
own chain, and the report reads them as one (`monitor.evidence.estate`), so a scope that moved
between replicas has one timeline.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from monitor import __version__
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

__all__ = ["report_command"]


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


def _label(moment: datetime) -> str:
    """A period bound for a title: the date at midnight, else date and time."""
    moment = moment.astimezone(UTC)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


@click.command("report", short_help="Render a self-contained HTML report of a period.")
@estate_source_options
@period_options
@key_option
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@click.option("--title", help="Title of the report (default: names the period).")
@click.option("--control", "controls", multiple=True, help="Only this control (repeatable).")
@click.option("--scope", "scopes", multiple=True, help="Only this scope (repeatable).")
@click.option("--no-verify", is_flag=True, help="Do not verify the ledger first (the report then says so).")
@anchoring_options
def report_command(
    config_path: str | None,
    ledger_paths: tuple[str, ...],
    from_time: datetime,
    to_time: datetime,
    public_keys: tuple[str, ...],
    out: str,
    title: str | None,
    controls: tuple[str, ...],
    scopes: tuple[str, ...],
    no_verify: bool,
    retained: tuple[str, ...],
    max_unanchored: timedelta | None,
) -> None:
    """Render a self-contained HTML report of [--from, --to): shares, failures, gaps, drift, risks, coverage.

    The ledger is verified first (with the public key, when given or configured) and the
    report says whether it verified, with the ledger head it was made from.
    """
    from monitor.evidence import summarize
    from monitor.evidence.report_html import render_report

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
        heads = [(ledger.head(), reports[i] if reports else None) for i, ledger in enumerate(ledgers)]
    named = [(str(path), _head(record, report)) for path, (record, report) in zip(paths, heads, strict=True)]
    head = named[0][1]
    period = (format_time(from_time), format_time(to_time))
    document = render_report(
        summary.to_json(),
        title=title
        or f"Evidence report, {_label(from_time)} to {'now (open period)' if open_period else _label(to_time)} (UTC)",
        period=period,
        ledger_head=head,
        verified=None if checked is None else checked.ok,
        verification=None if checked is None else checked.to_json(),
        generated_at=generated_at,
        generator=f"controlwatch {__version__}",
        open_period=open_period,
        ledger_heads=named if len(named) > 1 else (),
    )
    try:
        Path(out).write_text(document, encoding="utf-8")
    except OSError as exc:
        fail(f"{out}: cannot write the report: {exc.strerror or exc}")
    if checked is None:
        state = "not verified (--no-verify)"
    elif not checked.ok:
        state = f"verification FAILED ({checked.first_bad})"
    elif not checked.signatures_checked:
        state = "chain intact, signatures NOT checked (no public key)"
    elif checked.test_key:
        state = "chain intact, signed with the public TEST key (proves nothing)"
    else:
        state = "verified"
    at = f"seq {head[0]}" if head is not None else "empty ledger"
    if len(named) > 1:
        at = f"heads of {len(named)} ledgers read as one estate"
    else:
        at = f"ledger head {at}"
    up_to = f"[{period[0]}, {period[1]})" if not open_period else f"[{period[0]}, now = {period[1]}) (open period)"
    click.echo(f"wrote {out}: {len(summary.controls)} (control, scope) pairs over {up_to}; {at}; {state}")
    if checked is not None and not checked.ok:
        click.echo(f"warning: the ledger failed verification: {checked.first_bad}", err=True)
    if checked is not None and checked.test_key:
        click.echo(f"warning: {TEST_KEY_WARNING}", err=True)
