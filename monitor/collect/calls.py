"""One HTTP call at a time, with OUR retry policy (README, "How it works": the retry table).

The client libraries' own retry is switched off on every call (`retry=None`): Compute's
default retries a 503 for up to 600 s, far past any run deadline, and retries nothing
else we need. Instead this module runs a small explicit loop, rather than
`google.api_core.retry.Retry`, because the table needs things that class cannot express:
a rate limit waits past the next quota-minute boundary (not an exponential step), the
wait is checked against the run's deadline *before* sleeping, every retry is reported to
the observer with the table's reason, and an abandoned run stops its retries at once.

Every attempt is reported to `ApiObserver.request` with the HTTP status (or
`timeout`/`connection`), every retry to `ApiObserver.retry`. A 2xx answer is believed
only once its raw body has the envelope the kind table declares for the method
(`envelope.py`). Failures leave as data: `CallFailed` (the kind is `error`) or
`ServiceDisabled` (the kind is empty, with a note).
Google modules are imported lazily, inside `classify`, so importing this is cheap.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from checks.kinds import APIS, Envelope, answers
from monitor.collect.envelope import UNPARSED, judge, watching
from monitor.collect.observer import ApiObserver
from monitor.collect.ratelimit import RateLimits
from monitor.collect.sweepreads import SweepReads
from monitor.plurals import counted

T = TypeVar("T")

#: API name (the `service` label) -> its title, for "… not enabled" notes
SERVICE_TITLES = {api.name: api.title for api in APIS.values()}
_DISABLED_REASONS = frozenset({"SERVICE_DISABLED", "accessNotConfigured"})
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "RATE_LIMIT_EXCEEDED", "userRateLimitExceeded"})
_RETRIED_STATUSES = frozenset({500, 502, 503, 504})
#: API method id -> the envelope of its answer (`derive` checks a walk's further reads with it)
ANSWERS = answers()
#: pages one listing may take before it is refused as endless (500 a page: 1,000,000 resources)
MAX_PAGES = 2000
#: resources one listing may hold before it is refused, counted page by page as they arrive:
#: twice `evaluation.max_resources`' default (50,000), see `collector.max_items_for`
MAX_ITEMS = 100_000
# api_core prefixes REST error messages with "GET http://host/path: "; the URL adds nothing
# a reader of a control's error needs, the method id already says which call it was.
_URL_PREFIX = re.compile(r"^[A-Z]+ \S+: ")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter; injectable so tests run in milliseconds.

    `max_attempts` counts every attempt, the first included. `quota_window` is the
    period at whose wall-clock boundary a rate-limit quota refills (60 s in GCP).
    """

    initial: float = 1.0
    maximum: float = 30.0
    multiplier: float = 2.0
    max_attempts: int = 5
    quota_window: float = 60.0

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, min(maximum, initial * multiplier**n)]."""
        cap = min(self.maximum, self.initial * self.multiplier**retry_number)
        return cap * rand()

    def past_quota_boundary(self, wall_now: float, rand: Callable[[], float] = random.random) -> float:
        """Seconds until just past the next quota-window boundary (jittered, so runs spread)."""
        window = self.quota_window
        until = (math.floor(wall_now / window) + 1) * window - wall_now
        return until + min(self.initial, window) * rand()


class CallFailed(Exception):
    """A call ended without a usable answer; `str()` is the error a control reports.

    `deadline` is True when the run's deadline decided the outcome (cut or no time left
    to retry), so the run can be counted as cut by its deadline.
    """

    def __init__(self, message: str, *, status: str | None = None, deadline: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.deadline = deadline


class ServiceDisabled(Exception):
    """The API is not enabled in the project: no resources of the kind can exist."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.note = f"{SERVICE_TITLES.get(service, service)} not enabled"
        super().__init__(self.note)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one failed attempt is reported and handled (one row of the retry table)."""

    code: str  # for ApiObserver.request: HTTP status, or timeout|connection|malformed
    message: str
    retry_reason: str | None = None  # for ApiObserver.retry; None: not retried
    disabled: bool = False
    rate_limited: bool = False


def _reasons(exc: Any) -> list[str]:
    """Every machine reason an API error carries: ErrorInfo `reason` and legacy `errors[].reason`."""
    found: list[str] = []
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        found.append(reason)
    for err in getattr(exc, "errors", None) or ():
        value = err.get("reason") if isinstance(err, dict) else getattr(err, "reason", None)
        if isinstance(value, str) and value:
            found.append(value)
    return found


def _api_error(exc: Any) -> Outcome:
    status = int(exc.code) if exc.code is not None else 0
    text = _URL_PREFIX.sub("", str(exc.message or "").strip()) or type(exc).__name__
    return _status_outcome(status, _reasons(exc), text)


def _discovery_reasons(content: bytes) -> list[str]:
    """The machine reasons of a discovery-client error body: ErrorInfo `reason`s, then legacy `errors[].reason`s.

    `HttpError.reason` is the human message, not one of these, so the body is read again.
    """
    try:
        error = json.loads(content).get("error")
    except (ValueError, AttributeError):
        return []
    if not isinstance(error, dict):
        return []
    found: list[str] = []
    for entry in [*(error.get("details") or ()), *(error.get("errors") or ())]:
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if isinstance(reason, str) and reason and reason not in found:
            found.append(reason)
    return found


def _http_error(exc: Any) -> Outcome:
    """A discovery client's `googleapiclient.errors.HttpError`, read into the same table row as
    an api_core error of the same status and reasons (429 rate limit, SERVICE_DISABLED…)."""
    status = int(getattr(exc.resp, "status", 0) or 0)
    content = exc.content if isinstance(exc.content, bytes) else b""
    text = str(exc.reason or "").strip() or type(exc).__name__
    return _status_outcome(status, _discovery_reasons(content), text)


def _status_outcome(status: int, reasons: list[str], text: str) -> Outcome:
    label = f"HTTP {status}" + (f" {reasons[0]}" if reasons else "")
    message = f"{label}: {text}"
    code = str(status)
    if status == 403 and _DISABLED_REASONS.intersection(reasons):
        return Outcome(code, message, disabled=True)
    if status == 429:
        return Outcome(code, message, retry_reason="429", rate_limited=True)
    if status == 403 and _RATE_LIMIT_REASONS.intersection(reasons):
        return Outcome(code, message, retry_reason="rate_limit", rate_limited=True)
    if status in _RETRIED_STATUSES:
        return Outcome(code, message, retry_reason=code)
    return Outcome(code, message)


def classify(exc: BaseException) -> Outcome | None:
    """The retry-table row of an exception raised by one client call; None if it is not one.

    Exceptions that are not about the HTTP exchange (bugs) return None and propagate.
    """
    import requests
    import urllib3.exceptions
    from google.api_core import exceptions as core
    from google.auth import exceptions as auth
    from google.protobuf import json_format

    if isinstance(exc, core.GoogleAPICallError):
        return _api_error(exc)
    discovery = _discovery_outcome(exc)
    if discovery is not None:
        return discovery
    if isinstance(exc, auth.GoogleAuthError):
        # AuthorizedSession raises these on a 401 it cannot fix by refreshing (anonymous
        # credentials: InvalidOperation) or when the token refresh itself is refused.
        return Outcome("401", f"authentication failed: {type(exc).__name__}: {exc}")
    if isinstance(exc, requests.exceptions.Timeout) or (
        isinstance(exc, requests.exceptions.ConnectionError)
        and any(isinstance(arg, urllib3.exceptions.ReadTimeoutError) for arg in exc.args)
    ):
        # requests raises ConnectionError(ReadTimeoutError) when the timeout hits while
        # reading the body, ReadTimeout when it hits before the headers: both are timeouts.
        return Outcome("timeout", f"timed out: {type(exc).__name__}: {exc}", retry_reason="timeout")
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError):
        # A connection dropped mid-body surfaces as ChunkedEncodingError: same cause, same row.
        return Outcome("connection", f"connection failed: {type(exc).__name__}: {exc}", retry_reason="connection")
    if isinstance(exc, json_format.ParseError | json.JSONDecodeError):
        # The transport parses only 2xx bodies, so a parse failure means a 2xx came back.
        # Checked before RequestException: requests' own JSONDecodeError (the handwritten
        # logging client's `response.json()`) is both.
        return Outcome("200", f"malformed response body: {type(exc).__name__}: {exc}")
    if isinstance(exc, requests.exceptions.RequestException):
        return Outcome("connection", f"HTTP request failed: {type(exc).__name__}: {exc}")
    if isinstance(exc, AttributeError) and "has no attribute 'get'" in str(exc):
        # api_core quirk: an error status whose JSON body is not an object.
        return Outcome("malformed", f"malformed error response body: {exc}")
    return None


def _discovery_outcome(exc: BaseException) -> Outcome | None:
    """The row of an error out of a discovery client (googleapiclient over httplib2), or None.

    Looked up only when those modules are loaded already: if they are not, no discovery
    client made the call, and classifying a Compute error never imports them.
    """
    errors = sys.modules.get("googleapiclient.errors")
    if errors is not None and isinstance(exc, errors.HttpError):
        return _http_error(exc)
    httplib2 = sys.modules.get("httplib2")
    if httplib2 is None:
        return None
    if isinstance(exc, TimeoutError):  # httplib2's socket timeout
        return Outcome("timeout", f"timed out: {type(exc).__name__}: {exc}", retry_reason="timeout")
    if isinstance(exc, ConnectionError | httplib2.HttpLib2Error):
        return Outcome("connection", f"connection failed: {type(exc).__name__}: {exc}", retry_reason="connection")
    return None


class _Shared:
    """One shared read: its outcome once `done` is set (a value or the failure)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class SharedReads:
    """Reads shared by the kinds of one run: each (method, resource) is fetched once.

    The ancestry and ancestor-sink kinds both walk project -> folders -> organisation, and
    the project kind reads the project too. Without sharing one run would read the same
    resources two or three times, and could see two versions of the hierarchy. The first
    kind to ask makes the call through its own Caller (observed, retried, bound by the
    deadline); the others wait for that outcome, failures included.
    """

    def __init__(self, sweep: SweepReads | None = None) -> None:
        self._lock = threading.Lock()
        self._reads: dict[tuple[str, str], _Shared] = {}
        self.sweep = sweep  # the reads shared with the other runs of the sweep (ancestors), if any

    def claim(self, method: str, resource: str) -> tuple[_Shared, bool]:
        """The read of (method, resource), and whether the caller must make it (first asker)."""
        with self._lock:
            shared = self._reads.get((method, resource))
            if shared is not None:
                return shared, False
            shared = self._reads[(method, resource)] = _Shared()
            return shared, True


