"""Our own request rate per Google API, so a sweep of a whole estate stays inside Google's quotas.

Google counts every read against the quota project of the caller's credentials, per API
and per minute, whichever project the read is about; so there is one token bucket per
API for the whole process (`gcp.rate_limits`), and `Caller` takes a token before every
attempt, retries included. A bucket holds at most one second of its rate, so in any
minute it lets through at most `rate * 60 + burst` requests: below the quota when the
rate is.

Tokens are reserved, not polled: each taker is handed its own moment (the bucket may go
into debt), so callers waiting for tokens are served one by one at the rate, never all
at once when the bucket refills. A taker that would have to wait past its run's deadline
takes nothing and fails at once; one abandoned while waiting gives its token back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up (default: one second's worth, at least 1)."""

    def __init__(self, rate: float, *, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be more than 0, got {rate!r}")
        self.rate = rate
        self.burst = max(1.0, rate) if burst is None else burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._stamp = clock()

    def reserve(self, within: float) -> float | None:
        """Take a token: the seconds to wait before using it, or None (nothing taken) when that
        wait would reach `within` seconds (the time left before the caller's deadline)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = max(0.0, (1.0 - self._tokens) / self.rate)
            if wait > 0 and wait >= within:
                return None
            self._tokens -= 1.0
            return wait

    def refund(self) -> None:
        """Give back a reserved token that was never used (its call was abandoned while it waited)."""
        with self._lock:
            self._tokens = min(self.burst, self._tokens + 1.0)


class RateLimits:
    """One bucket per API (`service` label); an API without a rate is not limited."""

    def __init__(self, rates: Mapping[str, float], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = dict(rates)
        self._buckets = {api: TokenBucket(rate, clock=clock) for api, rate in rates.items()}

    def bucket(self, api: str) -> TokenBucket | None:
        return self._buckets.get(api)
