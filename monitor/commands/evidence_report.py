"""`controlwatch evidence report`: a self-contained HTML report of a period, verified first.

The ledgers are read as `evidence_period.py` says (one, or several as one estate); the
report opens with the SOC 2 view by criterion (`monitor.evidence.soc2`) and names the
failing resources.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from monitor import __version__
from monitor.commands.common import fail
from monitor.commands.evidence_args import (
    anchoring_options,
    estate_source_options,
    key_option,
    period_options,
)
from monitor.commands.evidence_period import period_label, read_period, verification_state
from monitor.evidence.signing import TEST_KEY_WARNING
from monitor.plurals import counted

__all__ = ["report_command"]


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
    from monitor.evidence.report_html import render_report
    from monitor.evidence.soc2 import catalogue_refs, soc2_view

    read = read_period(
        config_path=config_path,
        ledger_paths=ledger_paths,
        from_time=from_time,
        to_time=to_time,
        public_keys=public_keys,
        controls=controls,
        scopes=scopes,
        no_verify=no_verify,
        retained=retained,
        max_unanchored=max_unanchored,
    )
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
    if checked is not None and not checked.ok:
        click.echo(f"warning: the ledger failed verification: {checked.first_bad}", err=True)
    if checked is not None and checked.test_key:
        click.echo(f"warning: {TEST_KEY_WARNING}", err=True)
