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
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from monitor.evidence.checkpoint import Checkpoint
from monitor.evidence.export import CSV_COLUMNS, FILTERABLE, LEGACY_CSV_COLUMNS, csv_row, csv_rows
from monitor.evidence.export_parse import Omitted, header_problem, open_text, parse_export, record_format
from monitor.evidence.findings import Problem, ProblemList, Report, problem_order
from monitor.evidence.prune import PruneAnchor
from monitor.evidence.records import (
    GENESIS,
    KINDS,
    Record,
    canonical_body,
    check_record_fields,
    record_hash,
    shown,
    time_problem,
)
from monitor.evidence.references import Expander
from monitor.evidence.signing import accepts_test_key, keyring
from monitor.evidence.verify import check_checkpoint
from monitor.plurals import counted, is_are

__all__ = ["checkpoints_in_export", "verify_export"]


def verify_export(
    path: str | Path,
    public_key: Ed25519PublicKey | Mapping[str, Ed25519PublicKey] | None,
) -> Report:
    """Verify an export file alone (a `.csv` is checked through its `.chain.jsonl` sidecar).

    Content is never an exception: what a forged file provokes fails the verification.
    Only a file that cannot be read is (`OSError`, `UnicodeDecodeError`), which the caller reports.
    """
    path = Path(path)
    keys = keyring([public_key]) if isinstance(public_key, Ed25519PublicKey) else public_key
    try:
        if path.suffix == ".csv":
            report = _verify_jsonl(Path(f"{path}.chain.jsonl"), keys)
            return _verify_csv(path, report)
        return _verify_jsonl(path, keys)
    except (OSError, UnicodeDecodeError):
        raise
    except Exception as exc:  # fail closed
        problems = ProblemList()
        problems.add(None, f"the export could not be verified: {type(exc).__name__}: {str(exc)[:200]}")
        return _report(str(path), problems, [], keys, 0, None, None, None, 0, None, {})


def _verify_jsonl(path: Path, keys: Mapping[str, Ed25519PublicKey] | None) -> Report:
    problems = ProblemList()
    notes: list[str] = []
    with open_text(path) as handle:
        parsed = parse_export(iter(handle), problems)
    if parsed is None:
        return _report(str(path), problems, notes, keys, 0, None, None, None, 0, None, {})
    header = parsed.header
    bad_header = header_problem(header)
    if bad_header is not None:
        problems.add(None, f"the export's header is malformed: {bad_header}")
        return _report(str(path), problems, notes, keys, 0, None, None, None, 0, None, {})
    covered = header.get("covered")
    if covered is None:
        if parsed.entries:
            problems.add(None, "header says the period is empty, but the export holds records")
        notes.append("no record in the period (an empty export is not signed: it proves nothing)")
        _check_footer(parsed.footer, 0, 0, 0, problems)
        return _report(str(path), problems, notes, keys, 0, None, None, None, 0, None, {"exported": 0})
    start, end = covered["first_seq"], covered["last_seq"]
    walk = _Walk(header, keys, problems)
    for seq in sorted(seq for seq in parsed.entries if not start <= seq <= end):
        problems.add(seq, f"seq {seq} is outside the covered range {start}..{end}")
    # The header's range is a claim: walk no more of it than the export's lines can fill.
    walked = min(end, start + len(parsed.entries))
    if walked < end:
        problems.add(
            walked + 1,
            f"the header covers seq {start}..{end} ({end - start + 1} records) but the export holds "
            f"{len(parsed.entries)}: records from seq {walked + 1} on are missing (not checked one by one)",
        )
    for seq in range(start, walked + 1):
        try:
            walk.step(seq, parsed.entries.get(seq))
        except Exception as exc:  # fail closed: a record that cannot be checked is a bad record
            problems.add(seq, f"cannot be verified: {type(exc).__name__}: {str(exc)[:200]}")
    exported = walk.exported
    _check_start(header, start, _entry_time(parsed.entries.get(start)), keys, problems, notes)
    if exported and (walk.anchored_through is None or exported[-1].seq > walk.anchored_through):
        unsigned = sum(1 for record in exported if walk.anchored_through is None or record.seq > walk.anchored_through)
        problems.add(
            exported[-1].seq,
            f"{counted(unsigned, 'exported record')} {is_are(unsigned)} not covered by a valid checkpoint signature, "
            "so nothing proves "
            "them; export again after the next checkpoint",
        )
    end_time = _entry_time(parsed.entries.get(end))
    if end_time < walk.to_s:
        if str(header.get("exported_at", "")) < walk.to_s:
            notes.append(f"the period had not ended when this was exported; it holds records up to {end_time}")
        else:
            problems.add(
                end,
                f"the export ends at a record stamped {end_time}, before the end of the period: "
                "records at its end may have been left out",
            )
    _check_footer(parsed.footer, len(exported), walk.omitted, walk.checkpoint_lines, problems)
    if walk.filtered:
        notes.append(
            "filtered export: records left out inside the period are shown only by digest; "
            "that they belong to other controls/scopes cannot be proven from the export"
        )
    extra = {"exported": len(exported), "omitted": walk.omitted, "period": {"from": walk.from_s, "to": walk.to_s}}
    return _report(
        str(path),
        problems,
        notes,
        keys,
        len(exported),
        start,
        end,
        walk.chain,
        walk.checkpoints,
        walk.anchored_through,
        extra,
    )


