"""Rendezvous hashing: pinned owners (a change would re-shuffle every estate at an upgrade), and
scaling by one replica moves only the scopes it must."""

from __future__ import annotations

import hashlib

import pytest

from monitor.run.shard import Shard, owner, weight

SCOPES = [f"proj-{i:04d}" for i in range(2000)]


def test_the_weight_is_sha256_of_scope_slash_replica_as_an_integer() -> None:
    expected = int(hashlib.sha256(b"shop-prod/0").hexdigest(), 16)
    assert weight("shop-prod", 0) == expected
    assert hex(weight("shop-prod", 0)).startswith("0x90be9ade6079a822")


@pytest.mark.parametrize(
    ("scope", "owners"),
    [
        ("shop-prod", [0, 0, 2, 2, 2]),
        ("ledger-prod", [0, 0, 0, 0, 0]),
        ("p-0000", [0, 1, 2, 2, 2]),
        ("p-0999", [0, 0, 0, 0, 0]),
    ],
)
def test_pinned_owners_for_one_to_five_replicas(scope: str, owners: list[int]) -> None:
    assert [owner(scope, count) for count in range(1, 6)] == owners


def test_every_replica_gets_a_fair_share() -> None:
    for count in (2, 3, 4, 5):
        shares = [sum(1 for s in SCOPES if owner(s, count) == r) for r in range(count)]
        fair = len(SCOPES) / count
        assert all(abs(share - fair) < 0.15 * fair for share in shares), shares


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_adding_a_replica_moves_about_a_share_and_only_to_the_new_replica(count: int) -> None:
    before = {s: owner(s, count) for s in SCOPES}
    after = {s: owner(s, count + 1) for s in SCOPES}
    moved = [s for s in SCOPES if before[s] != after[s]]
    assert all(after[s] == count for s in moved)
    fair = len(SCOPES) / (count + 1)
    assert abs(len(moved) - fair) < 0.15 * fair


@pytest.mark.parametrize("count", [2, 3, 4, 5, 8])
def test_removing_a_replica_moves_only_its_scopes(count: int) -> None:
    before = {s: owner(s, count) for s in SCOPES}
    after = {s: owner(s, count - 1) for s in SCOPES}
    moved = {s for s in SCOPES if before[s] != after[s]}
    assert moved == {s for s in SCOPES if before[s] == count - 1}


def test_a_shard_owns_what_owner_gives_its_index() -> None:
    shards = [Shard(i, 4) for i in range(4)]
    for scope in SCOPES[:200]:
        assert [s.index for s in shards if s.owns(scope)] == [owner(scope, 4)]


@pytest.mark.parametrize(("index", "count"), [(4, 4), (-1, 3), (0, 0)])
def test_an_index_outside_the_count_is_refused(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="replica index must be from 0"):
        Shard(index, count)


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        owner("shop-prod", 0)
