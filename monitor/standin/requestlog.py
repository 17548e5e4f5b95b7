"""The stand-in's request log, so tests can count the calls a collector made.

Kept apart from the server so that `control.py` (used by subprocess tests) can read
records back without loading discovery documents. Bounded: a demo left running for
days keeps only the latest entries.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_RECORDS = 10_000


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One API request: `method` is the API method id (None for an unknown route).

    `status` is the HTTP status sent, 0 when the connection was dropped without one;
    `fault` is the id of the injected fault that shaped the answer, if any.
    """

    method: str | None
    http_method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    project: str | None = None
    status: int = 0
    time: float = 0.0
    fault: int | None = None
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["query"] = dict(self.query)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestRecord:
        return cls(
            method=data.get("method"),
            http_method=str(data["http_method"]),
            path=str(data["path"]),
            query=dict(data.get("query") or {}),
            project=data.get("project"),
            status=int(data.get("status", 0)),
            time=float(data.get("time", 0.0)),
            fault=data.get("fault"),
            body=data.get("body"),
        )


class RequestLog:
    """A thread-safe, bounded list of RequestRecord.

    A request is logged when its answer is sent, which for a `latency` fault is long after
    it arrived. Each clear starts a new generation, and a request that arrived before the
    clear is not logged after it: a test that resets the stand-in never counts the late
    end of a previous test's slow request.
    """

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._generation = 0

    def generation(self) -> int:
        """The current generation: pass it back to `append` for a request arriving now."""
        with self._lock:
            return self._generation

    def append(self, record: RequestRecord, generation: int | None = None) -> None:
        with self._lock:
            if generation is None or generation == self._generation:
                self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._generation += 1

    def records(self, method: str | None = None) -> list[RequestRecord]:
        """All records in arrival order, or those of one API method id."""
        with self._lock:
            return [r for r in self._records if method is None or r.method == method]
