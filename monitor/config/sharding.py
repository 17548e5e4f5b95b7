"""`shard:`: which of several replicas this process is, so each watches only the scopes it owns.

Unset, one process watches every scope. `{index: I, count: N}` fixes it in the file; the word
`statefulset` reads it from the pod: the index is the ordinal a Kubernetes StatefulSet ends
each pod name with (`controlwatch-3` is 3), from `CONTROLWATCH_POD_NAME` or else `HOSTNAME`,
and the count from `CONTROLWATCH_SHARDS`. The environment is read when the daemon starts
(`shard_from`), never while the file is validated, so the file's digest and
`controlwatch config` are the same on every replica.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_serializer, model_validator

from monitor.config.errors import describe
from monitor.config.grammar import Frozen
from monitor.run.shard import Shard

__all__ = ["MAX_REPLICAS", "POD_NAME", "SHARDS", "ShardConfig", "ShardError", "shard_from"]

STATEFULSET = "statefulset"
POD_NAME = "CONTROLWATCH_POD_NAME"
SHARDS = "CONTROLWATCH_SHARDS"
MAX_REPLICAS = 1000
_ORDINAL = re.compile(r"-(\d+)$")
_FORMS = f"write '{STATEFULSET}' or a mapping {{index: I, count: N}}"


class ShardError(ValueError):
    """The replica cannot tell which one it is: the message names the variable or key at fault."""


class ShardConfig(Frozen):
    """The `shard:` setting as written: fixed (`index`, `count`) or read from the StatefulSet pod."""

    index: int | None = Field(default=None, ge=0, strict=True)
    count: int | None = Field(default=None, ge=1, le=MAX_REPLICAS, strict=True)
    statefulset: bool = False

    @model_validator(mode="before")
    @classmethod
    def _one_of_two_forms(cls, value: Any) -> Any:
        if isinstance(value, ShardConfig):
            return value
        if value == STATEFULSET:
            return {"statefulset": True}
        if isinstance(value, str):
            raise ValueError(f"{value!r} is not a shard setting: {_FORMS}")
        if not isinstance(value, dict):
            raise ValueError(f"expected '{STATEFULSET}' or a mapping {{index: I, count: N}}, got {describe(value)}")
        if "statefulset" in value:
            raise ValueError(f"unknown key 'statefulset': {_FORMS}")
        return value

    @model_serializer
    def _as_written(self) -> str | dict[str, int | None]:
        return STATEFULSET if self.statefulset else {"index": self.index, "count": self.count}

    def problems(self) -> list[tuple[tuple[str, ...], str]]:
        """What only the two keys together get wrong (key path under `shard`, reason)."""
        if self.statefulset:
            return []
        if self.index is None or self.count is None:
            missing = "index" if self.index is None else "count"
            return [((missing,), f"missing required key: a fixed shard needs both index and count ({_FORMS})")]
        if self.index >= self.count:
            return [(("index",), f"index {self.index} is not below count {self.count}: replicas are 0 to count-1")]
        return []


def shard_from(setting: ShardConfig | None, environ: Mapping[str, str]) -> Shard | None:
    """This process's shard, reading the pod's environment for `statefulset`; None: it owns every scope."""
    if setting is None:
        return None
    if not setting.statefulset:
        assert setting.index is not None and setting.count is not None  # the file's validation saw to it
        return Shard(setting.index, setting.count)
    name_var = POD_NAME if environ.get(POD_NAME) else "HOSTNAME"
    name = environ.get(name_var, "")
    if not name:
        raise ShardError(f"shard: {STATEFULSET}: neither {POD_NAME} nor HOSTNAME is set: the pod name gives the index")
    ordinal = _ORDINAL.search(name)
    if ordinal is None:
        raise ShardError(
            f"shard: {STATEFULSET}: {name_var}={name!r} does not end with a StatefulSet ordinal (NAME-0, NAME-1, ...)"
        )
    raw = environ.get(SHARDS, "")
    if not raw:
        raise ShardError(f"shard: {STATEFULSET}: {SHARDS} is not set: it must say how many replicas there are")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_REPLICAS:
        raise ShardError(f"shard: {STATEFULSET}: {SHARDS}={raw!r} is not a replica count from 1 to {MAX_REPLICAS}")
    index, count = int(ordinal.group(1)), int(raw)
    if index >= count:
        raise ShardError(
            f"shard: {STATEFULSET}: {name_var}={name!r} is replica {index}, but {SHARDS}={count} "
            f"(replicas 0 to {count - 1}): set {SHARDS} to the StatefulSet's replicas"
        )
    return Shard(index, count)
