"""Counts in what people read: `1 checkpoint`, `2 checkpoints`, never `1 checkpoints`."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and `noun`, the noun plural unless the count is one (`plural` for irregular ones)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def is_are(count: int) -> str:
    """The verb agreeing with `count`'s noun."""
    return "is" if count == 1 else "are"
