"""The Admin Activity poller: turns audit-log entries of watched changes into re-check requests.

A sweep per scope runs every interval; drift made between two sweeps would stay unseen
until the next. Google records every firewall, IAM-policy and backup-policy change in
the project's Admin Activity log within seconds, so polling that log is the cheap way
to re-check a scope right after someone changes it (`on_change`, which the daemon wires
to "mark the scope dirty and run it").

Why it is shaped this way:
- ONE `entries:list` call per poll for every scope at once (`resourceNames`, chunked by
  the API's limit of 100): Logging's read quota is per minute per project and small
  (60 `entries.list`), so a call per scope would not scale.
- The filter names each project's Admin Activity log exactly (`logName="…"`, an indexed
  field; entries routed in from other projects' logs do not match), the watched methods
  with `protoPayload.methodName:` and ALWAYS a `timestamp>=` term: without one the client
  libraries add a 24-hour window of their own, and the API scans far more.
- Entries reach the log late and out of order (ingestion takes seconds, sometimes
  minutes), so each window starts `lookback` seconds before the previous successful
  poll began, and the overlap is de-duplicated on `insertId`. Seen ids are kept with
  their timestamps and forgotten once older than the window start, so the set stays
  bounded. An entry later than the look-back is missed: the periodic sweep still
  catches its change.
- The raw JSON through the handwritten client's own connection
  (`client._connection.api_request`, as `collect/cloudlogging.py` does), not
  `client.list_entries()`: one HTTP call per page, each made by a `Caller` (observed
  as `logging.entries.list` with its status, classified by the retry table), nothing
  converted into `ProtobufEntry` objects only to be read back as dicts, and the page
  token and filter exactly as sent.
- Failures never escape a poll. A rate limit (429, or 403 `rateLimitExceeded`) backs
  off: polls are skipped until the backoff has passed, doubling from `backoff_initial`
  up to `backoff_max`. A 5xx, timeout or dropped connection is retried by the next
  poll. Either is counted with `ApiObserver.retry("logging", reason)`. Other errors
  (denied, API disabled, bad filter) are logged and retried at the next interval, since
  only a configuration change fixes them. The window start does not advance past a
  failed poll, so nothing is lost while the log is unreadable (within its retention).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import structlog

from checks.kernel import parse_time
from monitor.collect.calls import Caller, CallFailed, RetryPolicy, ServiceDisabled, classify
from monitor.collect.clients import GcpClients
from monitor.collect.observer import ApiObserver
from monitor.collect.paging import json_token, pages

log = structlog.get_logger("controlwatch.auditpoll")

SERVICE = "logging"
METHOD = "logging.entries.list"
ACTIVITY_LOG_ID = "cloudaudit.googleapis.com%2Factivity"
MAX_RESOURCE_NAMES = 100  # entries:list refuses more
PAGE_SIZE = 1000  # the API's maximum
MAX_SEEN = 100_000

Area = Literal["firewall", "iam", "backup"]

#: server-side narrowing; `classify_entry` decides what is watched
METHOD_TERMS = (
    "compute.firewalls.", "FirewallPolicies.", "SetIamPolicy", "ResourcePolicies", "compute.resourcePolicies."
)  # fmt: skip
_FIREWALL = re.compile(
    r"^(?:\w+\.)?compute\.(?:firewalls\.(?:insert|patch|update|delete)"
    # DRIFT-01 covers the network firewall policies too: their rules and associations
    r"|(?:networkFirewallPolicies|regionNetworkFirewallPolicies)\.(?:insert|patch|delete|cloneRules"
    r"|addRule|patchRule|removeRule|addAssociation|patchAssociation|removeAssociation))$"
)
_BACKUP = re.compile(
    r"^(?:\w+\.)?compute\."
    r"(?:(?:disks|regionDisks)\.(?:add|remove)ResourcePolicies|resourcePolicies\.(?:insert|delete|patch))$"
)
_CRM = "cloudresourcemanager.googleapis.com"
_LOG_NAME = re.compile(r"^projects/([^/]+)/logs/")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One watched change: which scope to re-check, and who changed what, when."""

    scope: str  # the projectId
    method: str  # protoPayload.methodName: v1.compute.firewalls.insert, SetIamPolicy
    resource_name: str  # protoPayload.resourceName: projects/p/global/firewalls/f
    principal: str | None  # authenticationInfo.principalEmail (absent for some system changes)
    timestamp: datetime  # when the change happened (the entry's timestamp, UTC)
    insert_id: str
    area: Area


