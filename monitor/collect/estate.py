"""Scope discovery's reads: every folder and project below the configured roots (Resource Manager v3).

Breadth first from each root (`organizations/N`, `folders/N`): `folders.list` under the
root and under every folder found, `projects.list` under each of them, so nested folders
are walked to the bottom. Projects are listed with `showDeleted`: a project being deleted
is seen leaving (`DELETE_REQUESTED`), not merely missing. A refresh makes, per node (each
root and each folder below it), one call per page of its folders and one per page of its
projects: at least `2 × (roots + folders)` calls.

Every call is one observed call through a `Caller` (our retry table, the discovery's
deadline, the answer's envelope from `checks.kinds.DISCOVERY_READS`) and every listing
pages through `paging.pages`. Nothing is partial: a listing that fails fails the whole
discovery (`CallFailed`), because an estate missing a folder would drop every project
below it. The caller keeps the previous set then. The deadline is enforced from outside
(`discover`), as for a run: a server dripping its answer cannot hold a refresh past it.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.kinds import DISCOVERY_READS
from monitor.collect.calls import ANSWERS, Caller, CallFailed, RetryPolicy, ServiceDisabled
from monitor.collect.clients import GcpClients
from monitor.collect.convert import to_json
from monitor.collect.observer import ApiObserver
from monitor.collect.paging import pages, proto_token
from monitor.collect.ratelimit import RateLimits

__all__ = ["Estate", "FoundProject", "discover", "list_estate"]

_READS = {read.method: read for read in DISCOVERY_READS}
FOLDERS_LIST = "cloudresourcemanager.folders.list"
PROJECTS_LIST = "cloudresourcemanager.projects.list"
#: folders below the roots: far above Google's own limits (300 per parent, 10 levels); more is a loop or a bug
MAX_NODES = 20_000
#: projects per page asked for (the API's maximum, so a large folder takes few calls)
PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class FoundProject:
    """A project discovery listed: its id, resource name, parent, state, labels, and the ids of the
    folders above it up to its root, nearest first."""

    project_id: str
    name: str
    parent: str
    state: str
    root: str
    labels: Mapping[str, str] = field(default_factory=dict)
    folders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Estate:
    """Everything below the roots, in the order found (each project once)."""

    roots: tuple[str, ...]
    projects: tuple[FoundProject, ...]
    folders: int
    calls: int


class _Counting:
    """The observer, counting the calls one discovery makes."""

    def __init__(self, observer: ApiObserver) -> None:
        self._observer = observer
        self.calls = 0

    def request(self, service: str, method: str, code: str) -> None:
        self.calls += 1
        self._observer.request(service, method, code)

    def retry(self, service: str, reason: str) -> None:
        self._observer.retry(service, reason)

    def collection(self, kind: str, seconds: float) -> None:
        self._observer.collection(kind, seconds)

    def throttled(self, service: str, seconds: float) -> None:
        self._observer.throttled(service, seconds)


def _one_page(list_call: Callable[..., Any], request: dict[str, Any], token: str, timeout: float) -> Any:
    if token:
        request = {**request, "page_token": token}
    return list_call(request=request, retry=None, timeout=timeout)


def _children(call: Caller, list_call: Callable[..., Any], parent: str, field_name: str) -> Iterator[dict[str, Any]]:
    """The resources one listing gives under `parent`, page by page, as REST JSON."""
    request = {"parent": parent, "page_size": PAGE_SIZE, "show_deleted": field_name == "projects"}
    try:
        for page in pages(call, functools.partial(_one_page, list_call, request), proto_token):
            yield from (to_json(item) for item in getattr(page, field_name))
    except CallFailed as exc:
        raise CallFailed(f"listing below {parent}: {exc}", status=exc.status, deadline=exc.deadline) from exc
    except ServiceDisabled as exc:
        raise CallFailed(f"listing below {parent}: {exc.note}, so nothing below it can be seen", status="403") from exc


def list_estate(clients: GcpClients, roots: Sequence[str], folders_call: Caller, projects_call: Caller) -> Estate:
    """Every folder and project below `roots`, breadth first, each listing through its own Caller."""
    list_folders = clients.get(_READS[FOLDERS_LIST].client.name).list_folders
    list_projects = clients.get(_READS[PROJECTS_LIST].client.name).list_projects
    seen_nodes: set[str] = set()
    found: dict[str, FoundProject] = {}
    folders = 0
    for root in roots:
        if root in seen_nodes:  # a root folder already walked below an earlier root
            continue
        queue: deque[tuple[str, tuple[str, ...]]] = deque([(root, ())])
        seen_nodes.add(root)
        while queue:
            parent, above = queue.popleft()
            here = (parent.removeprefix("folders/"), *above) if parent.startswith("folders/") else above
            for folder in _children(folders_call, list_folders, parent, "folders"):
                name = str(folder.get("name", ""))
                if name in seen_nodes:
                    continue
                seen_nodes.add(name)
                folders += 1
                if folders > MAX_NODES:
                    raise CallFailed(f"more than {MAX_NODES} folders below {', '.join(roots)}: refused")
                queue.append((name, here))
            for project in _children(projects_call, list_projects, parent, "projects"):
                project_id = str(project.get("projectId", ""))
                found.setdefault(
                    project_id,
                    FoundProject(
                        project_id=project_id,
                        name=str(project.get("name", "")),
                        parent=str(project.get("parent", parent)),
                        state=str(project.get("state", "")),
                        root=root,
                        labels={str(k): str(v) for k, v in (project.get("labels") or {}).items()},
                        folders=here,
                    ),
                )
    return Estate(tuple(roots), tuple(found.values()), folders, 0)


def discover(
    clients: GcpClients,
    roots: Sequence[str],
    *,
    observer: ApiObserver,
    call_timeout: float,
    deadline: float,
    policy: RetryPolicy | None = None,
    limits: RateLimits | None = None,
) -> Estate:
    """`list_estate` within `deadline` seconds, enforced from outside: past it the listing is
    abandoned (its retries stop) and the discovery fails. Its calls take tokens of the same
    rate `limits` as the runs' (Resource Manager's read quota is one budget)."""
    cancelled = threading.Event()
    counting = _Counting(observer)
    ends = time.monotonic() + deadline

    def caller(method: str) -> Caller:
        return Caller(
            service=_READS[method].api,
            method=method,
            observer=counting,
            policy=policy or RetryPolicy(),
            call_timeout=call_timeout,
            deadline=ends,
            cancelled=cancelled,
            envelope=ANSWERS[method],
            limits=limits,
        )

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["estate"] = list_estate(clients, roots, caller(FOLDERS_LIST), caller(PROJECTS_LIST))
        except BaseException as exc:  # handed to the waiting thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="scope-discovery", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        cancelled.set()
        raise CallFailed(f"scope discovery: deadline exceeded ({deadline:g}s)", deadline=True)
    error = outcome.get("error")
    if error is not None:
        raise error
    estate: Estate = outcome["estate"]
    return dataclasses.replace(estate, calls=counting.calls)
