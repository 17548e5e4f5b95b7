"""Serving a TCP server with a fixed number of threads, whatever the clients do.

The stdlib's `ThreadingHTTPServer` starts a thread per connection: a few hundred clients
that connect and then send nothing (or read nothing) hold a few hundred threads, and in a
container with a thread limit the scheduler's own threads then fail to start. Here one
thread does all the socket I/O with a selector: it reads each request head as it arrives
and, once it is complete, hands it to a bounded pool of workers that answer *into memory*
(every route answers from memory); the same thread then writes the answer out as the
client takes it. So a worker is never blocked by a client: one that dribbles its request
or never reads its answer costs a socket, and is closed at its deadline.

Bounds: a head must arrive within `head_timeout` and be at most `max_head` bytes (else
431); an answer must be taken within `write_timeout`; at most `max_pending` connections
may be sending their head (beyond, the oldest is closed) and at most `max_in_flight` may be
answered or written at once (beyond, 503). Requests are heads only (GET and HEAD).

With TLS (`tls`, an `ssl.SSLContext`) the same thread drives each handshake without
blocking (`do_handshake` on a non-blocking socket, retried as the selector says the socket
is ready); the handshake counts against `head_timeout`, so a client that never finishes it
is closed at that deadline like one that never finishes its head. A client speaking plain
HTTP to the TLS port is told so in plain HTTP (400), as Go's servers do. `middleware`
(basic auth, extra headers) wraps the rendering, on the workers.
"""

from __future__ import annotations

import io
import selectors
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import Any

_HEAD_END = b"\r\n\r\n"
_BARE_HEAD_END = b"\n\n"
_TOO_LARGE = b"HTTP/1.0 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_BUSY = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
_PLAIN_TO_TLS = (
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
    b"Client sent an HTTP request to an HTTPS server.\n"
)
_BROKEN = b"HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_TLS_HANDSHAKE_RECORD = b"\x16"
_ACCEPTS_PER_WAKE = 64
_READS_PER_WAKE = 16
Render = Callable[[bytes], bytes]  # a request head to its whole answer, in memory
Middleware = Callable[[bytes, Render], bytes]  # wraps the rendering (basic auth, extra headers)


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the server gives any one client, and all of them together."""

    workers: int = 4  # threads rendering answers (from memory: microseconds to milliseconds)
    max_pending: int = 512  # open connections still sending their head
    max_in_flight: int = 64  # connections being answered or having their answer written
    head_timeout: float = 10.0  # seconds for a request head to arrive in full
    max_head: int = 64 * 1024  # bytes of request head; a longer one is answered 431 and closed
    write_timeout: float = 10.0  # seconds for a client to take its whole answer


DEFAULT_LIMITS = Limits()


class BufferedConnection:
    """What a request handler sees instead of the socket: the head to read, a buffer to write.

    `StreamRequestHandler` reads `makefile("rb")` and, with `wbufsize` 0, writes through
    `sendall`; neither touches the network, so rendering an answer never waits on a client.
    """

    def __init__(self, head: bytes) -> None:
        self._head = head
        self.output = bytearray()

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"only the request head is read as a file, not mode {mode!r}")
        return io.BufferedReader(io.BytesIO(self._head))

    def sendall(self, data: bytes) -> None:
        self.output += data

    def settimeout(self, value: float | None) -> None:
        """No I/O happens here: the dispatcher times the socket."""

    def setsockopt(self, *args: Any) -> None:
        """TCP options are the dispatcher's: it owns the socket."""

    def shutdown(self, how: int) -> None:
        """The dispatcher closes the socket once the answer is written."""

    def close(self) -> None:
        """The dispatcher closes the socket once the answer is written."""


@dataclass(slots=True)
class _Conn:
    sock: socket.socket
    address: Any
    deadline: float
    tls: ssl.SSLContext | None = None  # set until the socket is wrapped: the handshake is still to come
    handshaking: bool = False
    events: int = selectors.EVENT_READ
    head: bytearray = field(default_factory=bytearray)
    out: bytes = b""
    sent: int = 0


