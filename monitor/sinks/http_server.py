"""The metrics port: `/metrics`, `/results`, `/healthz`, `/readyz` and the `/` overview, on the stdlib HTTP server.

Every route reads memory only (the `ResultStore` and the metrics registry), so a scrape or an
on-call `curl` never waits on Google. Request lines are not logged: Prometheus scrapes every
few seconds and would drown the structured log.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from prometheus_client.exposition import choose_encoder

from checks.model import Area, Severity, Verdict
from checks.registry import ControlMeta
from monitor.config.addresses import split_host_port
from monitor.sinks import page_token, results_page
from monitor.sinks.accept import FORMATS, HTML, chosen_format
from monitor.sinks.http_dispatch import DEFAULT_LIMITS, Dispatcher, Limits
from monitor.sinks.metrics import Metrics
from monitor.sinks.page_token import BadPageToken
from monitor.sinks.results_view import About, control_order
from monitor.sinks.store import ControlState, ResultStore
from monitor.sinks.web_protection import NO_PROTECTION, WebProtection, warn_if_unprotected

SCHEMA_VERSION = 1
FILTERS = ("control", "scope", "status", "area", "severity")
RESULTS_PARAMS = (*FILTERS, "limit", "page_token", "format")
DEFAULT_LIMIT, MAX_LIMIT = 500, 5000  # pairs per `/results` page
HTML_DEFAULT_LIMIT = 100  # pairs per page a person reads (each with up to ROWS_SHOWN results)
HTML_TYPE = "text/html; charset=utf-8"
ErrorCallback = Callable[[str, BaseException], None]
#: An extra read-only JSON route (`MetricsServer.add_route`): called with the query string,
#: answers (HTTP status, body).
Route = Callable[[str], tuple[int, dict[str, Any]]]


def rfc3339(ts: float) -> str:
    """Unix time as RFC 3339 UTC with a `Z`, the form every JSON timestamp here uses."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def state_json(state: ControlState) -> dict[str, Any]:
    """One control's entry in `/results`: timestamps RFC 3339 (null until set), interval seconds."""
    return {
        "control": state.control,
        "scope": state.scope,
        "area": state.area.value,
        "severity": state.severity.value,
        "status": state.status.value if state.status is not None else None,
        "failing": state.failing,
        "excepted": state.excepted,
        "checked": state.checked,
        "passing": state.passing,
        "last_run": rfc3339(state.last_run) if state.last_run is not None else None,
        "last_success": rfc3339(state.last_success) if state.last_success is not None else None,
        "interval": state.interval,
        "new_failure_at": rfc3339(state.new_failure_at) if state.new_failure_at is not None else None,
        "results": _results_json(state),
    }


def _results_json(state: ControlState) -> list[dict[str, Any]]:
    """The kept results, each failure with since when it fails (`first_seen`) and whether that is `new`."""
    seen = state.first_seen()
    rows = []
    for result in state.results:
        row = result.to_json()
        entry = seen.get((result.resource, result.subject)) if result.verdict is Verdict.FAIL else None
        if entry is not None:
            row["first_seen"] = rfc3339(entry.at)
            row["new"] = entry.new
        rows.append(row)
    return rows


def _now() -> float:
    return datetime.now(UTC).timestamp()


class _BadQuery(ValueError):
    """A `/results` query the caller must fix: answered 400 with the message."""


def _kept(state: ControlState, filters: dict[str, str]) -> bool:
    """Whether `state` matches every filter (`status`: pairs that have not run never match)."""
    return (
        state.control == filters.get("control", state.control)
        and state.scope == filters.get("scope", state.scope)
        and state.area.value == filters.get("area", state.area.value)
        and state.severity.value == filters.get("severity", state.severity.value)
        and ("status" not in filters or (state.status is not None and state.status.value == filters["status"]))
    )


def _limit(text: str | None, default: int = DEFAULT_LIMIT) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise _BadQuery(f"query parameter 'limit' must be a whole number from 1 to {MAX_LIMIT}, got {text!r}")
    return int(text)


