"""A small typed client for the stand-in's `/_standin/` control API.

For tests that run the stand-in in another process (the daemon under test, the demo)
and still need to inject faults, reset state and count calls. Needs only `requests`.
"""

from __future__ import annotations

from typing import Any

import requests

from monitor.standin.requestlog import RequestRecord


class ControlError(RuntimeError):
    """The control API refused a request (a bad fault, an unknown route)."""


class StandInControl:
    """Drives a running stand-in at `url` (`http://127.0.0.1:PORT`)."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, verb: str, what: str, **kwargs: Any) -> Any:
        response = self._session.request(verb, f"{self.url}/_standin/{what}", timeout=self.timeout, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            message = data.get("error", {}).get("message") if isinstance(data, dict) else response.text
            raise ControlError(f"{verb} /_standin/{what}: {response.status_code} {message}")
        return data

    def add_fault(
        self,
        method: str = "*",
        *,
        kind: str = "status",
        status: int | None = None,
        project: str | None = None,
        reason: str | None = None,
        message: str | None = None,
        delay: float = 0.0,
        times: int | None = None,
    ) -> int:
        """Inject a fault (see `monitor.standin.faults.Fault`); returns its id."""
        fault = {
            "method": method,
            "kind": kind,
            "status": status,
            "project": project,
            "reason": reason,
            "message": message,
            "delay": delay,
            "times": times,
        }
        data = self._call("POST", "faults", json=fault)
        return int(data["id"])

    def faults(self) -> list[dict[str, Any]]:
        """The active faults, each with its `id` and `remaining` uses."""
        return list(self._call("GET", "faults")["faults"])

    def remove_fault(self, fault_id: int) -> bool:
        return bool(self._call("DELETE", f"faults/{fault_id}")["removed"])

    def clear_faults(self) -> int:
        return int(self._call("DELETE", "faults")["cleared"])

    def requests(self, method: str | None = None) -> list[RequestRecord]:
        """Logged API requests, optionally of one API method id."""
        params = {"method": method} if method else None
        data = self._call("GET", "requests", params=params)
        return [RequestRecord.from_json(r) for r in data["requests"]]

    def written_entries(self, log_name: str | None = None) -> list[dict[str, Any]]:
        """Log entries written through `entries:write` since the last reset (one logName's, or all)."""
        params = {"logName": log_name} if log_name else None
        return list(self._call("GET", "entries", params=params)["entries"])

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def reset(self) -> None:
        """Clear faults, the request log and written log entries."""
        self._call("POST", "reset")

    def load(self, scenario: dict[str, Any]) -> list[str]:
        """Serve another scenario (a parsed document); returns its projectIds."""
        return list(self._call("POST", "scenario", json=scenario)["projects"])

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "health"))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> StandInControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
