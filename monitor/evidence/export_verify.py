"""Verifying an export alone, without the ledger: what an auditor runs on what they were given.

What `verify_export` requires, beyond every hash and link:
- every exported record lies under a checkpoint whose Ed25519 signature verifies (an
  export of records newer than the last checkpoint proves nothing until the next one);
- the start of the period is shown: the first covered record is stamped before it, or is
  the genesis record, or follows records a signed prune anchor (in the header) accounts for;
- the end of the period is shown: the covered range runs past it (unless the export was
  made before the period ended, which the header's `exported_at` says and the note repeats);
- no record stamped inside the period is left out, except, when a control/scope filter
  was asked for, `control_run` / `baseline_approved` records: their bodies are hidden, so
  that they belong to other controls or scopes cannot be proven. An unfiltered export
  proves it holds every record of the period; a filtered one proves what it holds.

Records of both formats verify, each with its own encoding (`records.py`), so exports
made before RFC 8785, and exports of ledgers that hold both formats, verify as they are.
The format of the file is described in `export.py`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from monitor.evidence.checkpoint import Checkpoint
from monitor.evidence.export import CSV_COLUMNS, FILTERABLE, FORMAT, csv_row
from monitor.evidence.findings import Problem, ProblemList, Report, problem_order
from monitor.evidence.prune import PruneAnchor
from monitor.evidence.records import GENESIS, Record, canonical_body, record_hash
from monitor.evidence.signing import keyring
from monitor.evidence.verify import check_checkpoint, check_record_fields
from monitor.files import open_regular_file

__all__ = ["checkpoints_in_export", "verify_export"]


class Omitted(NamedTuple):
    """A record the export gives only by its body's digest."""

    kind: str
    time: str
    digest: str
    format: int


def _format(item: Mapping[str, Any]) -> int:
    """An export line's record format: absent means 1 (exports made before format 2)."""
    value = item.get("format", 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"record format {value!r} is not an integer")
    return value


@dataclass
class _Parsed:
    header: dict[str, Any]
    entries: dict[int, Record | Omitted]
    footer: dict[str, Any] | None


def _parse(lines: Iterator[str], problems: ProblemList) -> _Parsed | None:
    header: dict[str, Any] | None = None
    footer: dict[str, Any] | None = None
    entries: dict[int, Record | Omitted] = {}
    last = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = item["type"] if isinstance(item, dict) else None
        except (ValueError, KeyError):
            problems.add(None, f"line {number}: not an export line")
            continue
        if number == 1:
            if kind != "header" or item.get("format") != FORMAT:
                problems.add(None, "line 1 is not a controlwatch evidence export header")
                return None
            header = item
            continue
        if footer is not None:
            problems.add(None, f"line {number}: content after the footer")
        if kind == "footer":
            footer = item
            continue
        try:
            if kind == "record":
                fmt = _format(item)
                record = Record(
                    seq=int(item["seq"]),
                    kind=str(item["kind"]),
                    time=str(item["time"]),
                    body=canonical_body(item["body"], fmt),
                    prev_hash=str(item["prev_hash"]),
                    hash=str(item["hash"]),
                    format=fmt,
                )
                batch: list[tuple[int, Record | Omitted]] = [(record.seq, record)]
            elif kind == "omitted":
                fmt = _format(item)
                batch = [(int(s), Omitted(str(k), str(t), str(d), fmt)) for s, k, t, d in item["records"]]
            else:
                problems.add(None, f"line {number}: unknown line type {kind!r}")
                continue
        except (KeyError, TypeError, ValueError) as exc:
            problems.add(None, f"line {number}: malformed {kind} line ({exc})")
            continue
        for seq, entry in batch:
            if seq in entries:
                problems.add(seq, f"line {number}: seq {seq} appears twice in the export")
            elif seq < last:
                problems.add(seq, f"line {number}: seq {seq} out of order (after {last})")
            entries[seq] = entry
            last = max(last, seq)
    if header is None:
        problems.add(None, "the export is empty")
        return None
    return _Parsed(header, entries, footer)


def verify_export(
    path: str | Path,
    public_key: Ed25519PublicKey | Mapping[str, Ed25519PublicKey] | None,
) -> Report:
    """Verify an export file alone (a `.csv` is checked through its `.chain.jsonl` sidecar)."""
    path = Path(path)
    keys = keyring([public_key]) if isinstance(public_key, Ed25519PublicKey) else public_key
    if path.suffix == ".csv":
        chain = Path(f"{path}.chain.jsonl")
        report = _verify_jsonl(chain, keys)
        return _verify_csv(path, report)
    return _verify_jsonl(path, keys)


def _open_text(path: str | Path, newline: str | None = None) -> io.TextIOWrapper:
    """The file as UTF-8 text, read as `open` would; a FIFO or device is an `OSError` at once, never waited on."""
    return io.TextIOWrapper(open_regular_file(path), encoding="utf-8", newline=newline)


