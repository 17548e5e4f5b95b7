"""The Google API clients, built lazily, one per service the collectors call.

`from google.cloud import compute_v1` alone costs ~1.7 s, so nothing here imports a
Google module before a client is first asked for: a CLI command that calls no API never
pays for it. The stand-in differs from real GCP only by endpoint and anonymous
credentials; every other code path is the one production takes. Each client's HTTP
session gets a response hook keeping the raw body of a 2xx answer (`envelope.record`):
the parsed message no longer shows a wrong-shaped answer, the body does.

Cloud SQL Admin and IAM admin are read through the discovery client (`googleapiclient`):
their GAPIC clients speak gRPC only. It answers with the parsed JSON itself (nothing is
dropped, so there is no body to keep), over httplib2, which is not thread-safe: each
thread sends through its own connection (`_ThreadHttp`).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from checks.kinds import APIS, DISCOVERY_APIS, NEXT_CLIENTS, Api, Client
from checks.kinds import clients as kind_clients
from monitor.collect.envelope import record

READ_ONLY_SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"
# Only the evidence copy writes (entries:write to `evidence.cloud_logging`): its own client,
# its own scope, so the collectors' credentials stay read-only.
LOG_WRITE_SCOPE = "https://www.googleapis.com/auth/logging.write"

# The handwritten logging client insists on a project at construction (with ADC it would
# otherwise guess one from the environment, or fail). The collectors never use it: every
# call names its own parent (`projects/P/sinks`, `folders/55/sinks`), so any value does.
LOGGING_CLIENT_PROJECT = "controlwatch-unused"
# Cloud Storage's client too (it would look one up through ADC); every listing names its project.
STORAGE_CLIENT_PROJECT = LOGGING_CLIENT_PROJECT
# google-cloud-storage 3.x reads a bucket's metadata (`buckets.get`) on a background thread the
# first time a call names the bucket, for its tracing spans: a call no rate limit, deadline or
# request count sees, needing a permission the read-only role does not hold. This is its switch.
STORAGE_METADATA_SWITCH = "DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA"
#: seconds a discovery-client request may take (httplib2 has no per-call timeout; the run
#: deadline still bounds the run from outside the call)
DISCOVERY_TIMEOUT = 60.0

#: API name -> constructor arguments of its clients beyond credentials and endpoint
_API_ARGUMENTS: Mapping[str, Mapping[str, Any]] = {
    "compute": {},  # Compute ships a REST transport only
    # resourcemanager_v3 defaults to gRPC: REST is what the stand-in (and our proxy rules) speak.
    "cloudresourcemanager": {"transport": "rest"},
    # The logging GAPIC clients are gRPC-only; the handwritten client speaks JSON over HTTP
    # once told not to pick gRPC (it does whenever grpcio is importable, which it always is).
    "logging": {"_use_grpc": False, "project": LOGGING_CLIENT_PROJECT},
    # The handwritten JSON client: HTTP only, no transport to choose.
    "storage": {"project": STORAGE_CLIENT_PROJECT},
    # BigQuery's handwritten JSON client, like Cloud Storage's: HTTP only; every call names its project.
    "bigquery": {"project": STORAGE_CLIENT_PROJECT},
    # dataproc_v1 defaults to gRPC like resourcemanager_v3.
    "dataproc": {"transport": "rest"},
    # orgpolicy_v2 defaults to gRPC like resourcemanager_v3.
    "orgpolicy": {"transport": "rest"},
    # Discovery clients (see `_discovery`): no constructor arguments of their own.
    "sqladmin": {},
    "iam": {},
    "dns": {},
    # The third catalogue's: Monitoring through discovery, the GAPIC ones default to gRPC.
    "monitoring": {},
    "serviceusage": {"transport": "rest"},
    "accessapproval": {"transport": "rest"},
    # The identity catalogue's GAPIC clients default to gRPC too.
    "cloudkms": {"transport": "rest"},
    "apikeys": {"transport": "rest"},
    "essentialcontacts": {"transport": "rest"},
}


def _rest_session(client: Any) -> Any:
    """The `requests` session a GAPIC REST transport sends with (Compute, Resource Manager)."""
    return client.transport._session


def _json_session(client: Any) -> Any:
    """The `requests` session of the handwritten logging client (built on first use)."""
    return client._http


#: API name -> how to reach its clients' HTTP session (to hook it); neither library offers a public way
_SESSIONS: Mapping[str, Callable[[Any], Any]] = {
    "compute": _rest_session,
    "cloudresourcemanager": _rest_session,
    "logging": _json_session,
    "storage": _json_session,
    "bigquery": _json_session,
    "dataproc": _rest_session,
    "orgpolicy": _rest_session,
    "serviceusage": _rest_session,
    "accessapproval": _rest_session,
    "cloudkms": _rest_session,
    "apikeys": _rest_session,
    "essentialcontacts": _rest_session,
}


def pin_environment(session: Any, url: str) -> None:
    """Read the environment's HTTP settings for `url` once, here, not on every request.

    `requests` reads them again for each request of a session that trusts the environment:
    the proxies (`HTTPS_PROXY`, `NO_PROXY`…), `~/.netrc` (a file lookup per request: 7 % of
    a large sweep) and the CA bundle (`REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`). Every request
    of a client goes to its one endpoint, so the proxy for that host (after `NO_PROXY`) and
    the CA bundle are pinned on the session as the environment says at start, and the
    environment is not read again. `.netrc` credentials are not used: Google's are.
    """
    import os

    from requests.utils import get_environ_proxies

    session.proxies.update(get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


def _client_classes() -> dict[str, tuple[str, str, Mapping[str, Any]]]:
    """client name -> (module, class, constructor arguments), for every client a kind row names
    and the second catalogue's (`NEXT_CLIENTS`: the rows' and the regional network policies')."""
    order = list(APIS)
    every: dict[str, Client] = dict(kind_clients())
    for client in NEXT_CLIENTS:
        if every.setdefault(client.name, client) != client:
            raise ValueError(f"two clients named {client.name!r}: {every[client.name]} and {client}")
    by_api = sorted(every.values(), key=lambda client: order.index(client.api))
    return {c.name: (APIS[c.api].package, c.cls, _API_ARGUMENTS[c.api]) for c in by_api}


