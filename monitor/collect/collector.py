"""Collect the kinds one run of one scope needs into a Snapshot, within a hard deadline.

`timeout=` on a client call bounds each socket read, not the call: a server dripping a
byte at a time keeps a call alive indefinitely. So the run's deadline is enforced from
outside: the kinds run in a per-run thread pool, the run waits for them with a timeout,
and whatever has not finished by then becomes an `error` ("deadline exceeded") while its
thread is abandoned. Abandoned threads are counted per scope in `StuckCalls`, so the
scheduler can refuse to start a scope again while its previous calls still hang.

Every requested kind ends up in the snapshot: resources, an error, or (API disabled)
empty with a note. Nothing raised while collecting escapes as an exception, and nothing
becomes an empty success by accident: the last-resort handler turns a bug into an error.
An API is "not enabled" in a project only when none of its calls about that project got
an answer in the run: a SERVICE_DISABLED that another such call contradicts is an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from datetime import datetime
from queue import Empty, SimpleQueue

from checks.kinds import ORG_CONSTRAINTS, Holder, Kind, Shape
from checks.snapshot import KindData, Snapshot
from monitor.collect import dataproc, orgpolicies
from monitor.collect.calls import (
    MAX_ITEMS,
    MAX_PAGES,
    SERVICE_TITLES,
    Caller,
    CallFailed,
    RetryPolicy,
    ServiceDisabled,
    SharedReads,
    classify,
)
from monitor.collect.clients import GcpClients
from monitor.collect.kinds import FETCHES, KINDS, hands_all_clients
from monitor.collect.observer import ApiObserver
from monitor.collect.ratelimit import RateLimits
from monitor.collect.sweepreads import SweepReads

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CollectSettings:
    """The time budget of a run (config `gcp:`) and the retry policy.

    `page_size` sets `maxResults` on list calls; None leaves it to the API (500).
    A listing of more than `max_pages` pages or `max_items` resources is refused (an
    `error`), never cut short. Items are counted page by page as they arrive, so the
    refusal comes at the page passing the bound, never after the whole listing is in
    memory. `max_items` follows the evaluation budget (`max_items_for`): collecting far
    more than any control may judge only costs memory.
    `rate_limits` (API -> requests a second) are for the whole process: one `RateLimits`
    is made of them per collect function (`runtime.make_collect`), none by default.
    """

    call_timeout: float = 30.0
    run_deadline: float = 300.0
    max_workers: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int | None = None
    max_pages: int = MAX_PAGES
    max_items: int = MAX_ITEMS
    rate_limits: Mapping[str, float] = field(default_factory=dict)
    #: the constraints whose effective policy the orgPolicies kind reads: the catalogue's, and
    #: every one a scope's `org.required_constraints` names (`runtime.constraints_to_read`)
    org_constraints: tuple[str, ...] = ORG_CONSTRAINTS
    #: the regions the dataprocClusters kind lists (one listing each): every scope's `region.allowed`
    #: (`runtime.dataproc_regions`); multi-regions are dropped when listing
    dataproc_regions: tuple[str, ...] = dataproc.DEFAULT_REGIONS


#: how many times the largest evaluation limit a listing may hold before collection refuses it
ITEMS_PER_JUDGED = 2


def max_items_for(evaluation_limit: int) -> int:
    """`max_items` for a daemon whose largest `evaluation.max_resources*` limit is `evaluation_limit`.

    Twice the limit: a kind up to twice too large is still collected and its controls say
    "too large to judge: N firewalls (limit M, …)", with N telling how far to raise the
    limit; past that, holding more costs memory (a 512 MiB pod) for nothing, since every
    control reading the kind would be `error` anyway. The default, 100,000, is this of
    the default limit 50,000.
    """
    return ITEMS_PER_JUDGED * evaluation_limit


@dataclass(frozen=True, slots=True)
class Collection:
    """What one run collected, and whether its deadline cut it."""

    snapshot: Snapshot
    deadline_exceeded: bool = False
    abandoned: int = 0  # calls left running past the deadline (threads abandoned)


#: the calls about the project itself: the methods of the rows its own part holds (an
#: ancestor's calls answering says nothing about whether an API is enabled in the project, nor
#: does a walk's: the sinks' destinations may sit in any project)
_ABOUT_PROJECT = frozenset(
    spec.method for spec in KINDS.values() if spec.holder is Holder.PROJECT and spec.shape is not Shape.WALK
)


class _Answered:
    """The run's observer, remembering the first call about the project of each API that got a 2xx."""

    def __init__(self, observer: ApiObserver) -> None:
        self._observer = observer
        self._lock = threading.Lock()
        self.first: dict[str, str] = {}  # service -> method

    def request(self, service: str, method: str, code: str) -> None:
        if code.startswith("2") and method in _ABOUT_PROJECT:
            with self._lock:
                self.first.setdefault(service, method)
        self._observer.request(service, method, code)

    def retry(self, service: str, reason: str) -> None:
        self._observer.retry(service, reason)

    def collection(self, kind: str, seconds: float) -> None:
        self._observer.collection(kind, seconds)

    def throttled(self, service: str, seconds: float) -> None:
        self._observer.throttled(service, seconds)


