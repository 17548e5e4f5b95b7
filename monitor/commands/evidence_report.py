"""`controlwatch evidence report`: a self-contained HTML report of a period, verified first.

The ledgers are read as `evidence_period.py` says (one, or several as one estate); the
report opens with the SOC 2 view by criterion (`monitor.evidence.soc2`) and names the
failing resources.
"""

from __future__ import annotations

from pathlib import Path

import click

from monitor import __version__
from monitor.commands.common import fail
from monitor.commands.evidence_period import (
    PeriodRead,
    period_label,
    reads_period,
    verification_state,
    warn_if_unproven,
)
from monitor.plurals import counted

__all__ = ["report_command"]


@click.command("report", short_help="Render a self-contained HTML report of a period.")
@reads_period("the report")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@click.option("--title", help="Title of the report (default: names the period).")
def report_command(read: PeriodRead, out: str, title: str | None) -> None:
    """Render a self-contained HTML report of [--from, --to): shares, failures, gaps, drift, risks, coverage.

    The ledger is verified first (with the public key, when given or configured) and the
    report says whether it verified, with the ledger head it was made from.
    """
    from monitor.evidence.report_html import render_report
    from monitor.evidence.soc2 import catalogue_refs, soc2_view

    checked, named, period, open_period = read.checked, read.heads, read.period, read.open_period
    head = named[0][1]
    end = "now (open period)" if open_period else period_label(read.to_time)
    document = render_report(
        read.summary.to_json(),
        title=title or f"Evidence report, {period_label(read.from_time)} to {end} (UTC)",
        period=period,
        ledger_head=head,
        verified=None if checked is None else checked.ok,
        verification=None if checked is None else checked.to_json(),
        generated_at=read.generated_at,
        generator=f"controlwatch {__version__}",
        open_period=open_period,
        ledger_heads=named if len(named) > 1 else (),
        soc2=soc2_view(read.summary, catalogue_refs()).to_json(),
    )
    try:
        Path(out).write_text(document, encoding="utf-8")
    except OSError as exc:
        fail(f"{out}: cannot write the report: {exc.strerror or exc}")
    state = verification_state(checked)
    at = f"seq {head[0]}" if head is not None else "empty ledger"
    if len(named) > 1:
        at = f"heads of {counted(len(named), 'ledger')} read as one estate"
    else:
        at = f"ledger head {at}"
    up_to = f"[{period[0]}, {period[1]})" if not open_period else f"[{period[0]}, now = {period[1]}) (open period)"
    pairs = counted(len(read.summary.controls), "(control, scope) pair")
    click.echo(f"wrote {out}: {pairs} over {up_to}; {at}; {state}")
    warn_if_unproven(checked)
