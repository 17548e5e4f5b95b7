"""Collectors: the only code that talks to Google APIs (imported lazily, see `clients`).

Importing this package imports no Google module; the first client built does.
"""

from checks.kinds import KindSpec
from monitor.collect.calls import CallFailed, RetryPolicy, ServiceDisabled
from monitor.collect.clients import CredentialsMissing, GcpClients, make_clients
from monitor.collect.collector import Collection, CollectSettings, StuckCalls, collect_snapshot
from monitor.collect.kinds import FETCHES, KINDS
from monitor.collect.observer import ApiObserver, NullObserver

__all__ = [
    "FETCHES",
    "KINDS",
    "ApiObserver",
    "CallFailed",
    "CollectSettings",
    "Collection",
    "CredentialsMissing",
    "GcpClients",
    "KindSpec",
    "NullObserver",
    "RetryPolicy",
    "ServiceDisabled",
    "StuckCalls",
    "collect_snapshot",
    "make_clients",
]