class _Walk:
    """The chain through the covered range, one seq at a time: links, hashes, times, signatures."""

    def __init__(
        self, header: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey] | None, problems: ProblemList
    ) -> None:
        self.keys = keys
        self.problems = problems
        self.from_s, self.to_s = str(header["from"]), str(header["to"])
        self.filtered = any(v is not None for v in header.get("filter", {}).values())
        self.chain = str(header["covered"]["start_prev_hash"])
        self.last_time = ""
        self.checkpoints = self.checkpoint_lines = self.omitted = 0
        self.anchored_through: int | None = None
        self.exported: list[Record] = []

    def step(self, seq: int, entry: Record | Omitted | None) -> None:
        problems = self.problems
        if entry is None:
            problems.add(seq, "missing from the export (neither the record nor its digest is there)")
            return
        if isinstance(entry, Record):
            record = entry
            bad = check_record_fields(record)
            if bad is not None:
                problems.add(seq, bad)
            elif record.prev_hash != self.chain:
                problems.add(seq, "prev_hash does not link to the record before it")
            elif record.computed_hash() != record.hash:
                problems.add(seq, "hash mismatch: a field of this record was changed")
            self.checkpoint_lines += record.kind == "checkpoint"
            if record.kind == "checkpoint" and bad is None:
                if check_checkpoint(record, None, self.keys, problems):
                    self.checkpoints += 1
                    self.anchored_through = record.seq
            elif self.from_s <= record.time < self.to_s:
                self.exported.append(record)
            kind, time, self.chain = record.kind, record.time, record.hash
        else:
            kind, time, digest, fmt = entry
            self.omitted += 1
            if kind not in KINDS:
                problems.add(seq, f"omitted record of unknown kind {shown(kind)}")
                return
            bad_time = time_problem(time)
            if bad_time is not None:
                problems.add(seq, f"omitted record: {bad_time}")
                return
            try:
                self.chain = record_hash(seq, kind, time, digest, self.chain, format=fmt)
            except ValueError:
                problems.add(seq, "malformed digest or format of an omitted record")
                return
            if self.from_s <= time < self.to_s and not (self.filtered and kind in FILTERABLE):
                problems.add(seq, f"a {kind} record stamped {time}, inside the period, was left out of the export")
        if time < self.last_time:
            problems.add(seq, "time goes backwards")
        self.last_time = time


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
        test_key=accepts_test_key(keys),
    )


