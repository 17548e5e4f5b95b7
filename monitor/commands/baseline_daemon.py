"""`controlwatch baseline diff` against a running daemon: the drift-watched state it last
collected and the approved baseline it reads, from `GET /baseline/live` on its metrics port.

Why ask the daemon: it is what raised the DRIFT error, it already holds the state it judged,
and it reads the baseline store the approval must go to; the on-call's machine needs neither
Google credentials nor a copy of that store. The address is `--daemon URL`, else the
config's `metrics.listen` (a wildcard bind is reached on loopback), else `127.0.0.1:9797`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from monitor.commands.common import fail
from monitor.config.addresses import split_host_port
from monitor.config.model import Config

DEFAULT_URL = "http://127.0.0.1:9797"
ROUTE = "/baseline/live"  # monitor.drift.live.ROUTE: the daemon's side
#: `--daemon` given without a value: the address of the config's `metrics.listen`.
FROM_CONFIG = "from-config"
_TIMEOUT = 10.0  # seconds: the route reads memory and one SQLite row set
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def daemon_url(given: str | None, config: Config | None) -> str:
    """The daemon's base URL: `given`, else `metrics.listen` of `config`, else the default."""
    if given and given != FROM_CONFIG:
        parts = urllib.parse.urlsplit(given)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            fail(f"--daemon: {given!r} is not an http:// or https:// URL (e.g. {DEFAULT_URL})")
        return given.rstrip("/")
    if config is None:
        return DEFAULT_URL
    host, port = split_host_port(config.metrics.listen)
    host = _WILDCARDS.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(slots=True)
class DaemonLive:
    """The live drift state of a running daemon, read once per scope."""

    url: str
    _read: dict[str, dict[str, Any]] = field(default_factory=dict)

    def scopes(self) -> list[str]:
        """The daemon's scopes with DRIFT controls that have run."""
        scopes = self._get({}).get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            fail(f"the daemon at {self.url} answered {ROUTE} without a list of scopes")
        if not scopes:
            fail(f"the daemon at {self.url} has no scope with DRIFT controls enabled that has finished a run yet")
        return scopes

    def document(self, scope: str) -> dict[str, Any]:
        """`{"collected_at", "controls": {control: state}, "errors": {control: why}, "baseline"}`."""
        if scope not in self._read:
            doc = self._get({"scope": scope})
            if not isinstance(doc.get("controls"), dict) or not isinstance(doc.get("errors"), dict):
                fail(f"the daemon at {self.url} answered {ROUTE} for {scope} without its controls")
            self._read[scope] = doc
        return self._read[scope]

    def controls(self, scope: str) -> list[str]:
        """The DRIFT controls the daemon runs on `scope`."""
        doc = self.document(scope)
        return sorted({*doc["controls"], *doc["errors"]})

    def state(self, scope: str, controls: list[str]) -> dict[str, dict[str, Any]]:
        """The state of each of `controls` as the daemon last collected it; exit 2 when one
        was not collected or the daemon does not run it."""
        doc = self.document(scope)
        for control in controls:
            if control in doc["errors"]:
                fail(f"the daemon at {self.url} could not read the live state of {scope} for {control} at "
                     f"{doc.get('collected_at')}: {doc['errors'][control]}")  # fmt: skip
            if control not in doc["controls"]:
                fail(f"{control} is not enabled for scope {scope} on the daemon at {self.url}")
        return {control: doc["controls"][control] for control in controls}

    def baseline(self, scope: str) -> dict[str, Any] | None:
        """The approved baseline the daemon reads for `scope` (None: none approved)."""
        baseline = self.document(scope).get("baseline")
        return baseline if isinstance(baseline, dict) else None

    def _get(self, query: dict[str, str]) -> dict[str, Any]:
        target = self.url + ROUTE + (f"?{urllib.parse.urlencode(query)}" if query else "")
        try:
            with urllib.request.urlopen(target, timeout=_TIMEOUT) as response:  # noqa: S310 - operator-given URL
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            fail(f"the daemon at {self.url} answered {exc.code} to {ROUTE}: {_said(exc)}")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            fail(
                f"cannot reach the daemon at {self.url} ({reason}): start it, pass --daemon URL, or --config FILE "
                "to collect the live state here"
            )
        except ValueError as exc:
            fail(f"the daemon at {self.url} answered {ROUTE} with something that is not JSON: {exc}")
        if not isinstance(body, dict):
            fail(f"the daemon at {self.url} answered {ROUTE} with JSON that is not an object")
        return body


def _said(exc: urllib.error.HTTPError) -> str:
    """The daemon's own error message (its JSON `error`), else the HTTP reason."""
    try:
        message = json.loads(exc.read()).get("error")
    except (ValueError, AttributeError, OSError):
        message = None
    return str(message) if message else str(exc.reason)
