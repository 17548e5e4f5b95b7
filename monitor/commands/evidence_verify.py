"""`controlwatch evidence verify`: the whole ledger, or a standalone export; names the first bad record.

Several ledgers (`--ledger` repeated, or a directory: a sharded deployment's replicas) are each
verified on their own chain; the estate verifies when every one does.

Exit codes: 0 ok, 1 verification failed, 2 bad usage (missing file, bad key, unreadable
ledger), with one clear line and no traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.commands.common import fail
from monitor.commands.evidence_args import (
    anchoring_options,
    config_or_none,
    estate_source_options,
    key_option,
    ledger_files,
    retained_statements,
    unanchored_limit,
    verification_keys,
)
from monitor.evidence import Report, verify_export, verify_ledger
from monitor.plurals import counted

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["EXIT_VERIFY_FAILED", "verify_command"]

EXIT_VERIFY_FAILED = 1
_MORE_PROBLEMS = 10


@click.command("verify", short_help="Verify the ledger, or an export alone: exit 0 ok, 1 failed, 2 bad usage.")
@estate_source_options
@key_option
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False),
    help="Verify this export alone instead of the ledger (JSON Lines, or CSV beside its FILE.chain.jsonl).",
)
@anchoring_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_command(
    config_path: str | None,
    ledger_paths: tuple[str, ...],
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
    if export_file and ledger_paths:
        fail("--export verifies an export file alone: --ledger does not apply to it")
    if export_file and retained:
        fail("--retained checks a ledger against earlier exports: it does not apply to --export")
    if export_file and max_unanchored is not None:
        fail("--max-unanchored bounds a ledger's unsigned tail: it does not apply to --export (all must be signed)")
    config = config_or_none(config_path)
    keys = verification_keys(public_keys, config)
    if export_file:
        report = _verify_export_file(Path(export_file), keys)
    else:
        paths = ledger_files(ledger_paths, config)
        statements, bound = retained_statements(retained), unanchored_limit(max_unanchored, config)
        reports = [(path, verify_ledger(path, keys, retained=statements, max_unanchored=bound)) for path in paths]
        if len(reports) > 1:
            _say_estate(reports, fmt)
            return
        report = reports[0][1]
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(_report_text(report))
    if not report.ok:
        sys.exit(EXIT_VERIFY_FAILED)


def _say_estate(reports: list[tuple[Path, Report]], fmt: str) -> None:
    """Each ledger's verdict on its own chain; exit 1 when any failed."""
    ok = all(report.ok for _, report in reports)
    if fmt == "json":
        document = {
            "ok": ok,
            "ledgers": [{"ledger": str(path), **report.to_json()} for path, report in reports],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        failed = sum(1 for _, report in reports if not report.ok)
        lines = [_report_text(report) for _, report in reports]
        ledgers = counted(len(reports), "ledger")
        verdict = "every ledger verified" if ok else f"{failed} of {ledgers} FAILED"
        lines.append(f"estate of {ledgers}: {verdict}")
        click.echo("\n".join(lines))
    if not ok:
        sys.exit(EXIT_VERIFY_FAILED)


def _verify_export_file(path: Path, keys: Mapping[str, Ed25519PublicKey] | None) -> Report:
    """The export verified; a missing, unreadable or special file (a FIFO would hang) is a usage failure."""
    if not path.exists():
        fail(f"no export at {path}")
    if path.suffix == ".csv" and not Path(f"{path}.chain.jsonl").exists():
        fail(f"{path}: its chain sidecar {path}.chain.jsonl is missing (a CSV export is verified through it)")
    try:
        return verify_export(path, keys)
    except UnicodeDecodeError as exc:
        fail(f"{path}: not a text export (UTF-8): {exc.reason}")
    except OSError as exc:
        fail(f"{exc.filename or path}: cannot read the export: {exc.strerror or exc}")


def _report_text(report: Report) -> str:
    lines = [report.summary()]
    more = [str(p) for p in report.problems[1 : 1 + _MORE_PROBLEMS]]
    if more:
        lines.append("next problems:")
        lines.extend(f"  - {p}" for p in more)
    return "\n".join(lines)
