"""`controlwatch evidence`: what auditors run against the evidence ledger.

- `verify`: the whole ledger, or a standalone export; names the first bad record.
- `export`: the records of a period (narrowed by control/scope) with the proof of their chain.
- `sample`: reproducible samples of "the state of control C in scope S at moment T".
- `report`: a self-contained HTML report of the period.

The ledger is `--ledger PATH`, else `evidence.path` of `--config FILE` (or
CONTROLWATCH_CONFIG), else the default `.controlwatch/evidence.sqlite3`; it is only ever
opened read-only here. Dates are UTC: `YYYY-MM-DD` (midnight) or RFC 3339 (a time without
an offset is UTC); `--from` is inclusive, `--to` exclusive (README, "Command line").

Exit codes: 0 ok, 1 verification failed (`verify`), 2 bad usage (missing file, bad key,
bad date, unreadable ledger), with one clear line and no traceback.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor import __version__
from monitor.commands.common import fail, load_config_file
from monitor.config.durations import parse_duration
from monitor.config.model import EvidenceConfig
from monitor.evidence import (
    KeyFileError,
    Ledger,
    LedgerError,
    Report,
    export,
    keyring,
    load_public_key,
    sample,
    verify_export,
    verify_ledger,
)
from monitor.evidence.canonical import format_time
from monitor.evidence.retained import RetainedStatement, read_retained

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from monitor.config.model import Config

__all__ = ["UtcMoment", "evidence", "parse_moment"]

EXIT_VERIFY_FAILED = 1
_MORE_PROBLEMS = 10
F = TypeVar("F", bound=Callable[..., Any])


# --- dates -----------------------------------------------------------------------------------

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_moment(text: str) -> datetime:
    """`YYYY-MM-DD` (00:00 UTC that day) or an RFC 3339 time, as an aware UTC datetime.

    A time without an offset is taken as UTC; `ValueError` for anything else.
    """
    value = text.strip()
    if _DAY.match(value):
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if "T" not in value.upper() and " " not in value:
        raise ValueError(text)
    moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class UtcMoment(click.ParamType[datetime, Any]):
    """A click parameter: a date or an RFC 3339 time, in UTC (bad values: exit 2)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2026-03-02T10:00:00Z)", param, ctx
            )


class Duration(click.ParamType[timedelta, Any]):
    """A click parameter: a duration as the config writes it (`90m`, `2h`, `1d`), longer than 0s."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            duration = parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if duration <= timedelta(0):
            self.fail(f"{value!r}: must be longer than 0s", param, ctx)
        return duration


def _period(from_time: datetime, to_time: datetime) -> tuple[datetime, datetime]:
    if to_time <= from_time:
        fail(
            f"--to {format_time(to_time)} is not after --from {format_time(from_time)}: "
            "the period [from, to) is empty (--from is inclusive, --to exclusive)"
        )
    return from_time, to_time


# --- shared options --------------------------------------------------------------------------


def _source_options(func: F) -> F:
    func = click.option(
        "--ledger",
        "ledger_path",
        type=click.Path(dir_okay=False),
        help="The ledger file (overrides evidence.path of --config).",
    )(func)
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar="CONTROLWATCH_CONFIG",
        help="Config file: its evidence.path is the ledger, its evidence.signing_key_file gives the public key.",
    )(func)
    return func


def _period_options(func: F) -> F:
    func = click.option("--to", "to_time", type=UtcMoment(), required=True, help="End of the period, exclusive (UTC).")(
        func
    )
    func = click.option(
        "--from", "from_time", type=UtcMoment(), required=True, help="Start of the period, inclusive (UTC)."
    )(func)
    return func


def _key_option(func: F) -> F:
    return click.option(
        "--public-key",
        "public_keys",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Ed25519 public key (PEM, raw or hex; repeatable for rotated keys). "
        "Default with --config: evidence.signing_key_file's .pub, or its public half.",
    )(func)


def _anchoring_options(func: F) -> F:
    func = click.option(
        "--max-unanchored",
        "max_unanchored",
        type=Duration(),
        help="How old the newest valid checkpoint may be while newer (unsigned) records exist; older fails. "
        "Default: evidence.max_unanchored of --config, else two default checkpoint intervals (2h).",
    )(func)
    func = click.option(
        "--retained",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Signed checkpoints and prune anchors kept outside the ledger: an earlier export (JSON Lines) or "
        "the Cloud Logging copy read back (gcloud logging read --format=json). The ledger must still agree "
        "with them, which catches truncation and emptying (repeatable).",
    )(func)
    return func


def _max_unanchored(option: timedelta | None, config: Config | None) -> timedelta:
    """`--max-unanchored`, else the config's `evidence.max_unanchored`, else its default."""
    if option is not None:
        return option
    return (config.evidence if config is not None else EvidenceConfig()).unanchored_limit