_CLIENT_CLASSES = _client_classes()
CLIENT_NAMES = tuple(_CLIENT_CLASSES)
#: client name -> its API's name
_API_OF: Mapping[str, str] = {
    **{client.name: client.api for client in NEXT_CLIENTS},
    **{name: client.api for name, client in kind_clients().items()},
}
#: the client packages a daemon imports up front (`preload`), in the kind table's API order
CLIENT_PACKAGES = tuple(dict.fromkeys(module for module, _, _ in _CLIENT_CLASSES.values()))


def preload() -> None:
    """Import every client package now (~2.6 s), so that a daemon's first run does not pay
    for them inside its run deadline. One-off commands skip this and import lazily."""
    import importlib

    for package in CLIENT_PACKAGES:
        importlib.import_module(package)


class CredentialsMissing(Exception):
    """No Application Default Credentials: the daemon cannot call Google (CLI exit 2)."""

    HINT = (
        "run `gcloud auth application-default login`, point GOOGLE_APPLICATION_CREDENTIALS "
        "at a credentials file, or run under Workload Identity / an attached service account"
    )

    def __init__(self, cause: str) -> None:
        super().__init__(f"no Google credentials found ({cause}); {self.HINT}")


class GcpClients:
    """Lazily built, cached clients sharing one set of credentials and client options.

    Credentials are held, never logged: `repr` shows the endpoint only.
    """

    def __init__(self, credentials: Any, endpoint: str | None = None) -> None:
        self._credentials = credentials
        self.endpoint = endpoint
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GcpClients(endpoint={self.endpoint or 'default'!r})"

    def get(self, name: str) -> Any:
        """The client called `name` (see `CLIENT_NAMES`), built on first use."""
        with self._lock:
            client = self._clients.get(name)
            if client is None:
                client = self._clients[name] = self._build(name)
            return client

    def _build(self, name: str) -> Any:
        import importlib

        try:
            module_name, class_name, extra = _CLIENT_CLASSES[name]
        except KeyError:
            raise KeyError(f"no Google client named {name!r}; known: {', '.join(CLIENT_NAMES)}") from None
        api = APIS[_API_OF[name]]
        if api.name in DISCOVERY_APIS:
            return _discovery(api, self._credentials, self.endpoint)
        if api.name == "storage":
            os.environ[STORAGE_METADATA_SWITCH] = "true"  # read by the library at each call
        cls = getattr(importlib.import_module(module_name), class_name)
        kwargs: dict[str, Any] = {"credentials": self._credentials, **extra}
        if self.endpoint is not None:
            kwargs["client_options"] = {"api_endpoint": self.endpoint}
        client = cls(**kwargs)
        session = _SESSIONS[api.name](client)
        session.hooks["response"].append(record)
        pin_environment(session, self.endpoint or f"https://{api.name}.googleapis.com")
        return client