def _again(error: BaseException) -> Exception:
    """A fresh exception telling what `error` told (one exception object is never raised twice)."""
    if isinstance(error, CallFailed):
        return CallFailed(str(error), status=error.status, deadline=error.deadline)
    if isinstance(error, ServiceDisabled):
        return ServiceDisabled(error.service)
    return CallFailed(f"shared read failed: {type(error).__name__}: {error}")


class Caller:
    """Runs single HTTP calls of one API method (one kind) within one run's deadline.

    `deadline` is a `clock()` value; `cancelled` is set when the run abandons its kinds,
    so a call that outlives the run stops retrying as soon as its current attempt ends.
    `shared` (one per run) lets `read_once` share a read between the run's kinds.
    `envelope` is what a 2xx answer must look like (None: not checked, for callers that
    check the JSON they read themselves); `max_pages` bounds a listing (`paging.pages`).
    `max_items` bounds the items the answers it believes list, counted on each answer as
    it arrives (a Caller reads one listing), so an oversized listing is refused before
    the rest of it is fetched, never after all of it is in memory.
    `limits` are the process-wide rate limits: a token of this API before every attempt.
    """

    def __init__(
        self,
        *,
        service: str,
        method: str,
        observer: ApiObserver,
        policy: RetryPolicy,
        call_timeout: float,
        deadline: float,
        cancelled: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        shared: SharedReads | None = None,
        envelope: Envelope | None = None,
        max_pages: int = MAX_PAGES,
        max_items: int = MAX_ITEMS,
        limits: RateLimits | None = None,
    ) -> None:
        self.service = service
        self.method = method
        self.max_pages = max_pages
        self.max_items = max_items
        self.items = 0  # listed by the answers believed so far
        self.answer: Any = None  # the REST JSON of the last answer believed (checked against `envelope`)
        self.answers = 0  # answers believed so far
        self.envelope = envelope
        self._shared = shared
        self._observer = observer
        self._policy = policy
        self._call_timeout = call_timeout
        self._deadline = deadline
        self._cancelled = cancelled if cancelled is not None else threading.Event()
        self._clock = clock
        self._wall_clock = wall_clock
        self._rand = rand
        self._limits = limits

    def derive(self, method: str, service: str | None = None) -> Caller:
        """A Caller for another method within the same run: same deadline, policy, observer, sharing.

        For kinds that make several kinds of call (the ancestry walk): each call is
        observed under its own method id, as the metrics promise, and its answers are
        checked against that method's envelope in the kind table. A method the table
        declares no answer for is a LookupError: a walk's read is never believed unchecked.
        """
        envelope = ANSWERS.get(method)
        if envelope is None:
            raise LookupError(
                f"{method}: no answer envelope declared for this call (checks/kinds.py: its row, or _WALK_READS)"
            )
        return Caller(
            service=service or self.service,
            method=method,
            observer=self._observer,
            policy=self._policy,
            call_timeout=self._call_timeout,
            deadline=self._deadline,
            cancelled=self._cancelled,
            clock=self._clock,
            wall_clock=self._wall_clock,
            rand=self._rand,
            shared=self._shared,
            envelope=envelope,
            max_pages=self.max_pages,
            max_items=self.max_items,
            limits=self._limits,
        )

    def read_once(self, resource: str, attempt: Callable[[float], T], *, across_runs: bool = False) -> T:
        """`self(attempt)`, made once per run for (this method, `resource`); each asker gets its own copy.

        `attempt` must return plain JSON (it is deep-copied). A waiter gives up at the
        run's deadline or when the run is abandoned, like a call would. With `across_runs`
        the read is shared with the other runs of the sweep too (`across_runs_once`).
        """
        return self.load_once(resource, lambda: self(attempt), across_runs=across_runs)

    def load_once(self, resource: str, load: Callable[[], T], *, across_runs: bool = False) -> T:
        """`load()` (plain JSON: one read, or a whole listing through this Caller) made once per run
        for (this method, `resource`), as `read_once`: two kinds of a run reading one listing
        (the project's sinks: LOG-02's kind and LOG-04's) share it, failures included."""

        def made() -> T:
            return self.across_runs_once(resource, load) if across_runs else load()

        if self._shared is None:
            return made()
        shared, mine = self._shared.claim(self.method, resource)
        if mine:
            try:
                shared.value = made()
            except BaseException as exc:
                shared.error = exc
                raise
            finally:
                shared.done.set()
            return copy.deepcopy(shared.value)  # type: ignore[no-any-return]
        self._await(shared.done, f"waiting for another kind's read of {resource}")
        if shared.error is not None:
            raise _again(shared.error)
        return copy.deepcopy(shared.value)  # type: ignore[no-any-return]

    def across_runs_once(self, resource: str, load: Callable[[], T]) -> T:
        """`load()` (plain JSON: one read, or a whole listing) made once per sweep for (this method,
        `resource`) and shared by every run that asks (`SweepReads`), or made now without one.

        For what sits above the projects (an ancestor and its policy and sinks). A failure
        that came from the reading run's own deadline is not kept for the others.
        """
        sweep = self._shared.sweep if self._shared is not None else None
        if sweep is None:
            return load()
        return sweep.read(
            self.method,
            resource,
            load,
            lambda done: self._await(done, f"waiting for another run's read of {resource}"),
            keep_failure=lambda exc: not (isinstance(exc, CallFailed) and exc.deadline),
            renew=_again,
        )

    def _await(self, done: threading.Event, waiting: str) -> None:
        """Wait for `done`; raise CallFailed at the run's deadline or when the run is abandoned."""
        while not done.wait(min(0.05, max(0.0, self._deadline - self._clock()))):
            if self._cancelled.is_set():
                raise CallFailed(f"{self.method}: abandoned at the run deadline ({waiting})", deadline=True)
            if self._clock() >= self._deadline:
                raise CallFailed(f"{self.method}: deadline exceeded ({waiting})", deadline=True)

    def __call__(self, attempt: Callable[[float], T], *, parsed: bool = False, lean: bool = False) -> T:
        """Run `attempt(timeout)` (exactly one HTTP call) until it succeeds or the table says stop.

        `parsed`: `attempt` returns the answer's body parsed as JSON (not a message built
        from it), so the envelope is checked on it rather than on a second parse of the body.
        `lean`: the caller reads the items from `answer` only; the client gets the body
        without them (`envelope.watching`), and the body is parsed once, for both.
        """
        method = self.method
        policy = self._policy
        started = self._clock()
        attempts = 0
        last: Outcome | None = None
        while True:
            if self._cancelled.is_set():
                raise CallFailed(f"{method}: abandoned at the run deadline", deadline=True)
            if self._deadline - self._clock() <= 0:
                raise self._past_deadline(started, last)
            self._token(last)
            remaining = self._deadline - self._clock()
            if remaining <= 0:
                raise self._past_deadline(started, last)
            try:
                with watching(lean=lean) as seen:
                    result = attempt(min(self._call_timeout, remaining))
            except Exception as exc:
                outcome = classify(exc)
                if outcome is None:
                    raise
                self._observer.request(self.service, method, outcome.code)
                if outcome.disabled:
                    raise ServiceDisabled(self.service) from exc
                attempts += 1
                last = outcome
                failed = f"{method}: {outcome.message}"
                if outcome.retry_reason is None:
                    raise CallFailed(failed, status=outcome.code) from exc
                if attempts >= policy.max_attempts:
                    tried = counted(attempts, "attempt")
                    raise CallFailed(f"{failed} (gave up after {tried})", status=outcome.code) from exc
                if outcome.rate_limited:
                    wait = policy.past_quota_boundary(self._wall_clock(), self._rand)
                else:
                    wait = policy.backoff(attempts - 1, self._rand)
                if self._clock() + wait >= self._deadline:
                    raise CallFailed(
                        f"{failed} (gave up after {counted(attempts, 'attempt')}: waiting {wait:.1f}s "
                        f"to retry would pass the run deadline)",
                        status=outcome.code,
                        deadline=True,
                    ) from exc
                self._observer.retry(self.service, outcome.retry_reason)
                if self._cancelled.wait(wait):
                    raise CallFailed(f"{failed} (abandoned at the run deadline)", deadline=True) from exc
                continue
            # The transport raises for every status >= 400, so getting here means a 2xx.
            self._observer.request(self.service, method, "200")
            if self.envelope is not None:
                self._believe(self.envelope, seen.body, result if parsed else seen.parsed)
            return result

    def _believe(self, envelope: Envelope, body: bytes | None, parsed: Any) -> None:
        """Check a 2xx answer against `envelope` and count what it lists; CallFailed if it is refused.

        The body parsed for the check is kept as `answer` (the REST JSON of the last answer
        believed), so a listing can read its items from it instead of converting the client's
        message back to JSON.
        """
        self.answer = None
        if parsed is UNPARSED and body is not None:
            try:
                parsed = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                parsed = UNPARSED  # `judge` parses again and says why it is not JSON
        wrong, items = judge(envelope, body, parsed)
        if wrong is not None:
            raise CallFailed(f"{self.method}: malformed response body: {wrong}", status="200")
        self.answer = parsed
        self.items += items
        self.answers += 1
        if self.items > self.max_items:
            raise CallFailed(
                f"{self.method}: more than max_items {self.max_items} resources "
                f"({self.items} in the first {self.answers} page{'s' if self.answers > 1 else ''}): refused"
            )

    def _past_deadline(self, started: float, last: Outcome | None) -> CallFailed:
        after = self._clock() - started
        cause = f" (last: {last.message})" if last else ""
        return CallFailed(f"{self.method}: deadline exceeded after {after:.1f}s{cause}", deadline=True)

    def _token(self, last: Outcome | None) -> None:
        """Wait for a token of this API's rate limit before an attempt (retries too); fail at once
        when none comes before the run's deadline, so a throttled run ends `error`, never late."""
        bucket = self._limits.bucket(self.service) if self._limits is not None else None
        if bucket is None:
            return
        wait = bucket.reserve(self._deadline - self._clock())
        if wait is None:
            cause = f" (last: {last.message})" if last else ""
            raise CallFailed(
                f"{self.method}: deadline exceeded waiting for the {self.service} rate limit{cause}", deadline=True
            )
        if wait <= 0:
            return
        began = self._clock()
        abandoned = self._cancelled.wait(wait)
        self._observer.throttled(self.service, self._clock() - began)
        if abandoned:
            bucket.refund()
            raise CallFailed(
                f"{self.method}: abandoned at the run deadline (waiting for the {self.service} rate limit)",
                deadline=True,
            )
