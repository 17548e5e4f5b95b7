"""`controlwatch_scope_owned{scope}` and `controlwatch_shard_info{index,count}`: who watches what.

Each replica says 1 for every scope it schedules and 0 for every watched scope it knows
another replica owns, so `sum by (scope) (controlwatch_scope_owned)` over the replicas is
the number of replicas watching a scope: 1 when the shards agree, 0 for a scope nobody
watches (a replica missing, or counts that disagree), 2 while two replicas both think it is
theirs. One process alone (no `shard:`) owns every scope: 1 each, index 0 of count 1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from monitor.run.shard import Shard

OWNED = "controlwatch_scope_owned"
INFO = "controlwatch_shard_info"


class ShardCollector:
    """Both families, read from the last watched set the daemon applied."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned: dict[str, int] = {}
        self._shard = Shard(0, 1)

    def set_ownership(self, shard: Shard | None, owned: Iterable[str], elsewhere: Iterable[str]) -> None:
        table = {scope: 0 for scope in elsewhere}
        table.update({scope: 1 for scope in owned})
        with self._lock:
            self._owned = table
            self._shard = shard if shard is not None else Shard(0, 1)

    def describe(self) -> list[Metric]:
        return list(self._families({}, None))

    def collect(self) -> list[Metric]:
        with self._lock:
            owned, shard = dict(self._owned), self._shard
        return list(self._families(owned, shard))

    @staticmethod
    def _families(owned: dict[str, int], shard: Shard | None) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        scopes = GaugeMetricFamily(
            OWNED,
            "1 for each scope this replica watches, 0 for each watched scope another replica owns.",
            labels=["scope"],
        )
        for scope in sorted(owned):
            scopes.add_metric([scope], owned[scope])
        info = GaugeMetricFamily(
            INFO, "Always 1: this replica's index and the replica count it shards by.", labels=["index", "count"]
        )
        if shard is not None:
            info.add_metric([str(shard.index), str(shard.count)], 1)
        return scopes, info
