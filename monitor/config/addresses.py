"""One grammar for `host:port`: the metrics address in the config and on the command line.

`127.0.0.1:9797`, `[::1]:9797` (IPv6 in brackets), `metrics.internal:9797`; port 0 asks the
kernel for a free one. Everything else is refused with a reason naming what is wrong.
"""

from __future__ import annotations

import ipaddress
import re

_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def split_host_port(value: str) -> tuple[str, int]:
    """`127.0.0.1:9797`, `[::1]:9797`, `metrics.local:9797` → (host, port); ValueError otherwise."""
    usage = f"{value!r} is not host:port (e.g. '127.0.0.1:9797', '[::1]:9797')"
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if not rest.startswith(":"):
            raise ValueError(usage)
        port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{value!r}: {host!r} is not an IPv6 address") from None
    else:
        host, sep, port = value.rpartition(":")
        if not sep or not host:
            raise ValueError(usage)
        if ":" in host:
            raise ValueError(f"{value!r}: write an IPv6 address in brackets, e.g. '[::1]:9797'")
        _check_host(value, host)
    if not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"{value!r}: the port must be a number from 0 to 65535")
    return host, int(port)


def _check_host(value: str, host: str) -> None:
    if re.fullmatch(r"[\d.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"{value!r}: {host!r} is not an IPv4 address") from None
    elif len(host) > 253 or not _HOSTNAME.fullmatch(host):
        raise ValueError(f"{value!r}: {host!r} is not a host name or IP address")
