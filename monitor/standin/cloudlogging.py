"""Cloud Logging v2 routes: sinks, logs-based metrics, and log entries (list and write).

Shapes and behaviours follow the real API:
- sinks of a project, folder or organisation (`…/sinks`, `…/sinks/{sink}`) and a
  project's metrics page with `pageSize` (non-positive: ignored; at most `MAX_PAGE`) and
  `nextPageToken`; the `filter` of `sinks.list` (`in_scope(…)`) only as `""` or
  `in_scope("DEFAULT")`, anything else 400;
- `entries:list` takes everything in its POST body (`resourceNames`, `filter`, `orderBy`,
  `pageSize` default 50 max 1000, `pageToken`), evaluates the filter subset of
  `logfilter`, and orders by timestamp (`asc` by default) then insertId;
- `entries:write` fills what the API fills (request-level `logName`/`resource`/`labels`,
  `timestamp`, `insertId`, `receiveTimestamp`; in `logName` a project number becomes the
  projectId and a `/` in the LOG_ID becomes `%2F`) and keeps the entries in memory per logName (`LogStore`) until the
  stand-in is reset or loads another scenario; `entries:list` then serves them.

A project without a `logging` part has the Cloud Logging API disabled (403
SERVICE_DISABLED), as a project without `compute` has Compute disabled. An unknown
project, folder or organisation is a plain 403 (Logging does not tell missing from
forbidden either). Requests are validated leniently where the clients are sloppy
(snake_case request keys, enums and int64 as numbers), then strictly.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from checks.kinds import KindSpec
from monitor.standin import rfc3339
from monitor.standin.discovery import Schema, load_api
from monitor.standin.logfilter import compile_log_filter
from monitor.standin.parts import OWNERS
from monitor.standin.replies import ApiError, Reply, bad_request, permission_denied, service_disabled
from monitor.standin.routes import Call, Handler, page
from monitor.standin.scenario import Project, Resource

API = "logging"
MAX_PAGE = 200
ENTRIES_PAGE = 50
ENTRIES_MAX_PAGE = 1000
MAX_RESOURCE_NAMES = 100
MAX_ENTRIES_PER_LOG = 10_000
#: google.logging.type.LogSeverity numbers, as the clients sometimes send them
SEVERITIES = {
    0: "DEFAULT",
    100: "DEBUG",
    200: "INFO",
    300: "NOTICE",
    400: "WARNING",
    500: "ERROR",
    600: "CRITICAL",
    700: "ALERT",
    800: "EMERGENCY",
}
_DEFAULT_SCOPES = ("", 'in_scope("DEFAULT")')
_PARENT = re.compile(r"^(projects|folders|organizations)/([^/]+)$")
_LOG_NAME = re.compile(r"^/?(projects|folders|organizations|billingAccounts)/([^/]+)/logs/(.+)$")
_SNAKE = re.compile(r"_([a-z])")


class LogStore:
    """Entries written through `entries:write`, per logName, thread-safe and bounded."""

    def __init__(self, limit: int = MAX_ENTRIES_PER_LOG) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._logs: dict[str, deque[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def insert_id(self) -> str:
        """A fresh insertId; later calls sort after earlier ones, as the API promises."""
        with self._lock:
            return f"standin-{next(self._ids):012d}"

    def append(self, entries: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for entry in entries:
                log = self._logs.setdefault(str(entry["logName"]), deque(maxlen=self._limit))
                log.append(entry)

    def entries(self, log_name: str | None = None) -> list[dict[str, Any]]:
        """What was written, in arrival order: every log's, or one logName's."""
        with self._lock:
            if log_name is not None:
                return list(self._logs.get(log_name, ()))
            return [entry for log in self._logs.values() for entry in log]

    def under(self, parent: str) -> list[dict[str, Any]]:
        """Entries of every log of `parent` (`projects/ID`, `folders/N`, `organizations/N`)."""
        prefix = f"{parent}/logs/"
        with self._lock:
            return [entry for name, log in self._logs.items() if name.startswith(prefix) for entry in log]

    def clear(self) -> None:
        with self._lock:
            self._logs.clear()


# -- owners: projects, folders, organisations -----------------------------------------


def _project(call: Call, key: str, permission: str) -> Project:
    project = call.scenario.project(key)
    if project is None:
        raise permission_denied(permission, f"projects/{key}", api=API)
    if project.logging is None:
        raise service_disabled(API, project.number)
    return project


def _owned(call: Call, parent: str, kind: str, permission: str) -> tuple[str, tuple[Resource, ...]]:
    """The canonical name of `parent` and its scenario resources of `kind` (sinks, metrics, entries)."""
    match = _PARENT.match(parent)
    if match is None:
        raise bad_request(f"Invalid resource name {parent!r}: the stand-in serves projects, folders and organizations")
    if match.group(1) == "projects":
        project = _project(call, match.group(2), permission)
        assert project.logging is not None
        return f"projects/{project.project_id}", project.logging.get(kind, ())
    node = call.scenario.node(parent)
    if node is None:
        raise permission_denied(permission, parent, api=API)
    return parent, (node.logging or {}).get(kind, ())


_PATH_PARENTS = (("projects", "projectsId"), ("folders", "foldersId"), ("organizations", "organizationsId"))


def _path_parent(call: Call) -> str:
    for collection, param in _PATH_PARENTS:
        if param in call.params:
            return f"{collection}/{call.params[param]}"
    raise bad_request(f"{call.method.id}: no parent in the path")


# -- sinks and metrics ------------------------------------------------------------------


def _page_size(call: Call) -> int:
    size = call.int_query("pageSize", 0)
    return MAX_PAGE if size <= 0 else min(size, MAX_PAGE)


def _listing(call: Call, key: str, resources: tuple[Resource, ...]) -> Reply:
    chosen, token = page(resources, call.query.get("pageToken"), _page_size(call))
    body: dict[str, Any] = {}
    if chosen:
        body[key] = [dict(r) for r in chosen]
    if token:
        body["nextPageToken"] = token
    return Reply(200, body)


def _default_scope_only(call: Call) -> None:
    """`sinks.list` filters on `in_scope(…)`: the stand-in lists a parent's own sinks only."""
    scope = (call.query.get("filter") or "").strip()
    if scope not in _DEFAULT_SCOPES:
        raise bad_request(f"Unsupported filter {scope!r}: the stand-in lists a parent's own sinks only")


