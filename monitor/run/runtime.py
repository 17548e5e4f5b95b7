"""Wiring from a config to a collection function: real GCP, or the stand-in via `api_endpoint`.

The only difference between the two is the endpoint and the credentials (anonymous for
the loopback stand-in, Application Default Credentials otherwise); the collectors, retries
and deadlines are the same code path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.kinds import ORG_CONSTRAINTS
from checks.rules.orgpolicies import bare
from checks.snapshot import Snapshot
from monitor.collect.calls import RetryPolicy
from monitor.collect.clients import GcpClients, make_clients, preload
from monitor.collect.collector import CollectSettings, StuckCalls, collect_snapshot, max_items_for
from monitor.collect.estate import Estate, discover
from monitor.collect.observer import ApiObserver
from monitor.collect.ratelimit import RateLimits
from monitor.collect.sweepreads import SweepReads
from monitor.config.model import Config
from monitor.run.scope_refresh import Discover
from monitor.run.sweep import Collect

# How many abandoned calls of `scope` are still running (no new run of it starts while > 0).
StuckCheck = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Runtime:
    """How a daemon reaches GCP: the collection function and what it says of stuck calls."""

    collect: Collect
    stuck_calls: StuckCheck
    mode: str = "live"  # live | demo
    clients: Any = None  # GcpClients, for the audit-log poller; None: no event-driven re-checks
    discover: Discover | None = None  # lists the estate for `scopes.organization` / `scopes.folders`
    sweep_reads: SweepReads | None = None  # the ancestors' reads shared by a sweep's runs (SIGHUP clears)


def collect_settings(config: Config) -> CollectSettings:
    """The collection settings of `config`; `max_items` follows its largest evaluation limit."""
    evaluation = config.evaluation
    return CollectSettings(
        call_timeout=config.gcp.call_timeout.total_seconds(),
        run_deadline=config.gcp.run_deadline.total_seconds(),
        max_workers=config.gcp.max_workers,
        max_items=max_items_for(max([evaluation.max_resources, *evaluation.max_resources_by_kind.values()])),
        rate_limits=dict(config.gcp.rate_limits),
        org_constraints=constraints_to_read(config),
        dataproc_regions=dataproc_regions(config),
    )


def constraints_to_read(config: Config) -> tuple[str, ...]:
    """The catalogue's constraints, then every other one some scope requires (ORG-03), bare.

    Read for every scope: which overrides a discovered project matches is known only once
    it is discovered, and one `getEffectivePolicy` more a project costs less than a
    collector that knows each scope's params.
    """
    variants = [config.params]
    variants += [config.params.merged(o.overrides()) for o in config.scopes.overrides]
    variants += [config.params.merged(p.overrides()) for p in config.scopes.projects]
    required = (bare(name) for params in variants for name in params.org.required_constraints)
    return tuple(dict.fromkeys((*ORG_CONSTRAINTS, *required)))


def dataproc_regions(config: Config) -> tuple[str, ...]:
    """Every region some scope allows (`region.allowed`), in order: where Dataproc clusters are listed.

    Read for every scope, as the constraints are: one listing more a project costs less
    than a collector that knows each scope's params. Multi-regions are dropped when listing.
    """
    variants = [config.params]
    variants += [config.params.merged(o.overrides()) for o in config.scopes.overrides]
    variants += [config.params.merged(p.overrides()) for p in config.scopes.projects]
    return tuple(dict.fromkeys(region for params in variants for region in params.region.allowed))


def make_collect(
    clients: GcpClients,
    settings: CollectSettings,
    stuck: StuckCalls,
    fixed_now: datetime | None = None,
    limits: RateLimits | None = None,
    sweep: SweepReads | None = None,
) -> Collect:
    """A `Collect` over these clients; `fixed_now` pins the judging time (scenario files).

    Its runs share one set of rate limits (`limits`, else made of `settings.rate_limits`):
    one per daemon, shared with discovery; and with `sweep`, one read of each ancestor
    (folder, organisation) per sweep interval."""
    limits = limits if limits is not None else RateLimits(settings.rate_limits)

    def collect(scope: str, kinds: Sequence[str], observer: ApiObserver, now: datetime) -> tuple[Snapshot, bool, int]:
        outcome = collect_snapshot(
            scope,
            kinds,
            clients,
            settings=settings,
            observer=observer,
            now=fixed_now or now,
            stuck=stuck,
            limits=limits,
            sweep=sweep,
        )
        return outcome.snapshot, outcome.deadline_exceeded, outcome.abandoned

    return collect


def make_discover(
    clients: GcpClients, policy: RetryPolicy | None = None, limits: RateLimits | None = None
) -> Discover:
    """Scope discovery over these clients, each call bound by `gcp.call_timeout`, the whole by
    `gcp.run_deadline` (`monitor.collect.estate`)."""

    def listing(config: Config, observer: ApiObserver) -> Estate:
        return discover(
            clients,
            config.scopes.roots(),
            observer=observer,
            call_timeout=config.gcp.call_timeout.total_seconds(),
            deadline=config.gcp.run_deadline.total_seconds(),
            policy=policy,
            limits=limits,
        )

    return listing


def preload_clients() -> None:
    """Import the Google client packages now (~2.6 s), so a daemon's first run does not pay
    for them inside its run deadline. One-off commands skip this and import lazily."""
    preload()  # every package the kind table's clients live in


def build_runtime(config: Config, *, endpoint: str | None, mode: str) -> Runtime:
    """Clients for `endpoint` (None = real GCP through ADC; raises CredentialsMissing)."""
    preload_clients()
    clients = make_clients(endpoint)
    stuck = StuckCalls()
    settings = collect_settings(config)
    limits = RateLimits(settings.rate_limits)  # one budget per API for runs and discovery alike
    # Each ancestor is read once a sweep: the interval at start (like `gcp:`, kept by a reload).
    sweep = SweepReads(ttl=config.schedule.interval.total_seconds())
    return Runtime(
        collect=make_collect(clients, settings, stuck, limits=limits, sweep=sweep),
        stuck_calls=stuck.busy,
        mode=mode,
        clients=clients,
        discover=make_discover(clients, limits=limits),
        sweep_reads=sweep,
    )
