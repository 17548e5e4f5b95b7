"""The stand-in HTTP server: the real Google REST shapes on 127.0.0.1, backed by a scenario.

One stdlib ThreadingHTTPServer (HTTP/1.1 keep-alive, Nagle off: with it on, every request
stalls ~40 ms on delayed ACKs) serves the API routes and a control API under
`/_standin/` for faults, the request log, written log entries and resets. Every successful answer is
validated against the method's discovery response schema before it is sent; a
failure there is a stand-in bug and is answered 500 with the reason (and logged).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
import threading
import time
import types
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.standin import (
    apikeys,
    bigquery,
    cloudlogging,
    compute,
    contacts,
    crm,
    dataproc,
    firewallpolicies,
    hostile,
    iamadmin,
    kms,
    mutations,
    orgpolicy,
    sqladmin,
    storage,
)
from monitor.standin.auditlog import AuditTrail
from monitor.standin.faults import Fault, FaultTable
from monitor.standin.kindroutes import kind_handlers
from monitor.standin.replies import ApiError, Reply
from monitor.standin.requestlog import RequestLog, RequestRecord
from monitor.standin.routes import Call, Route, Router
from monitor.standin.scenario import Scenario, ScenarioError, load_scenario

log = logging.getLogger("monitor.standin")

HOST = "127.0.0.1"
CONTROL_PREFIX = "/_standin/"
DRIP_CONTENT_LENGTH = 10_000_000
_PROJECT_PARAMS = ("project", "projectsId", "projectId")  # projectId: Dataproc's
_NODE_PARAMS = (("folders", "foldersId"), ("organizations", "organizationsId"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients vanishing mid-answer (drops, drips, stop) are expected here.
        log.debug("stand-in: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.standin._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.standin._untrack(self.connection)

    def _dispatch(self) -> None:
        self.server.standin._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("stand-in: " + format, *args)


def _as_scenario(scenario: Scenario | str | Path | Mapping[str, Any]) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


class StandIn:
    """The local GCP stand-in: `start()` it, point clients at `url`, `stop()` it.

    `shift_time` moves every scenario timestamp by (`clock()` − scenario `now`) when a
    scenario is loaded, as the demo does so that backups stay as fresh as meant. `clock` is
    the wall clock (the estate's "now" and the time of the audit entries mutations write);
    tests inject one to run a year ahead.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | Mapping[str, Any],
        *,
        shift_time: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._shift_time = shift_time
        self._clock = clock
        self._scenario = self._prepare(_as_scenario(scenario))
        self._faults = FaultTable()
        self._log = RequestLog()
        self._entries = cloudlogging.LogStore()
        self._audit = AuditTrail(self._entries)
        self._mutations = mutations.Mutations(lambda: self._scenario, self._replace_scenario, self._audit, clock=clock)
        self._router = Router(
            {
                **kind_handlers(),
                **compute.handlers(),
                **crm.handlers(),
                **cloudlogging.handlers(self._entries),
                **self._mutations.handlers(),
                **firewallpolicies.handlers(),
                **storage.handlers(),
                **bigquery.handlers(),
                **dataproc.handlers(),
                **sqladmin.handlers(),
                **iamadmin.handlers(),
                **orgpolicy.handlers(),
                **kms.handlers(),
                **apikeys.handlers(),
                **contacts.handlers(),
            }
        )
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def _prepare(self, scenario: Scenario) -> Scenario:
        return scenario.shift_to(self._clock()) if self._shift_time else scenario

    # -- lifecycle -------------------------------------------------------------------

    def start(self, port: int = 0, *, host: str = HOST) -> str:
        """Listen on 127.0.0.1:`port` (0: any free port) and return the base URL."""
        if host != HOST:
            raise ValueError(f"the stand-in listens on {HOST} only, not {host!r}: it has no authentication")
        if self._httpd is not None:
            raise RuntimeError(f"the stand-in is already running at {self.url}")
        self._stopping.clear()
        httpd = _Server((HOST, port), _Handler)
        httpd.standin = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="standin", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop promptly: ends drips and latencies, closes open connections."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> StandIn:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: types.TracebackType | None
    ) -> None:
        self.stop()

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    # -- state -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the stand-in is not running: call start()")
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    @property
    def faults(self) -> FaultTable:
        return self._faults

    @property
    def requests(self) -> list[RequestRecord]:
        return self._log.records()

    def requests_for(self, method: str) -> list[RequestRecord]:
        """The logged requests of one API method id (`compute.firewalls.list`)."""
        return self._log.records(method)

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @property
    def audit(self) -> AuditTrail:
        """The Admin Activity trail of mutations: its `delay` holds entries back, `flush()` releases them."""
        return self._audit

    def _replace_scenario(self, scenario: Scenario) -> None:
        self._scenario = scenario  # a mutation's next state (mutations.py)

    def written_entries(self, log_name: str | None = None) -> list[dict[str, Any]]:
        """Log entries written through `entries:write` since the last reset (one logName's, or all)."""
        return self._entries.entries(log_name)

    def add_fault(self, fault: Fault) -> int:
        return self._faults.add(fault)

    def reset(self) -> None:
        """Clear faults, the request log and written log entries (the scenario stays, mutations included)."""
        self._faults.clear()
        self._log.clear()
        self._entries.clear()
        self._audit.clear()
        self._mutations.clear()

    def load(self, scenario: Scenario | str | Path | Mapping[str, Any]) -> None:
        """Serve another scenario from the next request on; entries written so far are dropped."""
        self._scenario = self._prepare(_as_scenario(scenario))
        self._entries.clear()
        self._audit.clear()
        self._mutations.clear()

    # -- requests --------------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        try:
            self._handle_request(h)
        except Exception as exc:  # a stand-in bug: answer it rather than hang up silently
            log.exception("stand-in: %s %s failed", h.command, h.path)
            h.close_connection = True
            self._send(h, ApiError(500, f"stand-in bug: {exc!r}").reply())

    def _handle_request(self, h: _Handler) -> None:
        split = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        length = int(h.headers.get("Content-Length") or 0)
        raw_body = h.rfile.read(length) if length else b""
        if split.path.startswith(CONTROL_PREFIX):
            self._send(h, self._control(h.command, split.path, query, raw_body))
            return
        self._api(h, split.path, query, raw_body)

    def _api(self, h: _Handler, path: str, query: Mapping[str, Sequence[str]], raw_body: bytes) -> None:
        scenario = self._scenario
        flat_query = {k: v[-1] for k, v in query.items()}
        body, body_error = _parse_body(raw_body)
        found = self._router.match(h.command, path)
        route, params = found if found else (None, {})
        method_id = route.method.id if route else None
        # Cloud Storage names the project of `buckets.list` in the query, not the path.
        named = {"project": flat_query["project"], **params} if "project" in flat_query else params
        keys, project_id = _project_keys(named, scenario)
        active = self._faults.take(method_id, keys) if route else None
        generation = self._log.generation()  # a reset while this request is slow forgets it

        def record(status: int) -> None:
            self._log.append(
                RequestRecord(
                    method=method_id,
                    http_method=h.command,
                    path=path,
                    query=flat_query,
                    project=project_id,
                    status=status,
                    time=time.time(),
                    fault=active.id if active else None,
                    body=body,
                ),
                generation,
            )

        if route is None:
            reply = ApiError(404, f"The stand-in has no route for {h.command} {path}", reason="notFound").reply()
        elif active is not None and active.fault.kind == "status":
            known = scenario.project(project_id) if project_id else None
            number = known.number if known else None
            reply = active.fault.error(route.method.id, number, project_id, resource=_node_name(params)).reply()
        elif active is not None and active.fault.kind == "drop":
            record(0)
            _drop(h)
            return
        elif active is not None and active.fault.kind == "drip":
            record(200)
            self._drip(h, active.fault.delay)
            return
        else:
            if active is not None and active.fault.kind == "latency" and self._stopping.wait(active.fault.delay):
                record(0)
                _drop(h)
                return
            headers = {k.lower(): v for k, v in h.headers.items()}
            mode = active.fault.mode if active is not None else None
            asked = hostile.query_for(mode, query) if mode else query
            reply = body_error or self._answer(route, params, asked, body, scenario, headers)
            if active is not None and active.fault.kind == "malformed":
                reply = _truncated(reply)
            elif active is not None and mode and 200 <= reply.status < 300:
                reply = self._hostile(active.fault, route, reply, flat_query, params, scenario, headers)
        record(reply.status)
        self._send(h, reply)

    def _answer(
        self,
        route: Route,
        params: dict[str, str],
        query: Mapping[str, Sequence[str]],
        body: Any,
        scenario: Scenario,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        method = route.method
        try:
            checked = self._router.check_query(method, query)
            if route.handler is None:
                raise ApiError(501, f"The stand-in does not implement {method.id}.", reason="notImplemented")
            reply = route.handler(Call(method, params, checked, body, scenario, headers or {}))
        except ApiError as exc:
            return exc.reply()
        except Exception as exc:
            log.exception("stand-in: %s failed", method.id)
            return ApiError(500, f"stand-in bug in {method.id}: {exc!r}").reply()
        if 200 <= reply.status < 300 and reply.raw is None and method.response:
            issues = self._router.apis[method.api].validate(reply.payload, method.response)
            if issues:
                shown = "; ".join(str(i) for i in issues[:5])
                log.error("stand-in: invalid %s response for %s: %s", method.response, method.id, shown)
                return ApiError(500, f"stand-in produced an invalid {method.response} for {method.id}: {shown}").reply()
        return reply

    def _hostile(
        self,
        fault: Fault,
        route: Route,
        reply: Reply,
        query: Mapping[str, str],
        params: dict[str, str],
        scenario: Scenario,
        headers: Mapping[str, str],
    ) -> Reply:
        """`reply` as the `hostile` fault's mode breaks it; another kind's answer comes from its own route."""

        def other(method_id: str) -> Reply:
            found = self._router.route(method_id)
            if found is None:
                return ApiError(500, f"stand-in: no route {method_id} to answer for {route.method.id}").reply()
            body: dict[str, Any] | None = {} if found.method.http_method == "POST" else None
            return self._answer(found, params, {}, body, scenario, headers)

        assert fault.mode is not None
        return hostile.answer(fault.mode, route.method.id, reply, query, fault.count, other)

    def _drip(self, h: _Handler, delay: float) -> None:
        h.close_connection = True
        try:
            h.send_response(200)
            h.send_header("Content-Type", "application/json; charset=UTF-8")
            h.send_header("Content-Length", str(DRIP_CONTENT_LENGTH))
            h.end_headers()
            h.wfile.write(b"{")
            h.wfile.flush()
            for _ in range(DRIP_CONTENT_LENGTH - 1):
                if self._stopping.wait(delay):
                    break
                h.wfile.write(b" ")
                h.wfile.flush()
        except OSError:
            pass  # the client went away
        _drop(h)

    def _send(self, h: _Handler, reply: Reply) -> None:
        data = reply.encode()
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", reply.content_type)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            h.close_connection = True

    # -- control API -----------------------------------------------------------------

    def _control(self, verb: str, path: str, query: Mapping[str, Sequence[str]], raw_body: bytes) -> Reply:
        what = path.removeprefix(CONTROL_PREFIX).strip("/")
        body, body_error = _parse_body(raw_body)
        if body_error is not None:
            return body_error
        if (verb, what) == ("GET", "health"):
            scenario = self._scenario
            return Reply(
                200,
                {
                    "status": "ok",
                    "scenario": scenario.source,
                    "now": scenario.now.isoformat().replace("+00:00", "Z"),
                    "projects": sorted(scenario.projects),
                },
            )
        if (verb, what) == ("POST", "faults"):
            if not isinstance(body, dict):
                return ApiError(400, "a fault is a JSON object").reply()
            try:
                fault = Fault.from_json(body)
            except (TypeError, ValueError) as exc:
                return ApiError(400, f"invalid fault: {exc}").reply()
            return Reply(200, {"id": self._faults.add(fault)})
        if (verb, what) == ("GET", "faults"):
            return Reply(200, {"faults": [a.to_json() for a in self._faults.active()]})
        if (verb, what) == ("DELETE", "faults"):
            return Reply(200, {"cleared": self._faults.clear()})
        if verb == "DELETE" and what.startswith("faults/") and what.removeprefix("faults/").isdigit():
            return Reply(200, {"removed": self._faults.remove(int(what.removeprefix("faults/")))})
        if (verb, what) == ("GET", "requests"):
            method = query.get("method", [None])[-1]
            return Reply(200, {"requests": [r.to_json() for r in self._log.records(method)]})
        if (verb, what) == ("GET", "entries"):
            log_name = query.get("logName", [None])[-1]
            return Reply(200, {"entries": self._entries.entries(log_name)})
        if (verb, what) == ("DELETE", "requests"):
            self._log.clear()
            return Reply(200, {})
        if (verb, what) == ("POST", "reset"):
            self.reset()
            return Reply(200, {})
        if (verb, what) == ("POST", "scenario"):
            try:
                self.load(body if isinstance(body, dict) else {})
            except ScenarioError as exc:
                return ApiError(400, str(exc)).reply()
            return Reply(200, {"projects": sorted(self._scenario.projects)})
        return ApiError(404, f"no control route {verb} {path}", reason="notFound").reply()


def _parse_body(raw: bytes) -> tuple[Any, Reply | None]:
    if not raw:
        return None, None
    try:
        return json.loads(raw), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, ApiError(400, f"Invalid JSON payload received. {exc}").reply()


def _project_keys(params: Mapping[str, str], scenario: Scenario) -> tuple[tuple[str, ...], str | None]:
    """The names a request's project goes by (for fault matching) and its projectId."""
    key = next((params[p] for p in _PROJECT_PARAMS if p in params), None)
    if key is None and params.get("v1Id") == "projects":  # Service Usage names its parent `v1/{+parent}/services`
        key = params.get("v1Id1")
    if key is None:
        return (), None
    project = scenario.project(key)
    if project is None:
        return (key,), key
    return (project.project_id, project.number), project.project_id


def _node_name(params: Mapping[str, str]) -> str | None:
    """`folders/N` or `organizations/N` when the request is about one, else None."""
    return next((f"{kind}/{params[p]}" for kind, p in _NODE_PARAMS if p in params), None)


def _truncated(reply: Reply) -> Reply:
    data = reply.encode()
    return Reply(200, raw=data[: max(1, len(data) // 2)])


def _drop(h: _Handler) -> None:
    """Close the connection without a word."""
    h.close_connection = True
    try:
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def serve(
    scenario_path: str | Path,
    port: int = 0,
    shift_time: bool = False,
    *,
    stop: threading.Event | None = None,
) -> None:
    """Run the stand-in until SIGINT/SIGTERM (or `stop` is set); the CLI's `sandbox` command.

    Prints the base URL alone on one stdout line first, so scripts can read it. Raises
    ScenarioError for a bad scenario. Signal handlers are installed only when called
    from the main thread, and restored afterwards.
    """
    standin = StandIn(load_scenario(scenario_path), shift_time=shift_time)
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        url = standin.start(port)
        print(url, flush=True)
        print(
            f"controlwatch stand-in: serving {scenario_path} at {url} (loopback only); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
    finally:
        standin.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


__all__ = ["StandIn", "serve"]
