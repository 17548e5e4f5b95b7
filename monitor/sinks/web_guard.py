"""Basic auth and the extra response headers of the web config, around every answer.

Runs on the dispatcher's workers, never its I/O thread: a bcrypt check costs tens of
milliseconds by design. A successful check is remembered (a digest of user, hash and
password, never the password), so a Prometheus scraping every few seconds pays bcrypt
once, as exporter-toolkit does; failures are not remembered, and an unknown user is
checked against a decoy hash, so neither the timing nor a cache tells which users exist.
One bcrypt runs at a time, bounding the CPU a password-guessing client can take.

The probes stay usable without credentials, because kubelet's `httpGet` probes send none
(and a password in the pod spec would be readable by anyone who can read the pod):
`/healthz` answers as usual (it says only "ok"), `/readyz` answers its status code with
`{"ready": true|false}` but not which scopes it waits for. Every other route answers 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import bcrypt

__all__ = ["BasicAuth", "Guard", "Render", "UNAUTHORIZED"]

Render = Callable[[bytes], bytes]  # a request head to the whole answer, rendered in memory
UNAUTHORIZED = (
    b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 13\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nUnauthorized\n"
)
_REMEMBERED = 256  # successful checks kept: users × the passwords they rotate through
_READY_STATUS = {b"200": True, b"503": False}


class BasicAuth:
    """Checks an `Authorization` header against `{user: bcrypt hash}`."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = {user: digest.encode() for user, digest in users.items()}
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()  # the cache
        self._bcrypt = threading.Lock()  # one bcrypt at a time
        self._decoy: bytes | None = None
        self.bcrypt_checks = 0  # how many times bcrypt ran (the cache's effect, for tests and curiosity)

    def allows(self, authorization: str | None) -> bool:
        credentials = _credentials(authorization)
        if credentials is None:
            return False
        user, password = credentials
        known = self._users.get(user)
        stored = known if known is not None else self._decoy_hash()
        key = hashlib.sha256(b"\0".join((user.encode(), stored, password))).digest()
        with self._lock:
            if key in self._verified:
                self._verified.move_to_end(key)
                return known is not None
        with self._bcrypt:
            self.bcrypt_checks += 1
            try:
                matches = bcrypt.checkpw(password, stored)
            except ValueError:  # bcrypt 5 refuses passwords over 72 bytes: none is stored
                matches = False
        if not (matches and known is not None):
            return False
        with self._lock:
            self._verified[key] = None
            while len(self._verified) > _REMEMBERED:
                self._verified.popitem(last=False)
        return True

    def _decoy_hash(self) -> bytes:
        """A hash no password matches, as costly as the dearest real one."""
        if self._decoy is None:
            cost = max((int(h.split(b"$")[2]) for h in self._users.values()), default=10)
            self._decoy = bcrypt.hashpw(b"no user has this password", bcrypt.gensalt(rounds=cost))
        return self._decoy


class Guard:
    """What the web config asks of every request: credentials (if `auth`), extra headers."""

    def __init__(self, auth: BasicAuth | None, headers: Mapping[str, str]) -> None:
        self.auth = auth
        self._extra = b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers.items())

    def __call__(self, head: bytes, render: Render) -> bytes:
        if self.auth is not None:
            path, authorization = _request(head)
            if not self.auth.allows(authorization):
                return self._with_headers(_probe_answer(path, head, render))
        return self._with_headers(render(head))

    def _with_headers(self, answer: bytes) -> bytes:
        if not self._extra:
            return answer
        status, sep, rest = answer.partition(b"\r\n")
        return status + sep + self._extra + rest


def _probe_answer(path: str, head: bytes, render: Render) -> bytes:
    """An unauthenticated request: the probes' answers (without detail), 401 for the rest."""
    if path == "/healthz":
        return render(head)
    if path != "/readyz":
        return UNAUTHORIZED
    answer = render(head)
    ready = _READY_STATUS.get(answer[9:12]) if answer.startswith(b"HTTP/") else None
    if ready is None:
        return UNAUTHORIZED
    status = answer.partition(b"\r\n")[0]
    body = (json.dumps({"ready": ready}) + "\n").encode()
    return (
        status
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        + body
    )


def _request(head: bytes) -> tuple[str, str | None]:
    """The path and the `Authorization` header of a request head (whatever its shape)."""
    line, _, rest = head.partition(b"\n")
    parts = line.split()
    path = urlsplit(parts[1].decode("latin-1")).path if len(parts) >= 2 else ""
    try:
        headers = http.client.parse_headers(io.BytesIO(rest))
    except http.client.HTTPException:
        return path, None
    return path, headers.get("Authorization")


def _credentials(authorization: str | None) -> tuple[str, bytes] | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    return user.decode("utf-8", errors="replace"), password