def _config(config_path: str | None) -> Config | None:
    if not config_path:
        return None
    return load_config_file(config_path)


def _ledger_path(ledger_path: str | None, config: Config | None) -> Path:
    if ledger_path:
        return Path(ledger_path)
    return config.evidence.path if config is not None else EvidenceConfig().path


def _keys(files: Sequence[str], config: Config | None) -> dict[str, Ed25519PublicKey] | None:
    """The verification keys: `--public-key` files, else the config's signing key; None: none."""
    paths = [Path(f) for f in files]
    if not paths and config is not None and config.evidence.signing_key_file is not None:
        private = config.evidence.signing_key_file
        public = Path(f"{private}.pub")
        paths = [public if public.exists() else private]
    if not paths:
        return None
    try:
        return keyring(load_public_key(path) for path in paths)
    except KeyFileError as exc:
        fail(str(exc))


@contextmanager
def _opened(path: Path) -> Iterator[Ledger]:
    """The ledger, read-only; a missing or unreadable file is a usage error (exit 2)."""
    try:
        ledger = Ledger(path, readonly=True)
    except FileNotFoundError:
        fail(f"no evidence ledger at {path} (pass --ledger PATH or --config FILE)")
    except LedgerError as exc:
        fail(f"cannot open the evidence ledger: {exc}")
    try:
        yield ledger
    except (LedgerError, sqlite3.Error) as exc:
        fail(f"{path}: cannot read the evidence ledger: {exc}")
    finally:
        ledger.close()


# --- the group -------------------------------------------------------------------------------


@click.group("evidence")
def evidence() -> None:
    """The evidence ledger: verify it, export a period, draw samples, render a report.

    Dates are UTC (YYYY-MM-DD or RFC 3339); --from is inclusive, --to exclusive.
    """


# --- verify ----------------------------------------------------------------------------------


@evidence.command("verify", short_help="Verify the ledger, or an export alone: exit 0 ok, 1 failed, 2 bad usage.")
@_source_options
@_key_option
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False),
    help="Verify this export alone instead of the ledger (JSON Lines, or CSV beside its FILE.chain.jsonl).",
)
@_anchoring_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_command(
    config_path: str | None,
    ledger_path: str | None,
    public_keys: tuple[str, ...],
    export_file: str | None,
    retained: tuple[str, ...],
    max_unanchored: timedelta | None,
    fmt: str,
) -> None:
    """Verify every hash, link, checkpoint and prune anchor; exit 0 ok, 1 failed, 2 bad usage.

    With a public key it also fails when records exist that no valid checkpoint covers, or
    that follow a newest checkpoint older than --max-unanchored. Without one, signatures
    are not checked (and the report says so).
    """
    if export_file and ledger_path:
        fail("--export verifies an export file alone: --ledger does not apply to it")
    if export_file and retained:
        fail("--retained checks a ledger against earlier exports: it does not apply to --export")
    if export_file and max_unanchored is not None:
        fail("--max-unanchored bounds a ledger's unsigned tail: it does not apply to --export (all must be signed)")
    config = _config(config_path)
    keys = _keys(public_keys, config)
    if export_file:
        report = _verify_export_file(Path(export_file), keys)
    else:
        path = _ledger_path(ledger_path, config)
        if not path.is_file():
            fail(f"no evidence ledger at {path} (pass --ledger PATH or --config FILE)")
        report = verify_ledger(
            path, keys, retained=_retained(retained), max_unanchored=_max_unanchored(max_unanchored, config)
        )
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(_report_text(report))
    if not report.ok:
        sys.exit(EXIT_VERIFY_FAILED)


def _verify_export_file(path: Path, keys: Mapping[str, Ed25519PublicKey] | None) -> Report:
    if not path.is_file():
        fail(f"no export at {path}")
    if path.suffix == ".csv" and not Path(f"{path}.chain.jsonl").is_file():
        fail(f"{path}: its chain sidecar {path}.chain.jsonl is missing (a CSV export is verified through it)")
    try:
        return verify_export(path, keys)
    except UnicodeDecodeError as exc:
        fail(f"{path}: not a text export (UTF-8): {exc.reason}")
    except OSError as exc:
        fail(f"{path}: cannot read the export: {exc.strerror or exc}")


