"""Reading Cloud Logging filters the way the LOG controls need: emptiness and CIS tokens.

This is token matching, not a parser of the Logging query language. A filter is
normalised (whitespace runs collapsed to one space, lower-cased), and a token matches
where it stands as a whole word: not preceded or followed by a letter, digit, `_` or `/`,
so `gce_route` does not match inside `gce_router`, nor `roles/owner` inside the custom
role `projects/p/roles/owner`, while `compute.firewalls.insert` does match inside
`"v1.compute.firewalls.insert"`. A token under `NOT` still counts as
present: telling negation apart needs the parser that this is not (known limit, shared
with every anchor scanner).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = "a-z0-9_/"  # characters that continue a token: a match must not touch them


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces, trimmed, lower-cased."""
    return " ".join(text.split()).lower()


def is_empty(text: str) -> bool:
    """An empty or whitespace-only filter: the Logging API treats it as matching every entry."""
    return not text.strip()


def has_token(text: str, token: str) -> bool:
    """Whether `token` stands as a whole word in the filter `text` (case-insensitive)."""
    pattern = rf"(?<![{_WORD}]){re.escape(normalise(token))}(?![{_WORD}])"
    return re.search(pattern, normalise(text)) is not None


def tokens_in(text: str, tokens: Iterable[str]) -> tuple[str, ...]:
    """The `tokens` that `text` contains, in their given order and spelling."""
    return tuple(token for token in tokens if has_token(text, token))


def excerpt(text: str, limit: int = 80) -> str:
    """A filter for a reason: normalised whitespace (case kept), cut at `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
