"""The destinations of the sinks LOG-02 counts, for LOG-04: is the exported copy deletable?

The project's sinks and its ancestors' are read as LOG-02's kinds read them, and shared
with them (the same listings, once per run; the ancestors' once per sweep). Of the sinks
that count (`checks.rules.log_sinks.counted`), each Cloud Storage destination is read by
`storage.buckets.get` (bucket names are global: it may sit in any project) and each
Logging bucket by `logging.projects.locations.buckets.get`; BigQuery and Pub/Sub are not
storage destinations and are not read. An ancestor's destination is read once per sweep
and shared by every project below it ("judged at its own level").

A destination that cannot be read (another project the role is not granted on, a bucket
gone, a fault) is recorded on its entry as `error`, so the other sinks are still judged;
only the sinks listings themselves, and the run's deadline, fail the kind.
"""

from __future__ import annotations

import functools
import inspect
import urllib.parse
from typing import Any

from checks.kernel import JSON
from checks.rules.log_sinks import LOGGING, STORAGE, Sink, counted, destination_of
from monitor.collect import cloudlogging
from monitor.collect.calls import Caller, CallFailed, ServiceDisabled
from monitor.collect.clients import GcpClients

SINKS_METHOD = "logging.projects.sinks.list"
BUCKET_METHOD = "storage.buckets.get"
#: the fields a destination's entry carries it in (the kind's own nesting, not an API field)
BUCKET, LOG_BUCKET, ERROR = "bucket", "logBucket", "error"
#: the method ids the walk reads with beyond its row's own and the sinks listings' (each has its answer's envelope)
READS = frozenset({BUCKET_METHOD})


def _get(connection: Any, path: str, timeout: float) -> Any:
    """One GET through the client's own connection; Cloud Storage's retries unless told not to, Logging's never."""
    retry = {"retry": None} if "retry" in inspect.signature(connection.api_request).parameters else {}
    return connection.api_request(method="GET", path=path, timeout=timeout, **retry)


def _own_sinks(client: Any, project_id: str, call: Caller, page_size: int | None) -> list[JSON]:
    """The project's sinks: the sinks kind's listing, shared with it (none when Logging is off)."""
    listing = call.derive(SINKS_METHOD, cloudlogging.SERVICE)
    path = f"/projects/{project_id}/sinks"
    load = functools.partial(cloudlogging.list_raw, client, path, "sinks", listing, page_size)
    try:
        return listing.load_once(path, load)
    except ServiceDisabled:
        return []


def _read(clients: GcpClients, sink: Sink, call: Caller) -> JSON:
    """The entry of one sink's destination: its bucket, its Logging bucket, or why it has neither."""
    where = destination_of(sink.destination)
    entry: JSON = {"sink": sink.name, "destination": sink.destination}
    if where.service == STORAGE:
        caller, field, client = call.derive(BUCKET_METHOD, "storage"), BUCKET, clients.get("storage")
        # Bucket names are global: a denied read cannot say whose it is, so say where the role must be.
        path, about = f"/b/{urllib.parse.quote(where.name, safe='')}", f"bucket {where.name}"
        hint = " (in another project? the role must be granted on the bucket's project too)"
    elif where.service == LOGGING:
        caller, field, client = call, LOG_BUCKET, clients.get("logging")
        path, about = f"/{where.name}", f"Logging bucket {where.name} (project {where.project})"
        hint = ""
    else:
        return entry  # not a storage destination, or one LOG-04 cannot judge: nothing to read
    read = functools.partial(caller, functools.partial(_get, client._connection, path), parsed=True)
    try:
        entry[field] = caller.load_once(where.name, read, across_runs=sink.inherited)
    except CallFailed as exc:
        if exc.deadline:
            raise
        entry[ERROR] = f"{about} cannot be read: {exc}" + (hint if exc.status == "403" else "")
    except ServiceDisabled as exc:
        entry[ERROR] = f"{about} cannot be read: {exc.note}"
    return entry


def destinations(clients: GcpClients, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """`{"sink", "destination", and "bucket" | "logBucket" | "error"}` per sink LOG-02 counts, the project's
    first; a BigQuery or Pub/Sub destination's entry holds neither (nothing to read)."""
    own = _own_sinks(clients.get("logging"), project_id, call, page_size)
    inherited = cloudlogging.ancestor_sinks(clients, project_id, call, page_size)
    return [_read(clients, sink, call) for sink in counted(project_id, own, inherited)]