def _retained(files: Sequence[str]) -> list[RetainedStatement]:
    found: list[RetainedStatement] = []
    for name in files:
        try:
            found.extend(read_retained(name))
        except OSError as exc:
            fail(f"{name}: cannot read the retained export: {exc.strerror or exc}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            fail(f"{name}: not a controlwatch evidence export or Cloud Logging copy (JSON): {exc}")
    return found


def _report_text(report: Report) -> str:
    lines = [report.summary()]
    more = [str(p) for p in report.problems[1 : 1 + _MORE_PROBLEMS]]
    if more:
        lines.append("next problems:")
        lines.extend(f"  - {p}" for p in more)
    return "\n".join(lines)


# --- export ----------------------------------------------------------------------------------


@evidence.command("export", short_help="Export the records of a period with the proof of their chain.")
@_source_options
@_period_options
@click.option("--control", help="Only this control's runs (other records appear by digest).")
@click.option("--scope", help="Only this scope's runs (other records appear by digest).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
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
    from_time, to_time = _period(from_time, to_time)
    path = _ledger_path(ledger_path, _config(config_path))
    target = Path(out)
    now = datetime.now(UTC)
    with _opened(path) as ledger:
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
        f"exported {result.records} records of [{format_time(from_time)}, {format_time(to_time)}) to {files} "
        f"({covered} covered; {result.omitted} other records by digest; {result.checkpoints} checkpoints)"
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


# --- sample ----------------------------------------------------------------------------------


@evidence.command("sample", short_help="Draw reproducible samples: state at a moment, and the record proving it.")
@_source_options
@_period_options
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

    from_time, to_time = _period(from_time, to_time)
    path = _ledger_path(ledger_path, _config(config_path))
    wanted_controls = list(controls) or None
    wanted_scopes = list(scopes) or None
    with _opened(path) as ledger:
        pairs = population(ledger, from_time, to_time, controls=wanted_controls, scopes=wanted_scopes)
        drawn = sample(ledger, from_time, to_time, count, seed, controls=wanted_controls, scopes=wanted_scopes)
    if fmt == "json":
        document = {
            "schema_version": 1,
            "method": "controlwatch-sample/v1",
            "from": format_time(from_time),
            "to": format_time(to_time),
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
        f"{len(drawn)} samples of [{format_time(from_time)}, {format_time(to_time)}), seed {seed!r}, "
        f"from {len(pairs)} (control, scope) pairs (method controlwatch-sample/v1)"
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


# --- report ----------------------------------------------------------------------------------


def _label(moment: datetime) -> str:
    """A period bound for a title: the date at midnight, else date and time."""
    moment = moment.astimezone(UTC)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


@evidence.command("report", short_help="Render a self-contained HTML report of a period.")
@_source_options
@_period_options
@_key_option
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@click.option("--title", help="Title of the report (default: names the period).")
@click.option("--control", "controls", multiple=True, help="Only this control (repeatable).")
@click.option("--scope", "scopes", multiple=True, help="Only this scope (repeatable).")
@click.option("--no-verify", is_flag=True, help="Do not verify the ledger first (the report then says so).")
@_anchoring_options
def report_command(
    config_path: str | None,
    ledger_path: str | None,
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

    from_time, to_time = _period(from_time, to_time)
    config = _config(config_path)
    path = _ledger_path(ledger_path, config)
    keys = _keys(public_keys, config)
    if not path.is_file():
        fail(f"no evidence ledger at {path} (pass --ledger PATH or --config FILE)")
    if no_verify and (retained or max_unanchored is not None):
        fail("--retained and --max-unanchored are inputs of the verification that --no-verify skips")
    bound = _max_unanchored(max_unanchored, config)
    checked = None if no_verify else verify_ledger(path, keys, retained=_retained(retained), max_unanchored=bound)
    with _opened(path) as ledger:
        summary = summarize(ledger, from_time, to_time, controls=list(controls) or None, scopes=list(scopes) or None)
        head_record = ledger.head()
    if checked is not None and checked.last_seq is not None and checked.head_hash is not None:
        head: tuple[int, str] | None = (checked.last_seq, checked.head_hash)
    else:
        head = (head_record.seq, head_record.hash) if head_record is not None else None
    period = (format_time(from_time), format_time(to_time))
    document = render_report(
        summary.to_json(),
        title=title or f"Evidence report, {_label(from_time)} to {_label(to_time)} (UTC)",
        period=period,
        ledger_head=head,
        verified=None if checked is None else checked.ok,
        verification=None if checked is None else checked.to_json(),
        generated_at=datetime.now(UTC),
        generator=f"controlwatch {__version__}",
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
    else:
        state = "verified"
    at = f"seq {head[0]}" if head is not None else "empty ledger"
    click.echo(
        f"wrote {out}: {len(summary.controls)} (control, scope) pairs over [{period[0]}, {period[1]}); "
        f"ledger head {at}; {state}"
    )
    if checked is not None and not checked.ok:
        click.echo(f"warning: the ledger failed verification: {checked.first_bad}", err=True)