#: part key -> a check of a list request's query before it is answered
_LIST_CHECKS: Mapping[str, Callable[[Call], None]] = {"sinks": _default_scope_only}


def _permission(spec: KindSpec, verb: str) -> str:
    """The permission a denied `verb` (list, get) on the row's resources names: `logging.logMetrics.get`."""
    listing = next(p for p in spec.permissions if p.startswith(f"{API}.") and p.endswith(".list"))
    return listing.removesuffix(".list") + f".{verb}"


def _list(spec: KindSpec) -> Handler:
    key, permission, check = spec.key, _permission(spec, "list"), _LIST_CHECKS.get(spec.key)

    def handle(call: Call) -> Reply:
        if check is not None:
            check(call)
        _, resources = _owned(call, _path_parent(call), key, permission)
        return _listing(call, spec.items, resources)

    return handle


def _get(spec: KindSpec) -> Handler:
    key, permission = spec.key, _permission(spec, "get")
    noun = key.removesuffix("s").capitalize()

    def handle(call: Call) -> Reply:
        _, resources = _owned(call, _path_parent(call), key, permission)
        name = call.params[f"{key}Id"]
        for resource in resources:
            if resource.get("name") == name:
                return Reply(200, dict(resource))
        raise ApiError(404, f"{noun} {name} does not exist", reason="notFound")

    return handle


def kind_handlers(spec: KindSpec) -> dict[str, Handler]:
    """The routes a Logging kind row implies: list and get of its part, under each owner of its holder."""
    if spec.group != API:
        raise ValueError(f"the stand-in serves Logging kinds from `logging.…` parts, not {spec.name}'s {spec.part!r}")
    table: dict[str, Handler] = {}
    for owner in OWNERS[spec.holder]:
        table[f"{API}.{owner}.{spec.key}.list"] = _list(spec)
        table[f"{API}.{owner}.{spec.key}.get"] = _get(spec)
    return table


# -- entries ------------------------------------------------------------------------------


def _camel_keys(value: Any, schema: Schema) -> Any:
    """`value` with snake_case keys the schema knows in camelCase (protobuf JSON accepts both)."""
    if not isinstance(value, dict):
        return value
    props: Mapping[str, Any] = schema.get("properties", {})
    renamed: dict[str, Any] = {}
    for key, item in value.items():
        camel = _SNAKE.sub(lambda m: m.group(1).upper(), key)
        renamed[camel if key not in props and camel in props else key] = item
    return renamed


def _checked_body(call: Call, ref: str, later: tuple[str, ...] = ()) -> dict[str, Any]:
    """The request body, camelCased and validated (its `later` fields are checked by the caller)."""
    api = load_api(API)
    body = _camel_keys(call.body if call.body is not None else {}, api.schema(ref))
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON payload received: expected an object")
    issues = api.validate({k: v for k, v in body.items() if k not in later}, ref, lenient_enums=True)
    if issues:
        raise bad_request(f"Invalid JSON payload received. {issues[0]}")
    return body


def _timestamp_key(entry: Mapping[str, Any]) -> float:
    when = rfc3339.parse(str(entry.get("timestamp", "")))
    return when.timestamp() if when else float("-inf")