class _Server(HTTPServer):
    """Binds the port; `Dispatcher` serves it with a fixed number of threads."""

    request_queue_size = 128  # connections the kernel holds before the dispatcher accepts them

    on_error: ErrorCallback | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Route errors escaping a handler (a client hanging up mid-write) away from stderr."""
        exc = sys.exc_info()[1]
        if self.on_error is not None and exc is not None:
            self.on_error(f"connection from {client_address}", exc)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    metrics: Metrics
    store: ResultStore
    catalogue: Mapping[str, ControlMeta]
    disable_nagle_algorithm = True
    timeout = None  # the dispatcher sets the connection's timeout (Limits.io_timeout)
    server_version = "controlwatch"
    sys_version = ""
    routes: Mapping[str, Route] = {}

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines would flood stderr at every scrape."""

    # -- routing -------------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self._html = False  # set by `/results` when the client prefers HTML: its errors are pages too
        try:
            if url.path == "/":
                self._landing()
            elif url.path == "/metrics":
                self._metrics()
            elif url.path == "/results":
                self._results(url.query)
            elif url.path == "/healthz":
                self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
            elif url.path == "/readyz":
                self._readyz()
            elif url.path in self.routes:
                status, body = self.routes[url.path](url.query)
                self._json(HTTPStatus(status), body)
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no route {url.path}")
        except (_BadQuery, BadPageToken) as exc:
            if self._html:
                self._page_error(HTTPStatus.BAD_REQUEST, str(exc))
            else:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except Exception as exc:  # answer 500 rather than drop the connection
            if self.server.on_error is not None:
                self.server.on_error(f"GET {url.path}", exc)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    def _not_allowed(self) -> None:
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, f"method {self.command} not allowed", allow_get=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _not_allowed

    # -- routes --------------------------------------------------------------------------

    def _metrics(self) -> None:
        encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
        self._send(HTTPStatus.OK, self.metrics.exposition(content_type, encoder), content_type)

    def _results(self, query: str) -> None:
        self._html = self._wants_html(query)
        params = self._parse_results_query(query)
        filters = {name: params[name] for name in FILTERS if name in params}
        limit = _limit(params.get("limit"), HTML_DEFAULT_LIMIT if self._html else DEFAULT_LIMIT)
        after = page_token.read(params["page_token"], filters) if "page_token" in params else None
        states, more = self.store.page(after, limit, lambda s: _kept(s, filters))
        if self._html:
            self._results_page(states, filters, params, more)
            return
        body = {
            "schema_version": SCHEMA_VERSION,
            "generated_at": rfc3339(_now()),
            "controls": [state_json(s) for s in states],
            "next_page_token": page_token.make((states[-1].control, states[-1].scope), filters) if more else None,
        }
        self._json(HTTPStatus.OK, body, vary=True)

    def _wants_html(self, query: str) -> bool:
        """HTML only for an explicit `format=html`, or a client preferring `text/html` (a browser)."""
        given = parse_qs(query, keep_blank_values=True).get("format")
        fmt = given[0] if given and len(given) == 1 and given[0] in FORMATS else None
        return chosen_format(self.headers.get("Accept"), fmt) == HTML

    def _parse_results_query(self, query: str) -> dict[str, str]:
        """Validate the filters: a typo must answer 400, never an empty (all-clear looking) list.

        For a browser, an empty field of the filter form means "any": it is dropped, not refused.
        """
        try:
            raw = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
        except ValueError:
            raise _BadQuery(f"malformed query string {query!r}") from None
        params: dict[str, str] = {}
        for name, values in raw.items():
            if name not in RESULTS_PARAMS:
                raise _BadQuery(f"unknown query parameter {name!r}; allowed: {', '.join(RESULTS_PARAMS)}")
            if self._html and values == [""]:
                continue
            if len(values) != 1:
                raise _BadQuery(f"query parameter {name!r} given more than once")
            if not values[0]:
                raise _BadQuery(f"query parameter {name!r} is empty")
            params[name] = values[0]
        if "format" in params and params["format"] not in FORMATS:
            raise _BadQuery(f"query parameter 'format' must be {' or '.join(FORMATS)}, got {params['format']!r}")
        for name, allowed in (("status", Verdict), ("area", Area), ("severity", Severity)):
            values = [v.value for v in allowed]
            if name in params and params[name] not in values:
                raise _BadQuery(f"query parameter {name!r} must be {' or '.join(values)}, got {params[name]!r}")
        if "control" in params and params["control"] not in self.store.configured_controls():
            raise _BadQuery(f"query parameter 'control': {params['control']!r} is not a configured control")
        if "scope" in params and params["scope"] not in self.store.configured_scopes():
            raise _BadQuery(f"query parameter 'scope': {params['scope']!r} is not a configured scope")
        return params

    def _about(self) -> About:
        ready, waiting = self.store.ready()
        return About(self.metrics.version, self.metrics.mode, ready, tuple(waiting))

    def _landing(self) -> None:
        page = results_page.render_landing(states=self.store.states(), about=self._about(), now=_now())
        self._send(HTTPStatus.OK, page, HTML_TYPE)

    def _results_page(
        self, states: list[ControlState], filters: dict[str, str], params: dict[str, str], more: bool
    ) -> None:
        page = results_page.render_results(
            states=states,
            catalogue=self.catalogue,
            filters=filters,
            limit=params.get("limit"),
            next_token=page_token.make((states[-1].control, states[-1].scope), filters) if more else None,
            first_page="page_token" not in params,
            about=self._about(),
            scopes=sorted(self.store.configured_scopes()),
            controls=sorted(self.store.configured_controls(), key=control_order),
            now=_now(),
        )
        self._send(HTTPStatus.OK, page, HTML_TYPE, vary=True)

    def _page_error(self, status: HTTPStatus, message: str) -> None:
        page = results_page.render_error(status=int(status), message=message, about=self._about(), now=_now())
        self._send(status, page, HTML_TYPE, vary=True)

    def _readyz(self) -> None:
        ready, waiting = self.store.ready()
        status = HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE
        self._json(status, {"ready": ready, "waiting": waiting})

    # -- responses -----------------------------------------------------------------------

    def _error(self, status: HTTPStatus, message: str, *, allow_get: bool = False) -> None:
        self._json(status, {"error": message, "status": int(status)}, allow_get=allow_get)

    def _json(self, status: HTTPStatus, body: dict[str, Any], *, allow_get: bool = False, vary: bool = False) -> None:
        data = (json.dumps(body, indent=None, separators=(",", ":")) + "\n").encode()
        self._send(status, data, "application/json", allow_get=allow_get, vary=vary)

    def _send(
        self, status: HTTPStatus, data: bytes, content_type: str, *, allow_get: bool = False, vary: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if vary:  # `/results` answers JSON or HTML by the Accept header
            self.send_header("Vary", "Accept")
        if allow_get:
            self.send_header("Allow", "GET")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class MetricsServer:
    """Serves the metrics port on a background thread; `stop()` returns within a second."""

    def __init__(
        self,
        listen: str,
        metrics: Metrics,
        store: ResultStore,
        *,
        on_error: ErrorCallback | None = None,
        limits: Limits = DEFAULT_LIMITS,
        protection: WebProtection = NO_PROTECTION,
        catalogue: Mapping[str, ControlMeta] | None = None,
    ) -> None:
        """`catalogue`: the controls' titles and remediations by id, for the pages people read."""
        self._host, self._requested_port = split_host_port(listen)
        self._protection = protection  # TLS and basic auth (`metrics.web_config_file`)
        self._catalogue: Mapping[str, ControlMeta] = dict(catalogue or {})
        self._metrics = metrics
        self._store = store
        self._on_error = on_error
        self._limits = limits
        self._server: _Server | None = None
        self._dispatcher: Dispatcher | None = None
        self._thread: threading.Thread | None = None
        self._routes: dict[str, Route] = {}

    def add_route(self, path: str, answer: Route) -> None:
        """Serve `answer` on `GET path` too (from the next `start`): JSON routes the daemon adds,
        such as `/baseline/live`, behind the same dispatcher and limits."""
        self._routes[path] = answer

    def start(self) -> None:
        """Bind and serve; raises OSError at once if the address is taken."""
        if self._server is not None:
            raise RuntimeError("MetricsServer already started")
        handler = type(
            "Handler", (_Handler,), {"metrics": self._metrics, "store": self._store, "catalogue": self._catalogue}
        )
        server_class = _Server6 if ":" in self._host else _Server
        server = server_class((self._host, self._requested_port), handler)
        server.on_error = self._on_error
        cast(type[_Handler], handler).routes = dict(self._routes)
        self._server = server
        self._dispatcher = Dispatcher(server, self._limits)
        self.protect(self._protection)
        self._thread = threading.Thread(
            target=self._dispatcher.serve_forever, kwargs={"poll_interval": 0.1}, name="metrics-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close the socket and the connections still sending; answers in
        progress finish on their workers."""
        server, dispatcher, thread = self._server, self._dispatcher, self._thread
        if server is None or dispatcher is None or thread is None:
            return
        dispatcher.shutdown()
        thread.join(timeout=5)
        server.server_close()
        self._server = self._dispatcher = self._thread = None

    def protect(self, protection: WebProtection) -> None:
        """Use `protection` for the connections accepted from now on (a SIGHUP reload swaps it)."""
        self._protection = protection
        if self._dispatcher is not None:
            self._dispatcher.tls = protection.tls
            self._dispatcher.middleware = protection.guard
            warn_if_unprotected(self._host, self.port, protection)

    @property
    def protection(self) -> WebProtection:
        return self._protection

    @property
    def handshakes_failed(self) -> int:
        """TLS handshakes refused: no or a bad client certificate, or not TLS at all."""
        return self._dispatcher.handshakes_failed if self._dispatcher is not None else 0

    @property
    def slow_clients_dropped(self) -> int:
        """Connections closed because their request never arrived in full (or too many waited)."""
        return self._dispatcher.dropped if self._dispatcher is not None else 0

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._server is None:
            raise RuntimeError("MetricsServer not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:9797` (`https://` with TLS)."""
        host = f"[{self._host}]" if ":" in self._host else (self._host or "0.0.0.0")
        scheme = "https" if self._protection.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}"