class StuckCalls:
    """Per scope, how many abandoned calls are still running; thread-safe."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._changed = threading.Condition()

    def add(self, scope: str) -> None:
        with self._changed:
            self._counts[scope] = self._counts.get(scope, 0) + 1

    def done(self, scope: str) -> None:
        with self._changed:
            left = self._counts.get(scope, 0) - 1
            if left > 0:
                self._counts[scope] = left
            else:
                self._counts.pop(scope, None)
            self._changed.notify_all()

    def busy(self, scope: str) -> int:
        """Abandoned calls of `scope` still running: start no new run of it while > 0."""
        with self._changed:
            return self._counts.get(scope, 0)

    def total(self) -> int:
        with self._changed:
            return sum(self._counts.values())

    def wait_idle(self, scope: str | None = None, timeout: float = 0.0) -> bool:
        """Wait up to `timeout` s until `scope` (or every scope) has no stuck call."""

        def idle() -> bool:
            return not (self._counts.get(scope, 0) if scope is not None else self._counts)

        with self._changed:
            return self._changed.wait_for(idle, timeout=timeout)


def _collect_kind(
    kind: str,
    scope: str,
    clients: GcpClients,
    settings: CollectSettings,
    observer: ApiObserver,
    deadline: float,
    cancelled: threading.Event,
    shared: SharedReads | None = None,
    limits: RateLimits | None = None,
) -> tuple[KindData, bool, str | None]:
    """One kind, errors as data: (data, whether the run's deadline decided it, the API it found disabled)."""
    spec = KINDS.get(kind)
    if spec is None:
        return KindData(error=f"no collector for kind {kind!r}"), False, None
    call = Caller(
        service=spec.api,
        method=spec.method,
        observer=observer,
        policy=settings.retry,
        call_timeout=settings.call_timeout,
        deadline=deadline,
        cancelled=cancelled,
        shared=shared,
        envelope=spec.envelope,
        max_pages=settings.max_pages,
        max_items=settings.max_items,
        limits=limits,
    )
    try:
        client = clients if hands_all_clients(spec) else clients.get(spec.client.name)
        fetch = orgpolicies.reading(settings.org_constraints) if kind == Kind.ORG_POLICIES else FETCHES[kind]
        if kind == Kind.DATAPROC_CLUSTERS:
            fetch = dataproc.reading(settings.dataproc_regions)
        resources = fetch(client, scope, call, settings.page_size)
    except ServiceDisabled as exc:
        return KindData(note=exc.note), False, exc.service
    except CallFailed as exc:
        return KindData(error=str(exc)), exc.deadline, None
    except Exception as exc:  # a Google/requests error outside a call, or a bug: never a pass
        outcome = classify(exc)
        if outcome is not None:
            return KindData(error=f"{spec.method}: {outcome.message}"), False, None
        log.exception("collecting %s for %s failed unexpectedly", kind, scope)
        return KindData(error=f"{spec.method}: unexpected {type(exc).__name__}: {exc}"), False, None
    if len(resources) > settings.max_items:  # a walk's several listings together (each is bounded alone)
        refused = f"{spec.method}: {len(resources)} resources, more than max_items {settings.max_items}: refused"
        return KindData(error=refused), False, None
    return KindData(resources=tuple(resources)), False, None


def _contradicted(kind: str, service: str, answered: _Answered) -> KindData | None:
    """An error for `kind` if a call of `service` about the project got an answer in this run
    (another kind's, or an earlier page of its own), else None: the kind then stays empty with its note."""
    other = answered.first.get(service)
    if other is None:
        return None
    method = KINDS[kind].method
    title = SERVICE_TITLES.get(service, service)
    return KindData(
        error=f"{method}: HTTP 403 SERVICE_DISABLED ({title} not enabled), yet {other} answered in the same run: "
        "contradictory answers, so the kind is not known"
    )


#: spawn(target, name): start a daemon thread running `target` (a seam: tests make the Nth start fail)
Spawn = Callable[[Callable[[], None], str], None]


def spawn_daemon(target: Callable[[], None], name: str) -> None:
    """Start a daemon thread: an abandoned call must never hold the interpreter's exit."""
    threading.Thread(target=target, name=name, daemon=True).start()


def _start(work: Callable[[str], None], futures: dict[str, Future[None]], workers: int, name: str, spawn: Spawn) -> str:
    """Run `work(kind)` for each kind of `futures` on `workers` daemon threads; "" or why a thread did not start.

    Not a ThreadPoolExecutor: its threads are joined when the interpreter exits, so a call
    abandoned at the run deadline (a server dripping a byte a minute) would hold a finished
    `controlwatch check` open forever. A future not yet running can still be cancelled.
    A thread that cannot start ("can't start new thread") stops the starting; the threads
    already running go on, and the caller decides about the kinds none has taken.
    """
    queue: SimpleQueue[str] = SimpleQueue()
    for kind in futures:
        queue.put(kind)

    def worker() -> None:
        while True:
            try:
                kind = queue.get_nowait()
            except Empty:
                return
            future = futures[kind]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                work(kind)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)

    for index in range(workers):
        try:
            spawn(worker, f"{name}_{index}")
        except Exception as exc:  # RuntimeError("can't start new thread"), MemoryError: never raised out of a run
            return f"{type(exc).__name__}: {exc}"
    return ""