class Dispatcher:
    """Runs `server`: accepts, gathers heads, has workers render answers, writes them out."""

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
        self._reading: dict[int, _Conn] = {}  # sending their head, oldest first
        self._answering: dict[int, _Conn] = {}  # with a worker
        self._writing: dict[int, _Conn] = {}  # answer being taken by the client
        self._done: SimpleQueue[tuple[int, bytes]] = SimpleQueue()  # answers from the workers
        self._wake_read, self._wake_write = socket.socketpair()
        self.dropped = 0  # connections closed at a deadline, or as the oldest of too many
        self.refused = 0  # requests answered 431 (head too large) or 503 (too many in flight)
        self.handshakes_failed = 0  # TLS handshakes refused (no client certificate, bad one, not TLS)
        self.tls: ssl.SSLContext | None = None  # for connections accepted from now on; None: plain HTTP
        self.middleware: Middleware | None = None  # for requests handed over from now on

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        listener = self._server.socket
        listener.setblocking(False)
        self._wake_read.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(timeout=poll_interval):
                    if key.fileobj is listener:
                        self._accept(listener)
                    elif key.fileobj is self._wake_read:
                        self._collect_answers()
                    elif key.fd in self._writing:
                        self._write(key.fd)
                    else:  # reading a head, or a TLS handshake waiting to read or to write
                        self._read(key.fd)
                self._expire()
        finally:
            for table in (self._reading, self._writing, self._answering):
                for conn in table.values():
                    conn.sock.close()
                table.clear()
            self._selector.close()
            self._wake_read.close()
            self._wake_write.close()

    def shutdown(self) -> None:
        """Stop accepting, reading and writing; answers being rendered are dropped."""
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- reading heads ----------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(_ACCEPTS_PER_WAKE):
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of file descriptors, or reset before accept
                return
            if len(self._reading) >= self._limits.max_pending:
                self._drop(self._reading, next(iter(self._reading)))  # the oldest: most likely a slow client
            sock.setblocking(False)
            deadline = self._clock() + self._limits.head_timeout  # the handshake, if any, and the head
            self._reading[sock.fileno()] = _Conn(sock, address, deadline, tls=self.tls)
            self._selector.register(sock, selectors.EVENT_READ)

    def _read(self, fd: int) -> None:
        conn = self._reading.get(fd)
        if conn is None:
            return
        if conn.tls is not None:
            self._start_tls(fd, conn, conn.tls)
            return
        if conn.handshaking:
            self._handshake(fd, conn)
            return
        for _ in range(_READS_PER_WAKE):  # TLS may hold decrypted bytes the selector cannot see
            try:
                chunk = conn.sock.recv(self._limits.max_head + 1 - len(conn.head))
            except ssl.SSLWantReadError:
                self._want(conn, selectors.EVENT_READ)
                return
            except ssl.SSLWantWriteError:
                self._want(conn, selectors.EVENT_WRITE)
                return
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # reset, or a TLS alert
                self._close(self._reading, fd)
                return
            if not chunk:  # the client gave up before finishing its head
                self._close(self._reading, fd)
                return
            self._want(conn, selectors.EVENT_READ)
            conn.head += chunk
            head = bytes(conn.head)
            if _HEAD_END in head or _BARE_HEAD_END in head:
                self._hand_over(fd, head)
                return
            if len(head) > self._limits.max_head:
                self._reply_now(fd, _TOO_LARGE)
                return
            if not (isinstance(conn.sock, ssl.SSLSocket) and conn.sock.pending()):
                return

    # -- TLS ---------------------------------------------------------------------------------

    def _start_tls(self, fd: int, conn: _Conn, context: ssl.SSLContext) -> None:
        """The first bytes are readable: a TLS handshake gets wrapped, plain HTTP gets a 400."""
        try:
            first = conn.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(self._reading, fd)
            return
        if not first:
            self._close(self._reading, fd)
            return
        conn.tls = None
        if first != _TLS_HANDSHAKE_RECORD:
            self.handshakes_failed += 1
            self._reply_now(fd, _PLAIN_TO_TLS)
            return
        self._selector.unregister(conn.sock)  # the wrapped socket takes over the same descriptor
        try:
            conn.sock = context.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False)
        except (ssl.SSLError, OSError):
            self._reading.pop(fd)
            conn.sock.close()
            self.handshakes_failed += 1
            return
        conn.handshaking = True
        conn.events = selectors.EVENT_READ
        self._selector.register(conn.sock, selectors.EVENT_READ)
        self._handshake(fd, conn)

    def _handshake(self, fd: int, conn: _Conn) -> None:
        assert isinstance(conn.sock, ssl.SSLSocket)
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._want(conn, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._want(conn, selectors.EVENT_WRITE)
            return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # no or a bad client certificate, no common version or suite, a reset
            self.handshakes_failed += 1
            self._close(self._reading, fd)
            return
        conn.handshaking = False
        self._read(fd)  # the request may have come with the handshake's last flight

    def _want(self, conn: _Conn, events: int) -> None:
        if conn.events != events:
            conn.events = events
            self._selector.modify(conn.sock, events)

    def _hand_over(self, fd: int, head: bytes) -> None:
        if len(self._answering) + len(self._writing) >= self._limits.max_in_flight:
            self._reply_now(fd, _BUSY)
            return
        conn = self._reading.pop(fd)
        self._selector.unregister(conn.sock)
        self._answering[fd] = conn
        try:
            self._pool.submit(self._render, fd, head, conn.address, self.middleware)
        except RuntimeError:  # shutting down
            self._close(self._answering, fd)

    def _reply_now(self, fd: int, reply: bytes) -> None:
        """Answer from this thread without a worker (refusals), then close once written."""
        self.refused += 1
        conn = self._reading.pop(fd)
        self._selector.unregister(conn.sock)
        self._start_writing(fd, conn, reply)

    # -- answering (on a worker) -------------------------------------------------------------

    def _render(self, fd: int, head: bytes, address: Any, middleware: Middleware | None) -> None:
        server = self._server

        def render(request: bytes) -> bytes:
            connection = BufferedConnection(request)
            try:
                server.finish_request(connection, address)  # type: ignore[arg-type]  # a socket stand-in
            except Exception:
                server.handle_error(connection, address)  # type: ignore[arg-type]  # a socket stand-in
            return bytes(connection.output)

        try:
            answer = render(head) if middleware is None else middleware(head, render)
        except Exception:  # a bug in the middleware: answer, never leave the connection hanging
            server.handle_error(BufferedConnection(head), address)  # type: ignore[arg-type]  # a socket stand-in
            answer = _BROKEN
        self._done.put((fd, answer))
        try:
            self._wake_write.send(b"x")
        except OSError:  # stopped meanwhile
            pass

    # -- writing answers -----------------------------------------------------------------------

    def _collect_answers(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while True:
            try:
                fd, answer = self._done.get_nowait()
            except Empty:
                return
            conn = self._answering.pop(fd, None)
            if conn is not None:
                self._start_writing(fd, conn, answer)

    def _start_writing(self, fd: int, conn: _Conn, answer: bytes) -> None:
        conn.out, conn.sent = answer, 0
        conn.deadline = self._clock() + self._limits.write_timeout
        conn.events = selectors.EVENT_WRITE
        self._writing[fd] = conn
        self._selector.register(conn.sock, selectors.EVENT_WRITE)
        self._write(fd)

    def _write(self, fd: int) -> None:
        conn = self._writing.get(fd)
        if conn is None:
            return
        try:
            conn.sent += conn.sock.send(memoryview(conn.out)[conn.sent :])
        except ssl.SSLWantWriteError:
            self._want(conn, selectors.EVENT_WRITE)
            return
        except ssl.SSLWantReadError:
            self._want(conn, selectors.EVENT_READ)
            return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # the client went away
            self._close(self._writing, fd)
            return
        self._want(conn, selectors.EVENT_WRITE)
        if conn.sent >= len(conn.out):
            if isinstance(conn.sock, ssl.SSLSocket):
                try:  # TLS's close_notify; the client's own is not waited for
                    conn.sock.unwrap()
                except (OSError, ValueError):
                    pass
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self._close(self._writing, fd)

    # -- deadlines -------------------------------------------------------------------------------

    def _expire(self) -> None:
        now = self._clock()
        for table in (self._reading, self._writing):
            for fd in [fd for fd, conn in table.items() if conn.deadline <= now]:
                self._drop(table, fd)

    def _drop(self, table: dict[int, _Conn], fd: int) -> None:
        self._close(table, fd)
        self.dropped += 1

    def _close(self, table: dict[int, _Conn], fd: int) -> None:
        conn = table.pop(fd)
        try:
            self._selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