def _entries_list(store: LogStore) -> Handler:
    def handle(call: Call) -> Reply:
        body = _checked_body(call, "ListLogEntriesRequest")
        names = list(body.get("resourceNames", [])) + [f"projects/{p}" for p in body.get("projectIds", [])]
        if not names:
            raise bad_request("resourceNames: at least one resource name is required")
        if len(names) > MAX_RESOURCE_NAMES:
            raise bad_request(f"resourceNames: at most {MAX_RESOURCE_NAMES} resource names, got {len(names)}")
        keep = compile_log_filter(body.get("filter"))
        order = " ".join(str(body.get("orderBy") or "timestamp asc").lower().split())
        if order not in ("timestamp asc", "timestamp desc"):
            raise bad_request(f"Invalid orderBy {body.get('orderBy')!r}: only 'timestamp asc' and 'timestamp desc'")
        size = body.get("pageSize", ENTRIES_PAGE)
        if size < 0:
            raise bad_request(f"Invalid pageSize {size}: must not be negative")
        found: dict[int, Mapping[str, Any]] = {}
        for name in dict.fromkeys(names):
            canonical, entries = _owned(call, name, "entries", "logging.logEntries.list")
            for entry in (*entries, *store.under(canonical)):
                found.setdefault(id(entry), entry)
        chosen = sorted((e for e in found.values() if keep(e)), key=lambda e: str(e.get("insertId", "")))
        chosen.sort(key=_timestamp_key, reverse=order == "timestamp desc")
        token = body.get("pageToken")
        on_page, next_token = page(chosen, str(token) if token else None, min(size or ENTRIES_PAGE, ENTRIES_MAX_PAGE))
        reply: dict[str, Any] = {}
        if on_page:
            reply["entries"] = [dict(e) for e in on_page]
        if next_token:
            reply["nextPageToken"] = next_token
        return Reply(200, reply)

    return handle


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _leaf(value: Any, schema: Schema, name: str) -> Any:
    """Lenient request leaves: int64 numbers as strings, severities as names."""
    if schema.get("format") in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if name == "severity" and isinstance(value, int) and not isinstance(value, bool):
        return SEVERITIES.get(value, value)
    if name == "severity" and isinstance(value, str):
        return value.upper()
    return value


def _written_entry(call: Call, store: LogStore, request: Mapping[str, Any], raw: Any, where: str) -> dict[str, Any]:
    api = load_api(API)
    if not isinstance(raw, dict):
        raise bad_request(f"{where}: expected a LogEntry object")
    entry: dict[str, Any] = dict(_camel_keys(raw, api.schema("LogEntry")))
    for name in ("logName", "resource"):
        if name not in entry and name in request:
            entry[name] = request[name]
        if not entry.get(name):
            raise bad_request(f"{where}.{name}: required (in the entry or the request)")
    if "labels" in request:
        entry["labels"] = {**request["labels"], **entry.get("labels", {})}
    entry = api.rewrite(entry, "LogEntry", _leaf)
    match = _LOG_NAME.match(str(entry["logName"]))
    if match is None:
        raise bad_request(f"{where}.logName: {entry['logName']!r} is not PARENT/logs/LOG_ID")
    collection, owner, log_id = match.groups()
    canonical, _ = _owned(call, f"{collection}/{owner}", "entries", "logging.logEntries.create")
    # The API stores LOG_ID URL-encoded: `a/b` is listed (and filtered) as `a%2Fb`.
    entry["logName"] = f"{canonical}/logs/{log_id.replace('/', '%2F')}"
    entry.setdefault("timestamp", _now())
    entry.setdefault("insertId", store.insert_id())
    entry["receiveTimestamp"] = _now()
    issues = api.validate(entry, "LogEntry", path=where)
    if issues:
        raise bad_request(f"Invalid JSON payload received. {issues[0]}")
    return entry


def _entries_write(store: LogStore) -> Handler:
    def handle(call: Call) -> Reply:
        body = _checked_body(call, "WriteLogEntriesRequest", later=("entries",))
        raw_entries = body.get("entries") or []
        if not isinstance(raw_entries, list):
            raise bad_request("entries: expected a list of LogEntry objects")
        if not raw_entries:
            raise bad_request("entries: at least one log entry is required")
        written = [_written_entry(call, store, body, raw, f"entries[{i}]") for i, raw in enumerate(raw_entries)]
        if not body.get("dryRun"):
            store.append(written)
        return Reply(200, {})

    return handle


def handlers(store: LogStore) -> dict[str, Handler]:
    """The Logging routes no kind row implies: log entries, listed and written."""
    return {
        "logging.entries.list": _entries_list(store),
        "logging.entries.write": _entries_write(store),
    }


__all__ = ["SEVERITIES", "LogStore", "handlers", "kind_handlers"]
