"""Serving a TCP server with a fixed number of threads, whatever the clients do.

The stdlib's `ThreadingHTTPServer` starts a thread per connection: a few hundred clients
that connect and then send nothing (or one byte a second) hold a few hundred threads, and
in a container with a thread limit the scheduler's own threads then fail to start. Here one
thread waits on every open connection with a selector and reads each request head as it
arrives; only a connection whose head is complete is handed to a bounded pool of workers,
which answer at once from memory. A connection whose head does not arrive within
`head_timeout` is closed; beyond `max_pending` open connections the oldest is dropped. So
slow clients cost a socket each, never a thread, and a scrape is answered while they wait.

Requests are heads only (GET and HEAD, no body): the head is the whole request.
"""

from __future__ import annotations

import io
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

_HEAD_END = b"\r\n\r\n"
_BARE_HEAD_END = b"\n\n"
_TOO_LARGE = b"HTTP/1.0 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the server gives any one client, and all of them together."""

    workers: int = 4  # threads answering complete requests
    max_pending: int = 512  # open connections still sending their head
    head_timeout: float = 10.0  # seconds for a request head to arrive in full
    max_head: int = 64 * 1024  # bytes of request head; a longer one is answered 431 and closed
    io_timeout: float = 10.0  # seconds a worker waits on one blocked send before giving up


DEFAULT_LIMITS = Limits()


class HeadOnlyConnection:
    """A connection whose request head was already read: handlers read the head from memory.

    Quacks like the socket for `StreamRequestHandler` (timeouts, TCP options, the write side)
    and for `TCPServer.shutdown_request` (shutdown, close).
    """

    def __init__(self, sock: socket.socket, head: bytes) -> None:
        self._sock = sock
        self._head = head

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        """The request head, for `rfile`; answers are written with `sendall` (`wbufsize` 0)."""
        if mode != "rb":
            raise ValueError(f"only the request head is read as a file, not mode {mode!r}")
        return io.BufferedReader(io.BytesIO(self._head))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@dataclass(slots=True)
class _Pending:
    sock: socket.socket
    address: Any
    deadline: float
    head: bytearray


class Dispatcher:
    """Runs `server`: accepts, gathers request heads, and hands complete ones to `workers` threads."""

    def __init__(
        self,
        server: socketserver.TCPServer,
        limits: Limits = DEFAULT_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server = server
        self._limits = limits
        self._clock = clock
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="metrics-http-worker")
        self._selector = selectors.DefaultSelector()
        self._pending: dict[int, _Pending] = {}  # by file descriptor, oldest first
        self.dropped = 0  # connections closed before their head arrived (timeout, or too many)

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        listener = self._server.socket
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(timeout=poll_interval):
                    if key.fileobj is listener:
                        self._accept(listener)
                    else:
                        self._read(key.fd)
                self._expire()
        finally:
            for fd in list(self._pending):
                self._drop(fd, counted=False)
            self._selector.close()

    def shutdown(self) -> None:
        """Stop accepting and reading; answers in progress finish on their workers."""
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def pending(self) -> int:
        return len(self._pending)

    # -- connections ----------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, address = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # out of file descriptors, or a connection reset before accept
            return
        if len(self._pending) >= self._limits.max_pending:
            self._drop(next(iter(self._pending)))  # the oldest: most likely a slow client
        sock.setblocking(False)
        self._pending[sock.fileno()] = _Pending(sock, address, self._clock() + self._limits.head_timeout, bytearray())
        self._selector.register(sock, selectors.EVENT_READ)

    def _read(self, fd: int) -> None:
        pending = self._pending.get(fd)
        if pending is None:
            return
        try:
            chunk = pending.sock.recv(self._limits.max_head + 1 - len(pending.head))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(fd, counted=False)
            return
        if not chunk:  # the client gave up before finishing its head
            self._drop(fd, counted=False)
            return
        pending.head += chunk
        head = bytes(pending.head)
        if _HEAD_END in head or _BARE_HEAD_END in head:
            self._hand_over(fd, head)
        elif len(head) > self._limits.max_head:
            self._refuse(fd)

    def _hand_over(self, fd: int, head: bytes) -> None:
        pending = self._pending.pop(fd)
        self._selector.unregister(pending.sock)
        pending.sock.setblocking(True)
        pending.sock.settimeout(self._limits.io_timeout)
        try:
            self._pool.submit(self._answer, HeadOnlyConnection(pending.sock, head), pending.address)
        except RuntimeError:  # shutting down
            pending.sock.close()

    def _answer(self, connection: HeadOnlyConnection, address: Any) -> None:
        server = self._server
        try:
            server.finish_request(connection, address)  # type: ignore[arg-type]
        except Exception:
            server.handle_error(connection, address)  # type: ignore[arg-type]
        finally:
            server.shutdown_request(connection)  # type: ignore[arg-type]

    def _refuse(self, fd: int) -> None:
        """A head past `max_head`: answered 431 here, never buffered further nor handed on."""
        sock = self._pending[fd].sock
        try:
            sock.setblocking(True)
            sock.settimeout(1.0)
            sock.sendall(_TOO_LARGE)
        except OSError:
            pass
        self._drop(fd)

    def _expire(self) -> None:
        now = self._clock()
        for fd in [fd for fd, p in self._pending.items() if p.deadline <= now]:
            self._drop(fd)

    def _drop(self, fd: int, *, counted: bool = True) -> None:
        pending = self._pending.pop(fd)
        try:
            self._selector.unregister(pending.sock)
        except (KeyError, ValueError):
            pass
        pending.sock.close()
        if counted:
            self.dropped += 1
