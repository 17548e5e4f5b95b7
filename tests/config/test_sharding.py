"""`shard:` read from the file or, for `statefulset`, from the pod's environment: the ordinal at the
end of the pod name and `CONTROLWATCH_SHARDS`; a missing or malformed variable is named."""

from __future__ import annotations

import pytest

from monitor.config.model import parse_config
from monitor.config.sharding import ShardConfig, ShardError, shard_from
from monitor.run.shard import Shard

BASE = "scopes: {projects: [{id: shop-prod}]}\n"


def setting(text: str) -> ShardConfig | None:
    return parse_config(BASE + text, "cw.yaml").shard


def test_unset_means_one_process_owns_every_scope() -> None:
    assert shard_from(setting(""), {}) is None


def test_a_fixed_shard_ignores_the_environment() -> None:
    assert shard_from(setting("shard: {index: 2, count: 5}\n"), {"CONTROLWATCH_SHARDS": "9"}) == Shard(2, 5)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CONTROLWATCH_POD_NAME": "controlwatch-3", "CONTROLWATCH_SHARDS": "4"}, Shard(3, 4)),
        ({"HOSTNAME": "controlwatch-0", "CONTROLWATCH_SHARDS": "1"}, Shard(0, 1)),
        ({"CONTROLWATCH_POD_NAME": "cw-12", "HOSTNAME": "other-1", "CONTROLWATCH_SHARDS": "16"}, Shard(12, 16)),
    ],
)
def test_statefulset_reads_the_ordinal_and_the_count(environ: dict[str, str], expected: Shard) -> None:
    assert shard_from(setting("shard: statefulset\n"), environ) == expected


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CONTROLWATCH_SHARDS": "4"}, "neither CONTROLWATCH_POD_NAME nor HOSTNAME is set"),
        ({"CONTROLWATCH_POD_NAME": "controlwatch", "CONTROLWATCH_SHARDS": "4"}, "CONTROLWATCH_POD_NAME='controlwatch'"),
        ({"HOSTNAME": "laptop.local", "CONTROLWATCH_SHARDS": "4"}, "HOSTNAME='laptop.local' does not end with"),
        ({"CONTROLWATCH_POD_NAME": "controlwatch-1"}, "CONTROLWATCH_SHARDS is not set"),
        ({"CONTROLWATCH_POD_NAME": "controlwatch-1", "CONTROLWATCH_SHARDS": "four"}, "CONTROLWATCH_SHARDS='four'"),
        ({"CONTROLWATCH_POD_NAME": "controlwatch-1", "CONTROLWATCH_SHARDS": "0"}, "CONTROLWATCH_SHARDS='0'"),
        ({"CONTROLWATCH_POD_NAME": "controlwatch-4", "CONTROLWATCH_SHARDS": "4"}, "is replica 4, but"),
    ],
)
def test_statefulset_names_the_variable_at_fault(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ShardError, match="shard: statefulset: ") as caught:
        shard_from(setting("shard: statefulset\n"), environ)
    assert named in str(caught.value)


def test_the_file_reads_the_same_on_every_replica() -> None:
    loaded = parse_config(BASE + "shard: statefulset\n", "cw.yaml")
    assert loaded.model_dump(mode="json")["shard"] == "statefulset"
    fixed = parse_config(BASE + "shard: {index: 1, count: 3}\n", "cw.yaml")
    assert fixed.model_dump(mode="json")["shard"] == {"index": 1, "count": 3}
