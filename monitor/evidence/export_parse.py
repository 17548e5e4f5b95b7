"""Reading an export back for verification: its lines, and whether its header can be believed.

Everything in the file is the forger's: each line, each field of the header, each seq. A
line that is not what `export.py` writes is a problem of that line, and a header whose
fields are not of the form `export.py` writes (a missing `from`, a `first_seq` that is no
integer, a range that is not one) is a problem of the export: nothing here raises on
content, so the verifier reports instead of crashing. The format is described in `export.py`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from monitor.evidence.export import FORMAT
from monitor.evidence.findings import ProblemList
from monitor.evidence.records import Record, canonical_body, hex_problem, seq_problem, shown, time_problem
from monitor.files import open_regular_file

__all__ = ["Omitted", "Parsed", "header_problem", "open_text", "parse_export", "record_format", "seq_of"]


class Omitted(NamedTuple):
    """A record the export gives only by its body's digest."""

    kind: str
    time: str
    digest: str
    format: int


@dataclass
class Parsed:
    header: dict[str, Any]
    entries: dict[int, Record | Omitted]
    footer: dict[str, Any] | None


def open_text(path: str | Path, newline: str | None = None) -> io.TextIOWrapper:
    """The file as UTF-8 text, read as `open` would; a FIFO or device is an `OSError` at once, never waited on."""
    return io.TextIOWrapper(open_regular_file(path), encoding="utf-8", newline=newline)


def record_format(item: Mapping[str, Any]) -> int:
    """An export line's record format: absent means 1 (exports made before format 2)."""
    value = item.get("format", 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"record format {value!r} is not an integer")
    return value


def seq_of(value: Any) -> int:
    """A seq as an export writes it: an integer (never a string or a float `int()` would take)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"seq {shown(value)} is not an integer")
    return value


def header_problem(header: Mapping[str, Any]) -> str | None:
    """Why the header's fields are not of the form `export.py` writes; None if they are.

    `from`, `to` (and `exported_at`, when there) are times; `filter`, when there, an object;
    `covered` is null (nothing in the period) or a range of seqs, `first_seq` to `last_seq`,
    with the hash before it.
    """
    for name in ("from", "to", "exported_at"):
        if name == "exported_at" and name not in header:
            continue
        problem = time_problem(header.get(name))
        if problem is not None:
            return f"{name!r}: {problem}"
    if not isinstance(header.get("filter", {}), dict):
        return f"'filter' is {shown(header.get('filter'))}, not an object"
    covered = header.get("covered")
    if covered is None:
        return None
    if not isinstance(covered, dict):
        return f"'covered' is {shown(covered)}, not an object"
    for name in ("first_seq", "last_seq"):
        problem = seq_problem(covered.get(name))
        if problem is not None:
            return f"covered.{name}: {problem}"
    if covered["first_seq"] > covered["last_seq"]:
        return f"covered.first_seq {covered['first_seq']} is after covered.last_seq {covered['last_seq']}"
    problem = hex_problem("start_prev_hash", covered.get("start_prev_hash"))
    return None if problem is None else f"covered.{problem}"


def parse_export(lines: Iterator[str], problems: ProblemList) -> Parsed | None:
    """Header, entries by seq and footer; None (with the problem) when there is no header."""
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
        except (ValueError, KeyError, RecursionError):
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
                fmt = record_format(item)
                record = Record(
                    seq=seq_of(item["seq"]),
                    kind=str(item["kind"]),
                    time=str(item["time"]),
                    body=canonical_body(item["body"], fmt),
                    prev_hash=str(item["prev_hash"]),
                    hash=str(item["hash"]),
                    format=fmt,
                )
                batch: list[tuple[int, Record | Omitted]] = [(record.seq, record)]
            elif kind == "omitted":
                fmt = record_format(item)
                batch = [(seq_of(s), Omitted(str(k), str(t), str(d), fmt)) for s, k, t, d in item["records"]]
            else:
                problems.add(None, f"line {number}: unknown line type {shown(kind)}")
                continue
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            problems.add(None, f"line {number}: malformed {kind} line ({str(exc)[:200]})")
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
    return Parsed(header, entries, footer)
