"""The Cloud Logging copy of a ledger as an auditor reads it back: `gcloud logging read
'logName="projects/P/logs/NAME"' --format=json`, a JSON array of log entries, newest first.

The entries are the ones the daemon's `CloudCopy` writes (captured from its API call), so
the format the verifier reads is the format the writer sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.collect.observer import NullObserver
from monitor.evidence import Ledger
from monitor.sinks.evidence_copy import CloudCopy

LOG = "projects/sec-audit/logs/controlwatch-evidence"


class _Connection:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def api_request(self, **call: Any) -> dict[str, Any]:
        self.entries.extend(call["data"]["entries"])
        return {}


class _Client:
    def __init__(self) -> None:
        self._connection = _Connection()


def gcloud_read(ledger_path: Path, out: Path) -> Path:
    """Write every record of the ledger, as copied to Cloud Logging, to `out` as gcloud prints it."""
    client = _Client()
    copy = CloudCopy(client, LOG, NullObserver())
    with Ledger(ledger_path, readonly=True) as ledger:
        assert copy.send(list(ledger.records()), force=True)
    entries = [{**entry, "receiveTimestamp": entry["timestamp"]} for entry in reversed(client._connection.entries)]
    out.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return out
