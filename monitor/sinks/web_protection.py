"""What protects the metrics port, loaded from `metrics.web_config_file`: TLS and a guard.

Loaded at the start (a bad file fails it, naming the key) and at every SIGHUP reload (a bad
file keeps the running protection, like a bad config). A port bound beyond loopback with
neither TLS nor basic auth serves the estate's failing controls to anyone who can reach it:
that is logged as `metrics_port_unprotected` so it is a choice, not an oversight.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import structlog

from monitor.config.web_config import WebConfig, load_web_config
from monitor.sinks.web_guard import BasicAuth, Guard
from monitor.sinks.web_tls import server_context

__all__ = ["NO_PROTECTION", "WebProtection", "is_loopback", "load_protection", "warn_if_unprotected"]

log = structlog.get_logger("controlwatch.metrics_port")


@dataclass(frozen=True, slots=True)
class WebProtection:
    """The TLS context for new connections (None: plain HTTP) and the guard around answers."""

    tls: ssl.SSLContext | None = None
    guard: Guard | None = None
    source: str | None = None  # the web config file it came from

    @property
    def basic_auth(self) -> bool:
        return self.guard is not None and self.guard.auth is not None

    @property
    def describe(self) -> str:
        parts = [name for name, on in (("tls", self.tls is not None), ("basic_auth", self.basic_auth)) if on]
        return "+".join(parts) or "none"


NO_PROTECTION = WebProtection()


def load_protection(path: str | Path | None) -> WebProtection:
    """The protection `path` describes (None: none); `WebConfigError` when the file is unusable."""
    if path is None:
        return NO_PROTECTION
    config = load_web_config(path)
    return protection_from(config, str(path))


def protection_from(config: WebConfig, source: str) -> WebProtection:
    tls = server_context(config.tls_server_config, source) if config.tls_server_config is not None else None
    auth = BasicAuth(config.basic_auth_users) if config.basic_auth_users else None
    headers = config.http_server_config.headers
    guard = Guard(auth, headers) if auth is not None or headers else None
    return WebProtection(tls=tls, guard=guard, source=source)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (a name other than `localhost` counts as reachable)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_unprotected(host: str, port: int, protection: WebProtection) -> bool:
    """Log `metrics_port_unprotected` for a port beyond loopback with no TLS and no basic auth."""
    if is_loopback(host) or protection.tls is not None or protection.basic_auth:
        return False
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    log.warning(
        "metrics_port_unprotected",
        address=address,
        reason="bound beyond loopback with neither TLS nor basic auth: anyone who reaches it reads the results",
        fix="set metrics.web_config_file (tls_server_config, basic_auth_users), or bind to 127.0.0.1",
    )
    return True
