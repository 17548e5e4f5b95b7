"""Keeping the watched set current: list the estate, resolve it, and say what changed.

The daemon refreshes the set at start, every `scopes.refresh` and at SIGHUP (`Refresher`,
a thread of its own, is the one that lists after the start), and applies what
`ScopeRefresh.resolve` returns through the same path a reload takes. A discovery that
fails never empties the set: the last listing that succeeded is kept, and so is every
project it let in; the failure is logged, counted and recorded. A listing that succeeds
but finds nothing at all below the roots, where the last one found projects, is not
believed either (one wrong-shaped `{}` must not drop the estate). Every project that
enters or leaves the set gets a `scope_discovered` / `scope_removed` log line and
evidence record saying why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from monitor.collect.estate import Estate
from monitor.collect.observer import ApiObserver
from monitor.config.model import Config
from monitor.evidence.bodies import scope_discovered_body, scope_discovery_failed_body, scope_removed_body
from monitor.run.scopeset import ACTIVE, ScopeSet, resolve
from monitor.run.shard import Shard

log = structlog.get_logger("controlwatch.discovery")

#: Lists the estate below the config's roots; raises when it cannot (the set is kept then).
Discover = Callable[[Config, ApiObserver], Estate]
Entry = tuple[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Refreshed:
    """The set to apply, and the evidence of what changed (or why the listing was not taken)."""

    scopes: ScopeSet
    entries: tuple[Entry, ...]
    ok: bool
    changed: bool


class ScopeRefresh:
    """What discovery listed last, and the watched set resolved from it.

    Listing (slow: many calls) and resolving (quick) are apart, so the daemon lists without
    holding the lock that serialises changes of the set, and a SIGHUP never waits on a listing.
    """

    def __init__(self, discover: Discover | None, observer: ApiObserver, shard: Shard | None = None) -> None:
        self._discover = discover
        self._observer = observer
        self._shard = shard
        self._lock = threading.Lock()
        self._estate: Estate | None = None

    def listing(self, config: Config) -> str | None:
        """List the estate below `config`'s roots; the error when it failed or is not believed
        (the last listing then stays)."""
        if self._discover is None:
            return "no Google clients to discover with"
        try:
            estate = self._discover(config, self._observer)
        except Exception as exc:  # CallFailed, or a bug: either way the last listing stays
            return str(exc) or type(exc).__name__
        with self._lock:
            before = _active(self._estate, config)
            if before and not _active(estate, config):
                return (
                    f"found no ACTIVE project below {', '.join(config.scopes.roots())} where the last discovery "
                    f"found {before}: not believed, the watched set is kept"
                )
            self._estate = estate
        return None

    def resolve(self, config: Config, previous: ScopeSet, cause: str, error: str | None = None) -> Refreshed:
        """The set `config` gives on the last listing, and the evidence of how it differs from `previous`
        (and of `error`, the listing that failed, if one did)."""
        with self._lock:
            estate = self._estate
        scopes = resolve(config, estate, error=error, shard=self._shard)
        entries: list[Entry] = []
        if error is not None:
            log.error("scope_discovery_failed", error=error, cause=cause, kept=len(previous.watched()))
            body = scope_discovery_failed_body(error=error, cause=cause, roots=scopes.roots, kept=previous.watched())
            entries.append(("scope_discovery_failed", body))
        changes = _changes(previous, scopes, config, cause)
        return Refreshed(scopes, (*entries, *changes), ok=error is None, changed=bool(changes))


def _active(estate: Estate | None, config: Config) -> int:
    roots = config.scopes.roots()
    return sum(1 for p in estate.projects if p.state == ACTIVE and p.root in roots) if estate is not None else 0


def _changes(old: ScopeSet, new: ScopeSet, config: Config, cause: str) -> list[Entry]:
    """`scope_discovered` for each project entering the set, `scope_removed` for each leaving it."""
    before, after = set(old.watched()), set(new.watched())
    entries: list[Entry] = []
    for project in new.watched():
        if project in before:
            continue
        decision = new.decision(project)
        assert decision is not None
        log.info("scope_discovered", scope=project, why=decision.why, cause=cause)
        body = scope_discovered_body(
            scope=project,
            why=decision.why,
            cause=cause,
            state=decision.state or None,
            parent=decision.parent or None,
            root=decision.root or None,
            folders=[f"folders/{f}" for f in decision.folders],
            labels=decision.labels,
        )
        entries.append(("scope_discovered", body))
    for project in old.watched():
        if project in after:
            continue
        decision = new.decision(project)
        if decision is not None:
            why, state = decision.why, decision.state or None
        elif config.scopes.discovering:
            why, state = f"no longer found below {', '.join(config.scopes.roots())} nor listed", None
        else:
            why, state = "no longer listed in scopes.projects, and discovery is off", None
        log.info("scope_removed", scope=project, why=why, cause=cause)
        entries.append(("scope_removed", scope_removed_body(scope=project, why=why, cause=cause, state=state)))
    return entries


class Refresher:
    """Calls `refresh(cause)` every `interval` seconds on a thread of its own, until stopped;
    `trigger(cause)` makes it refresh at once (a SIGHUP)."""

    def __init__(self, refresh: Callable[[str], object], interval: float) -> None:
        self._refresh = refresh
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cause = "refresh"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scope-refresh", daemon=True)
        self._thread.start()

    def trigger(self, cause: str) -> None:
        self._cause = cause
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            if self._stop.is_set():
                return
            cause = self._cause if self._wake.is_set() else "refresh"
            self._wake.clear()
            self._cause = "refresh"
            try:
                self._refresh(cause)
            except Exception as exc:  # a bug must not end the refreshes
                log.exception("scope_refresh_crashed", error=f"{type(exc).__name__}: {exc}")
