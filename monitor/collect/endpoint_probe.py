"""One connection attempt to `gcp.api_endpoint` before any collection.

Every Google call retries, so an endpoint that cannot be reached (a copied config still
pointing at the stand-in, a typo in the port) would otherwise surface as one connection
error per kind collected, after a minute of retries. A single TCP connect says it at once,
in one line naming the URL and the reason.
"""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

#: seconds the probe waits for a connection at most (a slow network still answers in that)
PROBE_TIMEOUT = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


def unreachable(endpoint: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why `endpoint` (an http(s) URL) cannot be reached, as a one-line message; None if it can."""
    parts = urlsplit(endpoint)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 443)
    except ValueError:
        return f"cannot reach {endpoint}: not a valid port"
    host = parts.hostname or ""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except TimeoutError:
        return f"cannot reach {endpoint}: no answer within {timeout:g}s"
    except socket.gaierror as exc:
        return f"cannot reach {endpoint}: host {host!r} not found ({exc.strerror or exc})"
    except OSError as exc:
        return f"cannot reach {endpoint}: {_reason(exc)}"


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()