def collect_snapshot(
    scope: str,
    kinds: Iterable[str],
    clients: GcpClients,
    *,
    settings: CollectSettings,
    observer: ApiObserver,
    now: datetime,
    stuck: StuckCalls | None = None,
    clock: Callable[[], float] = time.monotonic,
    spawn: Spawn = spawn_daemon,
    limits: RateLimits | None = None,
    sweep: SweepReads | None = None,
) -> Collection:
    """Collect each of `kinds` once for project `scope`, cut hard at `settings.run_deadline`
    (counted from here: a run that waited for a slot has its whole deadline), every call
    within `limits`; the ancestors' reads shared with the sweep's other runs through `sweep`.

    A collection thread that cannot start makes the kinds no thread took `error`; the kinds
    already running are waited for (and counted as stuck past the deadline) as ever.
    """
    wanted = list(dict.fromkeys(kinds))
    started = clock()
    deadline = started + settings.run_deadline
    cancelled = threading.Event()
    shared = SharedReads(sweep)  # the project and its ancestors are read once per run, whoever asks
    answered = _Answered(observer)
    lock = threading.Lock()
    results: dict[str, KindData] = {}
    disabled: dict[str, str] = {}  # kind -> the API it found not enabled
    abandoned: set[str] = set()
    deadline_hit = False

    def work(kind: str) -> None:
        nonlocal deadline_hit
        t0 = clock()
        data, by_deadline, off = _collect_kind(
            kind, scope, clients, settings, answered, deadline, cancelled, shared, limits
        )
        with lock:
            late = kind in abandoned
            if not late:
                results[kind] = data
                deadline_hit = deadline_hit or by_deadline
                if off is not None:
                    disabled[kind] = off
        if late:
            # The run already reported this kind as cut; only the stuck count changes.
            if stuck is not None:
                stuck.done(scope)
        else:
            observer.collection(kind, clock() - t0)

    workers = max(1, min(settings.max_workers, len(wanted)))
    by_kind: dict[str, Future[None]] = {kind: Future() for kind in wanted}
    futures = {future: kind for kind, future in by_kind.items()}  # before any thread: `finally` sees them all
    try:
        failed = _start(work, by_kind, workers, f"collect-{scope}", spawn)
        if failed:
            with lock:
                for future, kind in futures.items():
                    if future.cancel():  # taken by no thread: none will take it now
                        results[kind] = KindData(error=f"could not start a collection thread: {failed}")
        # A cancelled future counts as done for `wait` only once a thread has seen it.
        wait([f for f in futures if not f.cancelled()], timeout=max(0.0, deadline - clock()))
    finally:
        cancelled.set()  # stop the retries of whatever is still running
        cut = f"deadline exceeded (run_deadline {settings.run_deadline:g}s)"
        elapsed = clock() - started
        late_kinds: list[str] = []
        with lock:
            for future, kind in futures.items():
                if kind in results:
                    continue
                if future.done() and not future.cancelled():
                    # `work` itself raised (an observer bug, say): an error, not a stuck call.
                    exc = future.exception()
                    results[kind] = KindData(error=f"collector failed: {type(exc).__name__}: {exc}")
                    continue
                if future.cancel():
                    results[kind] = KindData(error=f"{cut}: not started")
                else:
                    abandoned.add(kind)
                    results[kind] = KindData(error=cut)
                    if stuck is not None:
                        stuck.add(scope)
                late_kinds.append(kind)
                deadline_hit = True
    for kind in late_kinds:
        observer.collection(kind, elapsed)
    with lock:  # decided once every kind is in: a late 2xx of the same API still counts
        for kind, service in disabled.items():
            results[kind] = _contradicted(kind, service, answered) or results[kind]
    snapshot = Snapshot(scope=scope, now=now, kinds={kind: results[kind] for kind in wanted})
    return Collection(snapshot=snapshot, deadline_exceeded=deadline_hit, abandoned=len(abandoned))