def _verify_csv(path: Path, chain_report: Report) -> Report:
    """The sidecar verified; now every CSV row must equal a verified `control_run` record."""
    problems = list(chain_report.problems)
    total = chain_report.problems_total
    sidecar = Path(f"{path}.chain.jsonl")
    full: dict[int, Record] = {}
    repeated: list[Record] = []
    with open_text(sidecar) as handle:
        for line in handle:
            try:
                item = json.loads(line)
                if item.get("type") == "record" and item.get("kind") in ("control_run", "control_runs_repeated"):
                    fmt = record_format(item)
                    body = canonical_body(item["body"], fmt)
                    seq = int(item["seq"])
                    record = Record(seq, item["kind"], item["time"], body, item["prev_hash"], item["hash"], fmt)
                    if record.kind == "control_run":
                        full[seq] = record
                    else:
                        repeated.append(record)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
                continue  # already reported by the sidecar's own verification

    # A repeated run is a row too: its body from the full run it refers to and the changes since.
    repeats_of: dict[str, list[Record]] = {}
    for record in sorted(repeated, key=lambda r: r.seq):
        scope = record.data.get("scope")
        repeats_of.setdefault(str(scope), []).append(record)

    def between(scope: str, low: int, high: int) -> list[Record]:
        return [r for r in repeats_of.get(scope, []) if low < r.seq < high]

    expander = Expander(full.get, between)
    runs = [*full.values(), *(run for record in repeated for run in expander.expand(record))]
    records = {(r.seq, str(r.data.get("control", ""))): r for r in runs}
    period = chain_report.extra.get("period", {})
    wanted = {key for key, r in records.items() if period and period.get("from", "") <= r.time < period.get("to", "")}
    with open_text(path, newline="") as handle:
        rows = list(csv.reader(handle))
    columns = tuple(rows[0]) if rows else ()
    if columns not in (CSV_COLUMNS, LEGACY_CSV_COLUMNS):
        problems.append(Problem(None, "the CSV header is not the export's column list"))
        total += 1
        rows, columns = [list(CSV_COLUMNS)], CSV_COLUMNS
    rebuild = csv_rows if columns == CSV_COLUMNS else lambda record: [csv_row(record)]
    lines_of: dict[tuple[int, str], list[tuple[int, list[str]]]] = {}
    for number, row in enumerate(rows[1:], 2):
        try:
            seq = int(row[columns.index("seq")])
            key = (seq, row[columns.index("control")])
        except (ValueError, IndexError):
            problems.append(Problem(None, f"CSV line {number}: no seq"))
            total += 1
            continue
        lines_of.setdefault(key, []).append((number, row))
    for key, lines in lines_of.items():
        found = records.get(key)
        if found is None:
            for number, _ in lines:
                problems.append(Problem(key[0], f"CSV line {number}: no such control_run record in the chain sidecar"))
            total += len(lines)
            continue
        expected = rebuild(found)  # one row per failing resource; each must be there once
        for number, row in lines:
            if row in expected:
                expected.remove(row)
            else:
                problems.append(Problem(key[0], f"CSV line {number} differs from the verified record"))
                total += 1
        if expected:
            problems.append(
                Problem(
                    key[0],
                    f"the run of {key[1]} lacks {len(expected)} of the CSV rows its verified record gives "
                    "(one per failing resource): rows were dropped",
                )
            )
            total += 1
    for seq, control in sorted(wanted - lines_of.keys()):
        problems.append(Problem(seq, f"a control run ({control}) in the export has no CSV row"))
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
        test_key=chain_report.test_key,
        extra={**dict(chain_report.extra), "csv_rows": len(rows) - 1},
    )


def checkpoints_in_export(path: str | Path) -> list[Checkpoint]:
    """The checkpoints an export carries: keep them to catch a later truncation of the ledger
    (`verify_ledger(..., retained=checkpoints_in_export(old_export))`)."""
    found: list[Checkpoint] = []
    with open_text(path) as handle:
        for line in handle:
            item = json.loads(line) if line.strip() else {}
            if item.get("type") == "record" and item.get("kind") == "checkpoint":
                found.append(Checkpoint.from_json(item["body"]))
    return found
