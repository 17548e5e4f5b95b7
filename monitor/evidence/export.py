"""Exports an auditor can verify without the ledger: by period, control and scope.

JSON Lines, one object per line, in seq order:

    {"type": "header", "format": "controlwatch-evidence-export", "version": 1,
     "from", "to", "filter": {"control", "scope"}, "exported_at",
     "covered": {"first_seq", "last_seq", "start_prev_hash"}, "ledger": {"first_seq", "head_seq", "head_hash"},
     "prune_anchor": {...}}            # only when the covered range starts at the oldest retained record
    {"type": "record", "seq", "kind", "time", "body": {...}, "prev_hash", "hash", "format"}
    {"type": "omitted", "format", "records": [[seq, kind, time, body_sha256], ...]}
    {"type": "footer", "records": n, "omitted": m, "checkpoints": c}

`format` is the record format (see `records.py`); it is left out when it is 1, so the
export of a ledger written before format 2 is what it always was, and a missing `format`
reads as 1. One `omitted` line holds records of one format.

The covered range runs from the record just before the period (proving where it starts)
to the first checkpoint after the last record in the period (the signature anchoring it
all), reaching back to the full runs the period's repeat records refer to (`repeats.py`),
which are given whole so that the repeated runs can be read. Inside it, records that
match are given whole; checkpoints and prune anchors are given whole too (their
signatures are what make the export trustworthy); every other record appears only as
(seq, kind, time, body digest). Record hashes commit to the body
through its digest (see `records.py`), so the verifier recomputes the chain across the
omitted records without seeing their bodies: editing, dropping, adding or reordering any
record breaks a hash or a link, and a rewrite breaks the checkpoint signature. What the
verifier requires beyond that is in `export_verify.py`.

CSV: a flat table of the matching `control_run` records, one row per failing resource per
run (a failure, a failure under an accepted risk, or a resource the control could not judge:
`resource`, `subject`, `result`, `reason`, `risk_approver`, `risk_expires`), and one row with
those columns empty for a run with none; every row carries its run's counts and the `seq`
and `hash` of the record that proves it. The same JSON Lines go to a sidecar
`FILE.chain.jsonl`; `verify_export(FILE.csv)` checks the sidecar and that the rows of every
run are exactly those its verified record gives (`csv_rows`). A CSV of the earlier layout,
one row per run (`LEGACY_CSV_COLUMNS`), verifies as it was written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from monitor.evidence.canonical import format_time
from monitor.evidence.failing import failing_state
from monitor.evidence.ledger import Ledger
from monitor.evidence.records import Record, body_digest
from monitor.evidence.references import References, entries_of
from monitor.evidence.repeats import REPEATED

__all__ = ["CSV_COLUMNS", "FILTERABLE", "FORMAT", "LEGACY_CSV_COLUMNS", "ExportResult", "csv_row", "csv_rows", "export"]

FORMAT = "controlwatch-evidence-export"
FORMAT_VERSION = 1
LEGACY_CSV_COLUMNS = (
    "time",
    "control",
    "scope",
    "status",
    "pass",
    "fail",
    "excepted",
    "error",
    "checked",
    "started",
    "ended",
    "input_digest",
    "seq",
    "hash",
)
"""One row per run: the CSV layout before the failing resources were listed."""
RESOURCE_COLUMNS = ("resource", "subject", "result", "reason", "risk_approver", "risk_expires")
CSV_COLUMNS = (*LEGACY_CSV_COLUMNS[:-2], *RESOURCE_COLUMNS, *LEGACY_CSV_COLUMNS[-2:])
"""One row per failing resource per run; `seq` and `hash` (the proving record) stay last."""
FILTERABLE = frozenset({"control_run", "control_runs_repeated", "baseline_approved"})
"""Kinds a control/scope filter may leave out (their bodies say which control and scope)."""
_ALWAYS_WHOLE = frozenset({"checkpoint", "prune_anchor"})
_OMITTED_PER_LINE = 5000


@dataclass(frozen=True, slots=True)
class ExportResult:
    records: int
    omitted: int
    checkpoints: int
    first_seq: int | None
    last_seq: int | None
    anchored: bool
    paths: tuple[Path, ...] = field(default=())


def matches(record: Record, control: str | None, scope: str | None) -> bool:
    """Records with a control/scope field must equal the filter; records without one always match."""
    if control is None and scope is None:
        return True
    data = record.data
    if control is not None and "control" in data and data["control"] != control:
        return False
    return not (scope is not None and "scope" in data and data["scope"] != scope)


@contextmanager
def _opened(out: str | Path | IO[str]) -> Iterator[IO[str]]:
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="") as handle:
            yield handle
    else:
        yield out


def export(
    ledger: Ledger,
    from_time: datetime,
    to_time: datetime,
    *,
    control: str | None = None,
    scope: str | None = None,
    fmt: Literal["jsonl", "csv"] = "jsonl",
    out: str | Path | IO[str],
    chain_out: str | Path | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the records of `[from_time, to_time)` (narrowed by control/scope) and their proof.

    For `fmt="csv"` the chain material goes to `chain_out` (default: `OUT.chain.jsonl`;
    required when `out` is a stream).
    """
    if fmt == "csv":
        if chain_out is None:
            if not isinstance(out, (str, Path)):
                raise ValueError("a CSV export written to a stream needs chain_out= for its chain sidecar")
            chain_out = Path(f"{out}.chain.jsonl")
        with _opened(chain_out) as chain_handle:
            result = _write_jsonl(ledger, from_time, to_time, control, scope, chain_handle, now)
        rows = _csv_rows(ledger, from_time, to_time, control, scope)
        with _opened(out) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)
        paths = tuple(Path(p) for p in (out, chain_out) if isinstance(p, (str, Path)))
        return replace(result, paths=paths)
    with _opened(out) as handle:
        result = _write_jsonl(ledger, from_time, to_time, control, scope, handle, now)
    return replace(result, paths=(Path(out),) if isinstance(out, (str, Path)) else ())