class _Connection:
    """A thread's httplib2 connection; its sockets close when the thread (and so this) goes."""

    def __init__(self, http: Any) -> None:
        self.http = http
        weakref.finalize(self, http.close)


class _ThreadHttp:
    """One authorised httplib2 connection per thread: httplib2 must not be shared between threads."""

    def __init__(self, credentials: Any, timeout: float) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._local = threading.local()

    def get(self) -> Any:
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            import google_auth_httplib2
            import httplib2

            http = google_auth_httplib2.AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=self._timeout))
            connection = self._local.connection = _Connection(http)
        return connection.http


def _discovery(api: Api, credentials: Any, endpoint: str | None) -> Any:
    """The discovery client of `api` from the document google-api-python-client ships (no fetch).

    Its requests go through the calling thread's own connection, so one client serves the
    whole worker pool. Against the stand-in the endpoint replaces the API's root URL; the
    paths (`v1/projects/P/instances`) are the real ones.
    """
    from googleapiclient import discovery
    from googleapiclient import http as discovery_http

    connections = _ThreadHttp(credentials, DISCOVERY_TIMEOUT)

    def request(_shared: Any, *args: Any, **kwargs: Any) -> Any:
        return discovery_http.HttpRequest(connections.get(), *args, **kwargs)

    options = {"api_endpoint": endpoint.rstrip("/") + "/"} if endpoint is not None else None
    return discovery.build(
        api.name,
        api.version,
        http=connections.get(),
        requestBuilder=request,
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
    )


def make_log_writer(endpoint: str | None = None) -> Any:
    """A Cloud Logging client allowed to write (for the evidence copy), never used to read."""
    if endpoint is not None:
        return make_clients(endpoint).get("logging")
    import google.auth
    from google.auth import exceptions as auth_exceptions

    try:
        credentials, _project = google.auth.default(scopes=[LOG_WRITE_SCOPE])
    except auth_exceptions.DefaultCredentialsError as exc:
        raise CredentialsMissing(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return GcpClients(credentials).get("logging")


def make_clients(endpoint: str | None = None) -> GcpClients:
    """Clients for `endpoint` (the stand-in: anonymous credentials) or real GCP (ADC).

    Raises `CredentialsMissing` when real GCP is meant and no credentials are found;
    never falls back to anything else.
    """
    if endpoint is not None:
        if not endpoint.startswith(("http://", "https://")):
            # Without a scheme the clients silently prefix https://, which the stand-in does not speak.
            raise ValueError(f"endpoint must start with http:// or https://, got {endpoint!r}")
        from google.auth import credentials as auth_credentials

        anonymous: Any = auth_credentials.AnonymousCredentials
        return GcpClients(anonymous(), endpoint)

    import google.auth
    from google.auth import exceptions as auth_exceptions

    try:
        credentials, _project = google.auth.default(scopes=[READ_ONLY_SCOPE])
    except auth_exceptions.DefaultCredentialsError as exc:
        raise CredentialsMissing(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return GcpClients(credentials)
