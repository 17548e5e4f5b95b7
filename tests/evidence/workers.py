"""Child-process bodies for the concurrency and crash tests (importable by `spawn`)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.evidence import Ledger


def append_many(path: str, writer: str, count: int, start: Any = None) -> None:
    """Append `count` records, one transaction each, as fast as possible.

    `start` (a multiprocessing barrier) lines the writers up so they really overlap.
    """
    with Ledger(Path(path), busy_timeout=30.0) as ledger:
        if start is not None:
            start.wait(timeout=30)
        for index in range(count):
            ledger.append("daemon_start", {"writer": writer, "index": index})
            # SQLite's busy handler is not a fair queue: a writer looping without pause can
            # re-take the lock before the waiting one wakes. A short pause makes them interleave.
            time.sleep(0.001)


def append_forever(path: str) -> None:
    """The crash test's victim: say "ready", then append and acknowledge each commit on stdout.

    An acknowledged seq is committed; the parent kills us at a random moment, so at most
    the one record in flight (committed or not, never acknowledged) is in doubt.
    """
    from monitor.evidence import Checkpointer, demo_key

    ledger = Ledger(Path(path), busy_timeout=30.0)
    checkpointer = Checkpointer(ledger, demo_key())
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    index = 0
    while True:
        index += 1
        if index % 7 == 0:
            record = checkpointer.checkpoint(_now())
        else:
            record = ledger.append("control_run", {"control": "FW-01", "scope": "p", "index": index})
        if record is not None:
            sys.stdout.write(f"{record.seq}\n")
            sys.stdout.flush()


def _now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    append_forever(sys.argv[1])
