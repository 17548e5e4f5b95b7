"""The opaque `page_token` of `/results`: where the next page starts, bound to the page's filters.

A token names the last (control, scope) pair of the page it came with, so the next page
starts right after it even when runs (or a reload) changed the store in between: no pair
is listed twice and none that stayed is skipped. It carries a digest of the filters it was
made under: the same token with other filters is refused rather than silently mixing
two listings. Not a secret and not signed: it only says where to start reading.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping

_VERSION = 1


class BadPageToken(ValueError):
    """A `page_token` this server did not give, or gave for other filters (answered 400)."""


def _filters_digest(filters: Mapping[str, str]) -> str:
    text = json.dumps(sorted(filters.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make(after: tuple[str, str], filters: Mapping[str, str]) -> str:
    """The token of the page that follows the pair `after`, under `filters`."""
    body = {"v": _VERSION, "after": list(after), "filters": _filters_digest(filters)}
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")


def read(token: str, filters: Mapping[str, str]) -> tuple[str, str]:
    """The pair a page starts after; BadPageToken when `token` is not one of ours for `filters`."""
    try:
        body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise BadPageToken("query parameter 'page_token' is not a token this server gave") from None
    after = body.get("after") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or body.get("v") != _VERSION
        or not isinstance(after, list)
        or len(after) != 2
        or not all(isinstance(part, str) for part in after)
    ):
        raise BadPageToken("query parameter 'page_token' is not a token this server gave")
    if body.get("filters") != _filters_digest(filters):
        raise BadPageToken(
            "query parameter 'page_token' was given for other filters: repeat the filters of the first page"
        )
    return after[0], after[1]
