"""What collectors report about their own work, for the exporter to count.

A Protocol, so collectors never import prometheus_client and tests can pass a recorder.
"""

from __future__ import annotations

from typing import Protocol


class ApiObserver(Protocol):
    def request(self, service: str, method: str, code: str) -> None:
        """One HTTP call to a Google API ended: `code` is the HTTP status or `timeout|connection`."""

    def retry(self, service: str, reason: str) -> None:
        """A call is retried; `reason` is one of the retry table's rows (e.g. `429`, `503`, `rate_limit`)."""

    def collection(self, kind: str, seconds: float) -> None:
        """Collecting one kind for one scope took `seconds` (successful or not)."""

    def throttled(self, service: str, seconds: float) -> None:
        """A call waited `seconds` for a token of our own rate limit of `service` (`gcp.rate_limits`)."""


class NullObserver:
    """Counts nothing: for one-off commands that export no metrics."""

    def request(self, service: str, method: str, code: str) -> None:
        return None

    def retry(self, service: str, reason: str) -> None:
        return None

    def collection(self, kind: str, seconds: float) -> None:
        return None

    def throttled(self, service: str, seconds: float) -> None:
        return None