def csv_row(record: Record) -> list[str]:
    """The `LEGACY_CSV_COLUMNS` row of a `control_run` record: the run, its counts, its record."""
    data = record.data
    counts = data.get("counts", {})
    return [
        record.time,
        str(data.get("control", "")),
        str(data.get("scope", "")),
        str(data.get("status", "")),
        *(str(counts.get(key, "")) for key in ("pass", "fail", "excepted", "error", "checked")),
        str(data.get("started", "")),
        str(data.get("ended", "")),
        str(data.get("input_digest", "")),
        str(record.seq),
        record.hash,
    ]


def csv_rows(record: Record) -> list[list[str]]:
    """The `CSV_COLUMNS` rows of a `control_run` record: one per failing resource, or one with the
    resource columns empty when none failed (the verifier rebuilds them from the verified record)."""
    run = csv_row(record)
    head, proof = run[:-2], run[-2:]
    results = record.data.get("results")
    rows = []
    for result in results if isinstance(results, list) else []:
        state = failing_state(result) if isinstance(result, dict) else None
        if state is None:
            continue
        exception = result.get("exception")
        risk = exception if isinstance(exception, dict) else {}
        resource = [
            _cell(result.get("resource")),
            _cell(result.get("subject")),
            state,
            _cell(result.get("reason")),
            _cell(risk.get("approver")),
            _cell(risk.get("expires")),
        ]
        rows.append([*head, *resource, *proof])
    return rows or [[*head, *([""] * len(RESOURCE_COLUMNS)), *proof]]


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _csv_rows(
    ledger: Ledger, from_time: datetime, to_time: datetime, control: str | None, scope: str | None
) -> list[list[str]]:
    runs = References(ledger).runs(from_time, to_time, control=control, scope=scope)
    return [row for record in runs for row in csv_rows(record)]


