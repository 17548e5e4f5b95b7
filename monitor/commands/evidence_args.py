"""What every `controlwatch evidence` command shares: dates, options, and its inputs.

The ledger is `--ledger PATH`, else `evidence.path` of `--config FILE` (or
CONTROLWATCH_CONFIG), else the default `.controlwatch/evidence.sqlite3`; it is only ever
opened read-only here. Dates are UTC: `YYYY-MM-DD` (midnight) or RFC 3339 (a time without
an offset is UTC); `--from` is inclusive, `--to` exclusive (README, "Command line").
Every input that cannot be used is a usage failure (exit 2) in one line.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor.commands.common import fail, load_config_file
from monitor.config.durations import parse_duration
from monitor.config.model import EvidenceConfig
from monitor.drift.baselines import DEFAULT_PATH as BASELINES
from monitor.evidence import KeyFileError, Ledger, LedgerError, keyring, load_public_key
from monitor.evidence.canonical import format_time
from monitor.evidence.retained import RetainedStatement, read_retained
from monitor.files import NotRegularFileError, special_kind

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from monitor.config.model import Config

__all__ = [
    "Duration",
    "UtcMoment",
    "anchoring_options",
    "checked_period",
    "config_or_none",
    "key_option",
    "estate_source_options",
    "ledger_file",
    "ledger_files",
    "opened",
    "parse_moment",
    "period_options",
    "retained_statements",
    "source_options",
    "unanchored_limit",
    "verification_keys",
]

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


def checked_period(from_time: datetime, to_time: datetime) -> tuple[datetime, datetime]:
    if to_time <= from_time:
        fail(
            f"--to {format_time(to_time)} is not after --from {format_time(from_time)}: "
            "the period [from, to) is empty (--from is inclusive, --to exclusive)"
        )
    return from_time, to_time


def up_to_now(from_time: datetime, to_time: datetime, now: datetime) -> tuple[datetime, bool]:
    """The end of what has happened of [from, to): `to`, or `now` for a period not ended (open).

    Nothing after `now` is recorded yet: reporting it would invent outcomes (a failure
    "resolved" at the period's end, the future "not monitored"), and sampling it would draw
    moments nobody could have observed. A period that starts in the future has nothing at all.
    """
    if from_time >= now:
        fail(
            f"--from {format_time(from_time)} is not before now ({format_time(now)}): "
            "nothing in the period has been recorded yet"
        )
    return (to_time, False) if to_time <= now else (now, True)


# --- shared options --------------------------------------------------------------------------


def source_options(func: F) -> F:
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


def estate_source_options(func: F) -> F:
    """`--ledger` repeatable, and a directory of ledgers: the replicas' ledgers read as one estate."""
    func = click.option(
        "--ledger",
        "ledger_paths",
        multiple=True,
        type=click.Path(),
        help="A ledger file, or a directory of them (*.sqlite3, also one level down); repeatable. Several "
        "are one estate: the ledgers of a sharded deployment's replicas (overrides evidence.path of --config).",
    )(func)
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar="CONTROLWATCH_CONFIG",
        help="Config file: its evidence.path is the ledger, its evidence.signing_key_file gives the public key.",
    )(func)
    return func


def period_options(func: F) -> F:
    func = click.option("--to", "to_time", type=UtcMoment(), required=True, help="End of the period, exclusive (UTC).")(
        func
    )
    func = click.option(
        "--from", "from_time", type=UtcMoment(), required=True, help="Start of the period, inclusive (UTC)."
    )(func)
    return func


def key_option(func: F) -> F:
    return click.option(
        "--public-key",
        "public_keys",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Ed25519 public key (PEM, raw or hex; repeatable for rotated keys). "
        "Default with --config: evidence.signing_key_file's .pub, or its public half.",
    )(func)


def anchoring_options(func: F) -> F:
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


def unanchored_limit(option: timedelta | None, config: Config | None) -> timedelta:
    """`--max-unanchored`, else the config's `evidence.max_unanchored`, else its default."""
    if option is not None:
        return option
    return (config.evidence if config is not None else EvidenceConfig()).unanchored_limit


def config_or_none(config_path: str | None) -> Config | None:
    if not config_path:
        return None
    return load_config_file(config_path)


def ledger_file(ledger_path: str | None, config: Config | None) -> Path:
    """The ledger to read (`--ledger`, else the config's, else the default), which must be a
    regular file: a missing one, a directory or a FIFO is a usage error naming what it is
    (SQLite would otherwise block on a FIFO or say only "unable to open")."""
    path = Path(ledger_path) if ledger_path else config.evidence.path if config is not None else EvidenceConfig().path
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        fail(f"no evidence ledger at {path} (pass --ledger PATH or --config FILE)")
    except OSError as exc:
        fail(f"cannot read the evidence ledger {path}: {exc.strerror}")
    kind = special_kind(mode)
    if kind is not None:
        fail(f"{NotRegularFileError(path, kind)}: an evidence ledger is a SQLite file")
    return path


def ledger_files(ledger_paths: Sequence[str], config: Config | None) -> list[Path]:
    """Every ledger to read: each `--ledger` file, the ledgers in each `--ledger` directory (`*.sqlite3`
    there and one level down, the drift baseline store aside), else the config's or the default one.
    A directory without a ledger, or a ledger named twice, is a usage failure."""
    if not ledger_paths:
        return [ledger_file(None, config)]
    found: list[Path] = []
    for given in ledger_paths:
        path = Path(given)
        if not path.is_dir():
            found.append(ledger_file(given, None))
            continue
        inside = sorted(
            p for p in [*path.glob("*.sqlite3"), *path.glob("*/*.sqlite3")] if p.name != BASELINES.name and p.is_file()
        )
        if not inside:
            fail(f"no evidence ledger (*.sqlite3) in the directory {path} nor in its subdirectories")
        found.extend(inside)
    seen: dict[Path, Path] = {}
    for path in found:
        real = path.resolve()
        if real in seen:
            fail(f"the ledger {path} is named twice (also as {seen[real]}): each replica's ledger is read once")
        seen[real] = path
    return found


def verification_keys(files: Sequence[str], config: Config | None) -> dict[str, Ed25519PublicKey] | None:
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
def opened(path: Path) -> Iterator[Ledger]:
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


def retained_statements(files: Sequence[str]) -> list[RetainedStatement]:
    found: list[RetainedStatement] = []
    for name in files:
        try:
            found.extend(read_retained(name))
        except OSError as exc:
            fail(f"{name}: cannot read the retained export: {exc.strerror or exc}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            fail(f"{name}: not a controlwatch evidence export or Cloud Logging copy (JSON): {exc}")
    return found