def rfc3339(when: datetime) -> str:
    """UTC with microseconds and `Z`, the form the Logging filter compares as an instant."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: Any) -> datetime | None:
    return parse_time(value)  # RFC 3339 as Logging writes it: `Z`, nanoseconds (cut to micro)


def area_of(method: str, service: str, resource_name: str) -> Area | None:
    """The control area a change belongs to, or None when the poller does not watch it."""
    if _FIREWALL.match(method):
        return "firewall"
    if _BACKUP.match(method):
        return "backup"
    is_set_policy = method == "SetIamPolicy" or method.endswith(".SetIamPolicy")
    if is_set_policy and service == _CRM and resource_name.startswith("projects/"):
        return "iam"
    return None


def classify_entry(entry: Mapping[str, Any], scopes: Iterable[str] | None = None) -> AuditEvent | None:
    """The event of one LogEntry, or None when it is not a watched change of a watched scope."""
    payload = entry.get("protoPayload")
    insert_id = entry.get("insertId")
    match = _LOG_NAME.match(str(entry.get("logName", "")))
    when = _parse_time(entry.get("timestamp"))
    if not isinstance(payload, Mapping) or not isinstance(insert_id, str) or match is None or when is None:
        return None
    method = str(payload.get("methodName", ""))
    resource_name = str(payload.get("resourceName", ""))
    area = area_of(method, str(payload.get("serviceName", "")), resource_name)
    scope = match.group(1)
    if area is None or (scopes is not None and scope not in scopes):
        return None
    auth = payload.get("authenticationInfo")
    principal = auth.get("principalEmail") if isinstance(auth, Mapping) else None
    return AuditEvent(
        scope=scope,
        method=method,
        resource_name=resource_name,
        principal=str(principal) if principal else None,
        timestamp=when.astimezone(UTC),
        insert_id=insert_id,
        area=area,
    )


def build_filter(scopes: Sequence[str], since: datetime) -> str:
    """The `entries:list` filter for `scopes`' Admin Activity logs from `since` on."""
    logs = " OR ".join(f'logName="projects/{scope}/logs/{ACTIVITY_LOG_ID}"' for scope in scopes)
    methods = " OR ".join(f'protoPayload.methodName:"{term}"' for term in METHOD_TERMS)
    return f'({logs}) AND timestamp>="{rfc3339(since)}" AND ({methods})'


def _list_page(connection: Any, body: dict[str, Any], token: str, timeout: float) -> Any:
    if token:
        body = {**body, "pageToken": token}
    return connection.api_request(method="POST", path="/entries:list", data=body, timeout=timeout)