def _verify_jsonl(path: Path, keys: Mapping[str, Ed25519PublicKey] | None) -> Report:
    problems = ProblemList()
    notes: list[str] = []
    with _open_text(path) as handle:
        parsed = _parse(iter(handle), problems)
    if parsed is None:
        return _report(str(path), problems, notes, keys, 0, None, None, None, 0, None, {})
    header = parsed.header
    covered = header.get("covered")
    exported: list[Record] = []
    if covered is None:
        if parsed.entries:
            problems.add(None, "header says the period is empty, but the export holds records")
        notes.append("no record in the period (an empty export is not signed: it proves nothing)")
        _check_footer(parsed.footer, 0, 0, 0, problems)
        return _report(str(path), problems, notes, keys, 0, None, None, None, 0, None, {"exported": 0})
    start, end = int(covered["first_seq"]), int(covered["last_seq"])
    from_s, to_s = str(header["from"]), str(header["to"])
    filtered = any(v is not None for v in header.get("filter", {}).values())
    chain = str(covered.get("start_prev_hash"))
    last_time = ""
    checkpoints = checkpoint_lines = 0
    anchored_through: int | None = None
    omitted = 0
    for seq in sorted(set(parsed.entries) - set(range(start, end + 1))):
        problems.add(seq, f"seq {seq} is outside the covered range {start}..{end}")
    for seq in range(start, end + 1):
        entry = parsed.entries.get(seq)
        if entry is None:
            problems.add(seq, "missing from the export (neither the record nor its digest is there)")
            continue
        if isinstance(entry, Record):
            record = entry
            bad = check_record_fields(record)
            if bad is not None:
                problems.add(seq, bad)
            elif record.prev_hash != chain:
                problems.add(seq, "prev_hash does not link to the record before it")
            elif record.computed_hash() != record.hash:
                problems.add(seq, "hash mismatch: a field of this record was changed")
            checkpoint_lines += record.kind == "checkpoint"
            if record.kind == "checkpoint" and bad is None:
                if check_checkpoint(record, None, keys, problems):
                    checkpoints += 1
                    anchored_through = record.seq
            elif from_s <= record.time < to_s:
                exported.append(record)
            kind, time, chain = record.kind, record.time, record.hash
        else:
            kind, time, digest, fmt = entry
            omitted += 1
            try:
                chain = record_hash(seq, kind, time, digest, chain, format=fmt)
            except ValueError:
                problems.add(seq, "malformed digest or format of an omitted record")
                continue
            if from_s <= time < to_s and not (filtered and kind in FILTERABLE):
                problems.add(seq, f"a {kind} record stamped {time}, inside the period, was left out of the export")
        if time < last_time:
            problems.add(seq, "time goes backwards")
        last_time = time
    _check_start(header, start, _entry_time(parsed.entries.get(start)), keys, problems, notes)
    if exported and (anchored_through is None or exported[-1].seq > anchored_through):
        unsigned = sum(1 for record in exported if anchored_through is None or record.seq > anchored_through)
        problems.add(
            exported[-1].seq,
            f"{unsigned} exported records are not covered by a valid checkpoint signature, so nothing proves "
            "them; export again after the next checkpoint",
        )
    end_time = _entry_time(parsed.entries.get(end))
    if end_time < to_s:
        if str(header.get("exported_at", "")) < to_s:
            notes.append(f"the period had not ended when this was exported; it holds records up to {end_time}")
        else:
            problems.add(
                end,
                f"the export ends at a record stamped {end_time}, before the end of the period: "
                "records at its end may have been left out",
            )
    _check_footer(parsed.footer, len(exported), omitted, checkpoint_lines, problems)
    if filtered:
        notes.append(
            "filtered export: records left out inside the period are shown only by digest; "
            "that they belong to other controls/scopes cannot be proven from the export"
        )
    extra = {"exported": len(exported), "omitted": omitted, "period": {"from": from_s, "to": to_s}}
    return _report(
        str(path), problems, notes, keys, len(exported), start, end, chain, checkpoints, anchored_through, extra
    )


def _entry_time(entry: Record | Omitted | None) -> str:
    return "" if entry is None else entry.time


def _check_start(
    header: Mapping[str, Any],
    start: int,
    start_time: str,
    keys: Mapping[str, Ed25519PublicKey] | None,
    problems: ProblemList,
    notes: list[str],
) -> None:
    """The covered range must show where the period starts, or records there could be cut off.

    Proven when its first record is stamped before the period, is the genesis record, or
    follows records a signed prune anchor (carried in the header) says were pruned.
    """
    covered = header["covered"]
    if start_time < str(header["from"]):
        return
    if start == 1 and covered.get("start_prev_hash") == GENESIS:
        return
    raw = header.get("prune_anchor")
    if isinstance(raw, dict):
        try:
            anchor = PruneAnchor.from_json(raw)
        except ValueError as exc:
            problems.add(start, f"the export's prune anchor is malformed: {exc}")
            return
        reason = anchor.check_signature(keys) if keys is not None else None
        if reason is not None:
            problems.add(start, reason)
        elif anchor.pruned_through != start - 1 or anchor.pruned_hash != covered.get("start_prev_hash"):
            problems.add(start, "the export's prune anchor does not account for the records before its start")
        else:
            notes.append(f"records through seq {anchor.pruned_through} were pruned (retention cutoff {anchor.cutoff})")
        return
    problems.add(
        start,
        f"the export starts at seq {start}, inside the period, without proof that nothing before it was "
        "left out (no earlier record, genesis or prune anchor)",
    )


