"""`controlwatch evidence soc2`: the period by Trust Services Criterion, as HTML or JSON.

For each criterion the catalogue's controls declare: the controls that evidence it, the
share of the period each control × scope was passing, excepted, failing, in error or not
monitored, and the resources found failing with their records (`monitor.evidence.soc2`).
The ledgers are verified first, as for `evidence report` (`evidence_period.py`).
"""

from __future__ import annotations

import json
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

__all__ = ["soc2_command"]


def _document(read: PeriodRead, fmt: str, title: str | None) -> str:
    from monitor.evidence.report_soc2 import render_soc2
    from monitor.evidence.soc2 import catalogue_refs, soc2_view

    view = soc2_view(read.summary, catalogue_refs()).to_json()
    checked = read.checked
    head = read.heads[0][1] if len(read.heads) == 1 else None
    if fmt == "json":
        document = {
            **view,
            "open": read.open_period,
            "verification": None if checked is None else checked.to_json(),
            "ledgers": [
                {"path": path, "head": None if head is None else {"seq": head[0], "hash": head[1]}}
                for path, head in read.heads
            ],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    end = "now (open period)" if read.open_period else period_label(read.to_time)
    return render_soc2(
        view,
        title=title or f"SOC 2 view, {period_label(read.from_time)} to {end} (UTC)",
        ledger_head=head,
        verified=None if checked is None else checked.ok,
        verification=None if checked is None else checked.to_json(),
        generated_at=read.generated_at,
        generator=f"controlwatch {__version__}",
        open_period=read.open_period,
    )


@click.command("soc2", short_help="The period by SOC 2 Trust Services Criterion (HTML or JSON).")
@reads_period("the output")
@click.option("--format", "fmt", type=click.Choice(["html", "json"]), default="html", show_default=True)
@click.option("--out", default="-", show_default=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="The file to write (- for standard output).")  # fmt: skip
@click.option("--title", help="Title of the HTML page (default: names the period).")
def soc2_command(read: PeriodRead, fmt: str, out: str, title: str | None) -> None:
    """Per Trust Services Criterion of [--from, --to): its controls, each control × scope's shares, failing resources.

    The ledger is verified first (with the public key, when given or configured); the
    output says whether it verified.
    """
    document = _document(read, fmt, title)
    checked = read.checked
    if out == "-":
        click.echo(document, nl=False)
    else:
        try:
            Path(out).write_text(document, encoding="utf-8")
        except OSError as exc:
            fail(f"{out}: cannot write the SOC 2 view: {exc.strerror or exc}")
        pairs = len(read.summary.controls)
        click.echo(f"wrote {out}: {pairs} (control, scope) pairs; {verification_state(checked)}")
    warn_if_unproven(checked)
