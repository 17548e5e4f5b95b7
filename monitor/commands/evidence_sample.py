"""`controlwatch evidence sample`: reproducible samples of "the state of control C in scope S at moment T"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from monitor.commands.evidence_args import (
    checked_period,
    config_or_none,
    ledger_file,
    opened,
    period_options,
    source_options,
    up_to_now,
)
from monitor.evidence import sample
from monitor.evidence.canonical import format_time
from monitor.plurals import counted

__all__ = ["sample_command"]


@click.command("sample", short_help="Draw reproducible samples: state at a moment, and the record proving it.")
@source_options
@period_options
@click.option("--count", type=click.IntRange(1, 100_000), required=True, help="How many samples to draw.")
@click.option("--seed", required=True, help="The seed: the same ledger, period and seed give the same samples.")
@click.option("--control", "controls", multiple=True, help="Only this control (repeatable).")
@click.option("--scope", "scopes", multiple=True, help="Only this scope (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sample_command(
    config_path: str | None,
    ledger_path: str | None,
    from_time: datetime,
    to_time: datetime,
    count: int,
    seed: str,
    controls: tuple[str, ...],
    scopes: tuple[str, ...],
    fmt: str,
) -> None:
    """Draw reproducible samples: for each, the moment, control, scope, state, and the record proving it (or the gap).

    The draw is documented in `monitor/evidence/sample.py` so that anyone can redraw it from the seed.
    """
    from monitor.evidence.sample import population

    from_time, to_time = checked_period(from_time, to_time)
    to_time, open_period = up_to_now(from_time, to_time, datetime.now(UTC))
    path = ledger_file(ledger_path, config_or_none(config_path))
    wanted_controls = list(controls) or None
    wanted_scopes = list(scopes) or None
    with opened(path) as ledger:
        pairs = population(ledger, from_time, to_time, controls=wanted_controls, scopes=wanted_scopes)
        drawn = sample(ledger, from_time, to_time, count, seed, controls=wanted_controls, scopes=wanted_scopes)
    if fmt == "json":
        document = {
            "schema_version": 1,
            "method": "controlwatch-sample/v1",
            "from": format_time(from_time),
            "to": format_time(to_time),
            "open": open_period,
            "seed": seed,
            "count": count,
            "filter": {"controls": wanted_controls, "scopes": wanted_scopes},
            "population": [list(pair) for pair in pairs],
            "samples": [item.to_json() for item in drawn],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if not pairs:
        click.echo(f"no (control, scope) was monitored in [{format_time(from_time)}, {format_time(to_time)})")
        return
    click.echo(
        f"{counted(len(drawn), 'sample')} of [{format_time(from_time)}, {format_time(to_time)}), seed {seed!r}, "
        f"from {counted(len(pairs), '(control, scope) pair')} (method controlwatch-sample/v1)"
    )
    if open_period:
        click.echo(
            f"open period: it has not ended, so moments are drawn up to now ({format_time(to_time)}) only; "
            f"redraw the same samples with --to {format_time(to_time)}"
        )
    rows = [("#", "moment (UTC)", "control", "scope", "state", "seq", "hash", "evidence")]
    for item in drawn:
        rows.append(
            (
                str(item.index),
                item.moment,
                item.control,
                item.scope,
                item.state,
                str(item.seq) if item.seq is not None and item.state != "gap" else "-",
                item.hash if item.hash is not None and item.state != "gap" else "-",
                item.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
