"""The path every stand-in write takes: a validated body, one lock, a commit that audits.

Shared by the mutating routes so that each behaves as Google's do where a test could
otherwise pass by accident: the body is checked against the discovery schema before
anything is read (a misspelt field is 400), every write runs under one lock on the
scenario as it is *now*, and the commit builds the Admin Activity entry first, so an
entry that would be invalid changes nothing. Compute's answered operations are kept here
too: they are what a write leaves behind besides the scenario and the trail.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.standin.auditlog import AuditRecord, AuditTrail
from monitor.standin.discovery import load_api
from monitor.standin.replies import bad_request
from monitor.standin.routes import Call
from monitor.standin.scenario import Scenario

#: answered operations kept for `get`/`wait`, oldest forgotten first
MAX_OPERATIONS = 1000


def _request_leaf(value: Any, schema: Mapping[str, Any], name: str) -> Any:
    """int64 numbers as strings, enums sent as numbers (Resource Manager's client does) as names."""
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    if schema.get("format") in ("int64", "uint64"):
        return str(value)
    enum = schema.get("enum")
    if enum and 0 <= value < len(enum):
        return enum[value]
    return value


def request_body(call: Call, api: str, ref: str) -> dict[str, Any]:
    """The request body, normalised as the server stores it, validated against `ref`."""
    if not isinstance(call.body, dict):
        raise bad_request(f"Invalid JSON payload received: the body of {call.method.id} must be a {ref} object")
    loaded = load_api(api)
    body: dict[str, Any] = loaded.rewrite(call.body, ref, _request_leaf)
    issues = loaded.validate(body, ref)
    if issues:
        raise bad_request(f"Invalid JSON payload received. {issues[0]}")
    return body


class WritePath:
    """The scenario the server holds (`current`/`replace`), the audit trail and the clock, behind one lock.

    Handlers hold `lock` from reading the scenario (`fresh`) to `commit`, so two writes
    never build on the same state; it is re-entrant for the operation lookups they share.
    """

    def __init__(
        self,
        current: Callable[[], Scenario],
        replace: Callable[[Scenario], None],
        audit: AuditTrail,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._current = current
        self._replace = replace
        self._audit = audit
        self._clock = clock
        self.lock = threading.RLock()
        self._operations: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()

    def now(self) -> datetime:
        return self._clock()

    def fresh(self, call: Call) -> Call:
        """`call` on the scenario as it is now (the request may have arrived before a mutation)."""
        return dataclasses.replace(call, scenario=self._current())

    def principal(self, call: Call) -> str:
        """Who makes the change: the `X-Standin-Principal` header, or the trail's default."""
        return self._audit.principal(call.headers)

    def commit(
        self, scenario: Scenario, record: AuditRecord, operation: dict[str, Any] | None = None, scope: str = ""
    ) -> None:
        """Commit `scenario`, keep `operation`, write the audit entry (built first: a bad one changes nothing)."""
        entry = self._audit.entry(record, now=self._clock())
        self._replace(scenario)
        if operation is not None:
            self._operations[(record.project_id, scope, str(operation["name"]))] = operation
            while len(self._operations) > MAX_OPERATIONS:
                self._operations.popitem(last=False)
        self._audit.write(entry)

    def operation(self, project_id: str, scope: str, name: str) -> dict[str, Any] | None:
        """The operation a write answered in `scope` (`global` or `zones/Z`), if still kept."""
        with self.lock:
            return self._operations.get((project_id, scope, name))

    def clear(self) -> None:
        """Forget answered operations (the stand-in's reset and load)."""
        with self.lock:
            self._operations.clear()


__all__ = ["MAX_OPERATIONS", "WritePath", "request_body"]