def _check_footer(
    footer: Mapping[str, Any] | None, records: int, omitted: int, checkpoints: int, problems: ProblemList
) -> None:
    if footer is None:
        problems.add(None, "the export has no footer: it was cut short")
        return
    stated = (footer.get("records"), footer.get("omitted"), footer.get("checkpoints"))
    if stated != (records, omitted, checkpoints):
        problems.add(
            None,
            f"footer states {stated[0]} records, {stated[1]} omitted, {stated[2]} checkpoints; "
            f"found {records}, {omitted}, {checkpoints}",
        )


def _report(
    source: str,
    problems: ProblemList,
    notes: list[str],
    keys: Mapping[str, Ed25519PublicKey] | None,
    records: int,
    first: int | None,
    last: int | None,
    head: str | None,
    checkpoints: int,
    anchored: int | None,
    extra: dict[str, Any],
) -> Report:
    if keys is None:
        notes.append("signatures were not checked (no public key given)")
    problems.kept.sort(key=problem_order)
    return Report(
        source=source,
        records=records,
        first_seq=first,
        last_seq=last,
        head_hash=head,
        checkpoints=checkpoints,
        anchored_through=anchored,
        signatures_checked=keys is not None,
        problems=tuple(problems.kept),
        problems_total=problems.total,
        notes=tuple(notes),
        extra=extra,
    )


def _verify_csv(path: Path, chain_report: Report) -> Report:
    """The sidecar verified; now every CSV row must equal a verified `control_run` record."""
    problems = list(chain_report.problems)
    total = chain_report.problems_total
    sidecar = Path(f"{path}.chain.jsonl")
    records: dict[int, Record] = {}
    with _open_text(sidecar) as handle:
        for line in handle:
            try:
                item = json.loads(line)
                if item.get("type") == "record" and item.get("kind") == "control_run":
                    fmt = _format(item)
                    body = canonical_body(item["body"], fmt)
                    seq = int(item["seq"])
                    records[seq] = Record(seq, item["kind"], item["time"], body, item["prev_hash"], item["hash"], fmt)
            except (ValueError, TypeError, KeyError, AttributeError):
                continue  # already reported by the sidecar's own verification
    period = chain_report.extra.get("period", {})
    wanted = {seq for seq, r in records.items() if period and period.get("from", "") <= r.time < period.get("to", "")}
    with _open_text(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(rows[0]) != CSV_COLUMNS:
        problems.append(Problem(None, "the CSV header is not the export's column list"))
        total += 1
        rows = [list(CSV_COLUMNS)]
    seen: set[int] = set()
    for number, row in enumerate(rows[1:], 2):
        try:
            seq = int(row[CSV_COLUMNS.index("seq")])
        except (ValueError, IndexError):
            problems.append(Problem(None, f"CSV line {number}: no seq"))
            total += 1
            continue
        record = records.get(seq)
        if record is None:
            problems.append(Problem(seq, f"CSV line {number}: no such control_run record in the chain sidecar"))
            total += 1
        elif row != csv_row(record):
            problems.append(Problem(seq, f"CSV line {number} differs from the verified record"))
            total += 1
        seen.add(seq)
    for seq in sorted(wanted - seen):
        problems.append(Problem(seq, "a control run in the export has no CSV row"))
        total += 1
    problems.sort(key=problem_order)
    return Report(
        source=str(path),
        records=chain_report.records,
        first_seq=chain_report.first_seq,
        last_seq=chain_report.last_seq,
        head_hash=chain_report.head_hash,
        checkpoints=chain_report.checkpoints,
        anchored_through=chain_report.anchored_through,
        signatures_checked=chain_report.signatures_checked,
        problems=tuple(problems),
        problems_total=total,
        notes=chain_report.notes,
        extra={**dict(chain_report.extra), "csv_rows": len(rows) - 1},
    )


def checkpoints_in_export(path: str | Path) -> list[Checkpoint]:
    """The checkpoints an export carries: keep them to catch a later truncation of the ledger
    (`verify_ledger(..., retained=checkpoints_in_export(old_export))`)."""
    found: list[Checkpoint] = []
    with _open_text(path) as handle:
        for line in handle:
            item = json.loads(line) if line.strip() else {}
            if item.get("type") == "record" and item.get("kind") == "checkpoint":
                found.append(Checkpoint.from_json(item["body"]))
    return found
