"""Injected faults: the failures real Google APIs produce, on demand, per route.

Tests and the demo use them to prove that the daemon retries what it should, gives up
on what it should, and never mistakes a failure for a clean estate. `drip` exists
because `timeout=` on a Google call is a per-read socket timeout: a server that sends
one byte per interval keeps the call alive forever, which only a deadline enforced
from outside can end.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

from monitor.standin.hostile import MODES
from monitor.standin.replies import ApiError, ErrorInfo, permission_denied, rate_limited, service_disabled

FaultKind = Literal["status", "latency", "drip", "malformed", "drop", "hostile"]
KINDS: tuple[str, ...] = get_args(FaultKind)
_DISABLED = ("SERVICE_DISABLED", "accessNotConfigured")
_RATE = ("rateLimitExceeded", "RATE_LIMIT_EXCEEDED")
_DENIED = ("forbidden", "IAM_PERMISSION_DENIED", "PERMISSION_DENIED")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault rule.

    - `method`: an API method id (`compute.firewalls.list`) or `*` for every API route;
      `project`: only requests about this project (id or number), None for all.
    - `kind`: `status` answers `status` with Google's error body (403 `reason`:
      `SERVICE_DISABLED`, `rateLimitExceeded`, or none for a plain denial; 429 is always
      RESOURCE_EXHAUSTED with ErrorInfo `RATE_LIMIT_EXCEEDED`; 502 is Google's HTML page);
      `latency` waits `delay` seconds then answers normally; `drip` sends a 200 header
      with a large Content-Length and then one byte every `delay` seconds until the
      client leaves or the server stops; `malformed` answers 200 with truncated JSON;
      `drop` closes the connection without a response; `hostile` answers 200 with a body
      of the wrong shape, as `mode` says (`hostile.MODES`; `count` items for `many`).
    - `times`: how many requests it applies to; None until cleared.
    """

    method: str = "*"
    kind: FaultKind = "status"
    project: str | None = None
    status: int | None = None
    reason: str | None = None
    message: str | None = None
    delay: float = 0.0
    times: int | None = None
    mode: str | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(KINDS)}")
        if not isinstance(self.method, str) or not self.method:
            raise ValueError("method: an API method id such as compute.firewalls.list, or *")
        if self.kind == "status":
            if not isinstance(self.status, int) or isinstance(self.status, bool) or not 400 <= self.status <= 599:
                raise ValueError(f"status: kind 'status' needs an HTTP error status 400-599, got {self.status!r}")
        elif self.status is not None or self.reason is not None:
            raise ValueError(f"status/reason: only for kind 'status', not {self.kind!r}")
        if not isinstance(self.delay, int | float) or isinstance(self.delay, bool) or self.delay < 0:
            raise ValueError(f"delay: seconds >= 0, got {self.delay!r}")
        if self.kind == "drip" and self.delay <= 0:
            raise ValueError("delay: kind 'drip' needs the seconds between bytes (> 0)")
        bad_times = not isinstance(self.times, int) or isinstance(self.times, bool) or self.times < 1
        if self.times is not None and bad_times:
            raise ValueError(f"times: a count >= 1, or null for until cleared; got {self.times!r}")
        if self.kind == "hostile" and self.mode not in MODES:
            raise ValueError(f"mode: kind 'hostile' needs one of {', '.join(MODES)}; got {self.mode!r}")
        if self.kind != "hostile" and self.mode is not None:
            raise ValueError(f"mode: only for kind 'hostile', not {self.kind!r}")
        bad_count = not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1
        if self.count is not None and (self.mode != "many" or bad_count):
            raise ValueError(f"count: a number of items >= 1, for mode 'many' only; got {self.count!r}")

    def matches(self, method: str | None, project_keys: tuple[str, ...]) -> bool:
        """Whether this fault applies to a request for API `method` about one of `project_keys`."""
        if method is None or (self.method != "*" and self.method != method):
            return False
        return self.project is None or self.project in project_keys

    def error(
        self, method: str, project_number: str | None, project_id: str | None, *, resource: str | None = None
    ) -> ApiError:
        """The error answer of a `status` fault, for API method id `method`.

        `resource` names what a denial is about when it is not the project (`folders/55`,
        `organizations/4242`), so an error about an ancestor says which one.
        """
        assert self.status is not None
        api = method.split(".", 1)[0]
        if self.status == 429 or (self.status == 403 and self.reason in _RATE):
            return rate_limited(api, project_number, status=self.status, message=self.message)
        if self.status == 403 and self.reason in _DISABLED:
            return service_disabled(api, project_number, message=self.message)
        if self.status == 403 and (self.reason is None or self.reason in _DENIED):
            permission = method.replace("cloudresourcemanager.", "resourcemanager.", 1)
            resource = resource or (f"projects/{project_id}" if project_id else "projects/_")
            message = self.message
            if api == "compute" and message is None:
                message = f"Required '{permission}' permission for '{resource}'"
            return permission_denied(permission, resource, api=api, message=message)
        info = ErrorInfo(self.reason) if self.reason else None
        return ApiError(self.status, self.message, reason=self.reason, info=info)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """A Fault from the control API's JSON; unknown keys are errors (ValueError)."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        for name in ("method", "project", "reason", "message", "mode"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValueError(f"{name}: expected a string, got {data[name]!r}")
        return cls(**cast(dict[str, Any], dict(data)))


@dataclass(frozen=True, slots=True)
class ActiveFault:
    """A fault in the table: its id and how many uses are left (None: until cleared)."""

    id: int
    fault: Fault
    remaining: int | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.fault.to_json(), "remaining": self.remaining}


class FaultTable:
    """Faults in the order they were added; the first that matches a request applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 1
        self._active: list[ActiveFault] = []

    def add(self, fault: Fault) -> int:
        with self._lock:
            fault_id = self._next_id
            self._next_id += 1
            self._active.append(ActiveFault(fault_id, fault, fault.times))
            return fault_id

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            kept = [a for a in self._active if a.id != fault_id]
            removed = len(kept) != len(self._active)
            self._active = kept
            return removed

    def clear(self) -> int:
        with self._lock:
            count = len(self._active)
            self._active = []
            return count

    def active(self) -> list[ActiveFault]:
        with self._lock:
            return list(self._active)

    def take(self, method: str | None, project_keys: tuple[str, ...] = ()) -> ActiveFault | None:
        """The first fault matching the request, using up one of its `times`."""
        with self._lock:
            for i, entry in enumerate(self._active):
                if not entry.fault.matches(method, project_keys):
                    continue
                if entry.remaining is not None:
                    left = entry.remaining - 1
                    if left <= 0:
                        del self._active[i]
                    else:
                        self._active[i] = ActiveFault(entry.id, entry.fault, left)
                return entry
            return None