def _write_jsonl(
    ledger: Ledger,
    from_time: datetime,
    to_time: datetime,
    control: str | None,
    scope: str | None,
    handle: IO[str],
    now: datetime | None,
) -> ExportResult:
    first, head = ledger.first(), ledger.head()
    bounds = ledger.seq_bounds(from_time, to_time)
    header: dict[str, Any] = {
        "type": "header",
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "from": format_time(from_time),
        "to": format_time(to_time),
        "filter": {"control": control, "scope": scope},
        "exported_at": format_time(now if now is not None else datetime.now(UTC)),
        "ledger": {
            "first_seq": first.seq if first else None,
            "head_seq": head.seq if head else None,
            "head_hash": head.hash if head else None,
        },
        "covered": None,
    }
    if bounds is None or first is None or head is None:
        _line(handle, header)
        _line(handle, {"type": "footer", "records": 0, "omitted": 0, "checkpoints": 0})
        return ExportResult(0, 0, 0, None, None, anchored=True)
    lo, hi = bounds
    start = lo - 1 if lo - 1 >= first.seq else lo
    referenced = _referenced(ledger, from_time, to_time, control, scope, first.seq)
    start = min([start, *referenced])
    covering = ledger.next_of_kind("checkpoint", hi)
    end = covering.seq if covering is not None else head.seq
    start_record = ledger.get(start)
    header["covered"] = {
        "first_seq": start,
        "last_seq": end,
        "start_prev_hash": start_record.prev_hash if start_record else None,
    }
    if start == first.seq and first.seq > 1:
        # The period starts before the oldest retained record: the signed anchor says why.
        anchor = ledger.last_of_kind("prune_anchor")
        header["prune_anchor"] = anchor.data if anchor is not None else None
    _line(handle, header)
    from_s, to_s = format_time(from_time), format_time(to_time)
    exported = omitted_count = checkpoints = 0
    omitted: list[list[Any]] = []
    omitted_format = 1
    for record in ledger.records(start, end):
        in_period = from_s <= record.time < to_s
        if omitted and (record.format != omitted_format or len(omitted) >= _OMITTED_PER_LINE):
            _line(handle, _omitted(omitted, omitted_format))
            omitted = []
        if (
            record.kind in _ALWAYS_WHOLE
            or record.seq in referenced
            or (in_period and matches(record, control, scope))
            or (record.kind == REPEATED and record.seq < lo and matches(record, None, scope))  # changes since a ref
        ):
            if omitted:
                _line(handle, _omitted(omitted, omitted_format))
                omitted = []
            _line(handle, {"type": "record", **record.to_json()})
            if record.kind == "checkpoint":
                checkpoints += 1
            elif in_period:
                exported += 1
        else:
            omitted.append([record.seq, record.kind, record.time, body_digest(record.body)])
            omitted_format = record.format
            omitted_count += 1
    if omitted:
        _line(handle, _omitted(omitted, omitted_format))
    _line(handle, {"type": "footer", "records": exported, "omitted": omitted_count, "checkpoints": checkpoints})
    return ExportResult(exported, omitted_count, checkpoints, start, end, anchored=covering is not None)


def _referenced(
    ledger: Ledger, from_time: datetime, to_time: datetime, control: str | None, scope: str | None, first_seq: int
) -> set[int]:
    """Seqs of the full runs the exported repeat records refer to: given whole, as are the repeats of
    their scope from there to the period (they hold the changes since), so the runs can be read."""
    seqs: set[int] = set()
    for record in ledger.query(from_time, to_time, kinds=[REPEATED], scope=scope):
        for entry in entries_of(record.data):
            wanted = control is None or entry.control == control
            if wanted and entry.ref is not None and first_seq <= entry.ref[0] < record.seq:
                seqs.add(entry.ref[0])
    return seqs


def _omitted(entries: list[list[Any]], fmt: int) -> dict[str, Any]:
    if fmt == 1:
        return {"type": "omitted", "records": entries}
    return {"type": "omitted", "format": fmt, "records": entries}


def _line(handle: IO[str], value: Mapping[str, Any]) -> None:
    handle.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