class AuditPoller:
    """Polls the Admin Activity logs of `scopes()` and calls `on_change` once per new watched entry.

    Call `poll_once()` from a scheduler every `interval` seconds, or `start()` a thread
    that does; polls never overlap. `on_change` runs on the polling thread, in timestamp
    order, so it should only hand the event on (mark the scope dirty), not re-check.
    `clock` is the wall clock (the filter's window), `monotonic` times the backoff; both
    are injectable for tests.
    """

    def __init__(
        self,
        clients: GcpClients | Callable[[], Any],
        scopes: Callable[[], Sequence[str]],
        on_change: Callable[[AuditEvent], None],
        *,
        interval: float,
        observer: ApiObserver,
        lookback: float = 120.0,
        call_timeout: float = 30.0,
        backoff_initial: float = 60.0,
        backoff_max: float = 900.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval <= 0 or lookback < 0:
            raise ValueError("interval must be > 0 and lookback >= 0")
        self._client_of: Callable[[], Any] = (
            (lambda: clients.get("logging")) if isinstance(clients, GcpClients) else clients
        )
        self._scopes = scopes
        self._on_change = on_change
        self.interval = interval
        self.lookback = lookback
        self._observer = observer
        self._call_timeout = call_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()  # one poll at a time
        self._seen: dict[str, float] = {}  # insertId -> entry timestamp (epoch seconds)
        self._last_success: float | None = None  # wall time the last good poll started
        self._backoff = 0.0
        self._resume_at = float("-inf")
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one poll ------------------------------------------------------------------

    def poll_once(self) -> list[AuditEvent]:
        """One poll: new watched events, in timestamp order (each also given to `on_change`)."""
        with self._lock:
            if self._monotonic() < self._resume_at:
                log.debug("audit poll skipped: backing off", backoff_seconds=self._backoff)
                return []
            try:
                return self._poll()
            except Exception as exc:  # never let a poll kill its scheduler or thread
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("audit poll failed", error=self.last_error)
                return []

    def _poll(self) -> list[AuditEvent]:
        scopes = sorted(set(self._scopes()))
        if not scopes:
            return []
        started = self._clock()
        since = (self._last_success if self._last_success is not None else started) - self.lookback
        self._forget_before(since)
        watched = frozenset(scopes)
        events: list[AuditEvent] = []
        for at in range(0, len(scopes), MAX_RESOURCE_NAMES):
            chunk = scopes[at : at + MAX_RESOURCE_NAMES]
            try:
                entries = self._list(chunk, datetime.fromtimestamp(since, UTC))
            except (CallFailed, ServiceDisabled) as exc:
                self._failed(exc, chunk)
                return self._deliver(events)  # those of the chunks read; the window stays put
            events.extend(self._new_events(entries, watched))
        self._last_success = started
        self._backoff = 0.0
        self.last_error = None
        return self._deliver(events)

    def _list(self, chunk: Sequence[str], since: datetime) -> list[Mapping[str, Any]]:
        """Every entry of one chunk's window, one Caller-made call per page."""
        connection = self._client_of()._connection
        caller = Caller(
            service=SERVICE,
            method=METHOD,
            observer=self._observer,
            policy=RetryPolicy(max_attempts=1),  # retried by the next poll, never inside one
            call_timeout=self._call_timeout,
            deadline=time.monotonic() + max(self._call_timeout, self.interval),
        )
        body: dict[str, Any] = {
            "resourceNames": [f"projects/{scope}" for scope in chunk],
            "filter": build_filter(chunk, since),
            "orderBy": "timestamp asc",
            "pageSize": PAGE_SIZE,
        }
        entries: list[Mapping[str, Any]] = []
        for page in pages(caller, functools.partial(_list_page, connection, body), json_token):
            found = page.get("entries", []) if isinstance(page, dict) else None
            if not isinstance(found, list):
                raise CallFailed(f"{METHOD}: malformed response body: no list under 'entries'", status="200")
            entries.extend(e for e in found if isinstance(e, dict))
        return entries

    def _new_events(self, entries: Iterable[Mapping[str, Any]], scopes: frozenset[str]) -> list[AuditEvent]:
        events: list[AuditEvent] = []
        for entry in entries:
            insert_id = entry.get("insertId")
            if not isinstance(insert_id, str) or insert_id in self._seen:
                continue
            when = _parse_time(entry.get("timestamp"))
            self._seen[insert_id] = when.timestamp() if when else self._clock()
            event = classify_entry(entry, scopes)
            if event is not None:
                events.append(event)
        while len(self._seen) > MAX_SEEN:
            del self._seen[next(iter(self._seen))]
        return events

    def _forget_before(self, since: float) -> None:
        """Drop seen ids older than the window: the API cannot return them again."""
        for insert_id in [i for i, when in self._seen.items() if when < since]:
            del self._seen[insert_id]

    def _deliver(self, events: list[AuditEvent]) -> list[AuditEvent]:
        events.sort(key=lambda e: (e.timestamp, e.insert_id))
        for event in events:
            log.info(
                "audit event",
                scope=event.scope,
                area=event.area,
                method=event.method,
                resource=event.resource_name,
                principal=event.principal,
                insert_id=event.insert_id,
            )
            try:
                self._on_change(event)
            except Exception:
                log.exception("audit event handler failed", scope=event.scope, insert_id=event.insert_id)
        return events

    def _failed(self, exc: Exception, chunk: Sequence[str]) -> None:
        """Log a failed list call; back off on a rate limit, count what the next poll retries."""
        self.last_error = str(exc)
        cause = exc.__cause__
        outcome = classify(cause) if cause is not None else None
        if outcome is not None and outcome.rate_limited:
            self._backoff = min(self._backoff_max, self._backoff * 2 if self._backoff else self._backoff_initial)
            self._resume_at = self._monotonic() + self._backoff
            self._observer.retry(SERVICE, outcome.retry_reason or "rate_limit")
            log.warning("audit poll rate limited: backing off", backoff_seconds=self._backoff, error=str(exc))
        elif outcome is not None and outcome.retry_reason is not None:
            self._observer.retry(SERVICE, outcome.retry_reason)
            log.warning("audit poll failed: retried at the next poll", error=str(exc))
        else:
            log.error("audit poll failed", error=str(exc), scopes=list(chunk))

    # -- its own thread (optional) -------------------------------------------------

    def start(self) -> None:
        """Poll now and then every `interval` seconds on a daemon thread, until `stop()`."""
        if self._thread is not None:
            raise RuntimeError("the audit poller is already running")
        self._stop.clear()

        def loop() -> None:
            while True:
                self.poll_once()
                if self._stop.wait(self.interval):
                    return

        self._thread = threading.Thread(target=loop, name="auditpoll", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (a poll in flight ends on its own call timeout)."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout)


__all__ = ["AuditEvent", "AuditPoller", "area_of", "build_filter", "classify_entry"]
