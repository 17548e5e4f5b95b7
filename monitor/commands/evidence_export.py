"""`controlwatch evidence export`: the records of a period (narrowed by control/scope) with the proof of their chain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.commands.common import fail
from monitor.commands.evidence_args import (
    checked_period,
    config_or_none,
    ledger_file,
    opened,
    period_options,
    source_options,
)
from monitor.evidence import export
from monitor.evidence.canonical import format_time
from monitor.plurals import counted

__all__ = ["export_command"]


@click.command("export", short_help="Export the records of a period with the proof of their chain.")
@source_options
@period_options
@click.option("--control", help="Only this control's runs (other records appear by digest).")
@click.option("--scope", help="Only this scope's runs (other records appear by digest).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="jsonl: the records with their chain; csv: one row per failing resource per run (and one per run "
    "with none), each with the seq and hash of the record that proves it.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file; CSV also writes FILE.chain.jsonl, the chain proof it is verified with.",
)
def export_command(
    config_path: str | None,
    ledger_path: str | None,
    from_time: datetime,
    to_time: datetime,
    control: str | None,
    scope: str | None,
    fmt: str,
    out: str,
) -> None:
    """Export the records of [--from, --to) with the proof of their chain.

    Anyone with the public key checks it alone: `controlwatch evidence verify --export FILE --public-key KEY`.
    """
    from_time, to_time = checked_period(from_time, to_time)
    path = ledger_file(ledger_path, config_or_none(config_path))
    target = Path(out)
    now = datetime.now(UTC)
    with opened(path) as ledger:
        try:
            result = export(
                ledger,
                from_time,
                to_time,
                control=control,
                scope=scope,
                fmt="csv" if fmt == "csv" else "jsonl",
                out=target,
                now=now,
            )
        except OSError as exc:
            fail(f"{out}: cannot write the export: {exc.strerror or exc}")
        last = ledger.get(result.last_seq) if result.last_seq is not None else None
    files = " and ".join(str(p) for p in result.paths)
    covered = f"seq {result.first_seq}..{result.last_seq}" if result.first_seq is not None else "no record"
    click.echo(
        f"exported {counted(result.records, 'record')} of [{format_time(from_time)}, {format_time(to_time)}) "
        f"to {files} ({covered} covered; {counted(result.omitted, 'other record')} by digest; "
        f"{counted(result.checkpoints, 'checkpoint')})"
    )
    if result.records == 0:
        click.echo("note: no record matched (an empty export proves nothing)", err=True)
        return
    if not result.anchored and not (last is not None and last.kind == "checkpoint"):
        click.echo(
            "warning: the last records of the period are not yet covered by a signed checkpoint; "
            "this export will not verify until the next checkpoint (evidence.checkpoint_interval): export again then",
            err=True,
        )
    if last is not None and last.at < to_time <= now:
        click.echo(
            f"warning: the ledger holds no record after {last.time}, before the end of the period: the export "
            "cannot show that nothing was cut at its end, so it will not verify until the ledger has records "
            "past --to (or choose a --to before that time)",
            err=True,
        )
