"""Which replica owns a scope: rendezvous (highest-random-weight) hashing over (scope, replica).

Each replica scores every scope with sha256 of `"{scope}/{replica}"` and the highest score
wins. Pure and the same in every process and version (no salt, no process hash seed), so
N replicas agree on the owners without talking to each other; and going from N to N+1
replicas moves only the scopes the new replica now wins (about 1/(N+1) of them), while going
from N to N-1 moves only the removed replica's scopes. The tests pin some owners: changing
this function re-shuffles every estate at the next upgrade.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Shard", "owner", "weight"]


def weight(scope: str, replica: int) -> int:
    """The score of `replica` for `scope`: sha256 of `"{scope}/{replica}"` read as one big integer."""
    return int.from_bytes(hashlib.sha256(f"{scope}/{replica}".encode()).digest(), "big")


def owner(scope: str, count: int) -> int:
    """The replica index (0 to count-1) that watches `scope` among `count` replicas."""
    if count < 1:
        raise ValueError(f"replica count must be at least 1, got {count}")
    return max(range(count), key=lambda replica: weight(scope, replica))


@dataclass(frozen=True, slots=True)
class Shard:
    """This process is replica `index` of `count`: it watches the scopes `owner` gives it."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"replica index must be from 0 to count-1 ({self.count - 1}), got {self.index}")

    def owner(self, scope: str) -> int:
        return owner(scope, self.count)

    def owns(self, scope: str) -> bool:
        return self.owner(scope) == self.index
