"""The userspace dataplane's TCP side: raw sockets on an edge-triggered epoll.

A `TcpListener` accepts every waiting connection in one readiness callback;
each becomes a `Link` to the chosen backend, reached with a non-blocking
connect. The two sockets of a link are watched by the dataplane's `Poller`,
one epoll set (edge-triggered) that the event loop watches as a single fd:
each socket is added once and leaves the set when it is closed, so a
proxied connection costs two epoll_ctl calls, no task, stream, transport or
timer. A `Pipe` per direction moves bytes: `recv_into` the pool's buffer,
then `send` to the other side. When the other side cannot take a chunk, the
rest is held and that direction reads nothing until it drains, so memory
stays bounded.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import select
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .userspace import Backend, Pool

logger = logging.getLogger(__name__)

BACKLOG = 1024
ACCEPT_BATCH = 64  # connections accepted per readiness callback at most
CHUNK = 64 * 1024  # bytes read per call; the size of the pool's buffer
CONNECT_TIMEOUT = 10.0  # seconds to reach a backend before giving up

_monotonic = time.monotonic  # bound once: read for every chunk moved
_DONTWAIT = socket.MSG_DONTWAIT  # accepted sockets are left blocking: no fcntl
_AGAIN = (BlockingIOError, InterruptedError)
_WATCH = select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET
_IN, _OUT = select.EPOLLIN, select.EPOLLOUT
_ERR = select.EPOLLERR  # a reset or other error: the link ends at once
_FAILED = _ERR | select.EPOLLHUP
_ENDING = select.EPOLLRDHUP | _FAILED  # read on until the end or the error
_BATCH = 512  # events taken per wake-up


class Poller:
    """One edge-triggered epoll set for the proxied sockets of a dataplane."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.epoll = select.epoll()
        self.handlers: dict[int, Callable[[int], None]] = {}
        loop.add_reader(self.epoll.fileno(), self._dispatch)

    def add(self, fd: int, handler: Callable[[int], None]) -> None:
        self.handlers[fd] = handler
        self.epoll.register(fd, _WATCH)

    def forget(self, fd: int) -> None:
        """Before `fd` is closed (closing it takes it out of the epoll set)."""
        self.handlers.pop(fd, None)

    def _dispatch(self) -> None:
        # Sockets are only closed here, never opened (accepts and connects
        # run from the listener's callback), so an fd in this batch cannot
        # be a new socket that reused a closed one's number.
        handlers = self.handlers
        for fd, events in self.epoll.poll(0, _BATCH):
            handler = handlers.get(fd)
            if handler is not None:
                handler(events)

    def close(self) -> None:
        if not self.epoll.closed:
            self.loop.remove_reader(self.epoll.fileno())
            self.epoll.close()


def make_buffer() -> memoryview:
    """A pool's read buffer (one loop thread uses it, one chunk at a time)."""
    return memoryview(bytearray(CHUNK))


class TcpListener:
    """A listening socket whose connections go to `pool`.

    TCP_NODELAY is set here once: accepted sockets inherit it.
    """

    def __init__(self, pool: Pool, address: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, port))
            sock.listen(BACKLOG)
        except OSError:
            sock.close()
            raise
        self.pool, self.sock = pool, sock
        self.fd = sock.fileno()
        pool.loop.add_reader(self.fd, self._accept)

    def _accept(self) -> None:
        accept, pool = self.sock.accept, self.pool
        for _ in range(ACCEPT_BATCH):
            try:
                conn, peer = accept()
            except _AGAIN:
                return
            except OSError as exc:  # ECONNABORTED, EMFILE...: try again later
                logger.debug("accept: %s", exc)
                return
            open_link(pool, conn, peer)

    def close(self) -> None:
        if self.fd >= 0:
            self.pool.loop.remove_reader(self.fd)
            self.sock.close()
            self.fd = -1


def open_link(pool: Pool, conn: socket.socket, peer: tuple[str, int]) -> None:
    """Pick a backend for a new client connection and start connecting to it."""
    client = target = ""
    if pool.persistence is not None or pool.scheduler.needs_client:
        client = peer[0]
    if pool.scheduler.needs_target:
        target = conn.getsockname()[0]
    backend = pool.pick(client, target)
    if backend is None:
        conn.close()  # no server: the client is turned away at once
        return
    link = Link(pool, backend, conn)
    try:
        family = socket.AF_INET6 if ":" in backend.address else socket.AF_INET
        server = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    except OSError as exc:
        logger.debug("backend socket: %s", exc)
        link.abort()
        return
    link.server = server
    try:
        server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = server.connect_ex((backend.address, backend.port))
    except OSError as exc:
        code = exc.errno or errno.EINVAL
    if code not in (0, errno.EINPROGRESS):
        logger.debug("backend %s:%s: errno %s", backend.address, backend.port, code)
        link.abort()
        return
    # Done or not, the first EPOLLOUT says the connect is over (swept after
    # CONNECT_TIMEOUT otherwise).
    pool.poller.add(server.fileno(), link.server_event)


class Link:
    """One proxied TCP connection: the client side and the backend side."""

    __slots__ = (
        "pool",
        "backend",
        "client",
        "server",
        "up",
        "down",
        "eofs",
        "done",
        "closed",
        "last",
    )

    def __init__(self, pool: Pool, backend: Backend, client: socket.socket) -> None:
        self.pool, self.backend, self.client = pool, backend, client
        self.server: socket.socket | None = None
        self.up: Pipe | None = None  # client to backend; None while connecting
        self.down: Pipe | None = None
        self.eofs = 0  # FINs received
        self.done = 0  # directions finished: FIN received and passed on
        self.closed = False
        self.last = _monotonic()  # the last byte or FIN either way
        backend.active += 1
        backend.conns += 1
        pool.links.add(self)
        pool.version += 1

    @property
    def connecting(self) -> bool:
        return self.up is None

    def server_event(self, events: int) -> None:
        up, down = self.up, self.down
        if up is None or down is None:  # the connect is over
            if events & _FAILED or not events & _OUT:
                backend = self.backend
                logger.debug("backend %s:%s unreachable", backend.address, backend.port)
                self.abort()
                return
            up, down = self.stream()
        elif events & _ERR:
            self.abort()
            return
        if events & _OUT and up.held:
            up.flush()
        if events & _IN or events & _ENDING:
            down.pump(events & _ENDING)

    def client_event(self, events: int) -> None:
        up, down = self.up, self.down
        assert up is not None and down is not None
        if events & _ERR:
            self.abort()
            return
        if events & _OUT and down.held:
            down.flush()
        if events & _IN or events & _ENDING:
            up.pump(events & _ENDING)

    def stream(self) -> tuple[Pipe, Pipe]:
        """Both sides are up: forward each way.

        The client's first bytes waited in its socket until now; adding it
        to the epoll set reports them.
        """
        assert self.server is not None
        self.up = up = Pipe(self, self.client, self.server, True)
        self.down = down = Pipe(self, self.server, self.client, False)
        self.pool.poller.add(self.client.fileno(), self.client_event)
        return up, down

    def half_closed(self) -> None:
        # IPVS counts a connection past its FIN as inactive.
        self.last = _monotonic()
        self.pool.version += 1
        self.eofs += 1
        if self.eofs == 1:
            self.backend.active -= 1
            self.backend.inactive += 1

    def close(self) -> None:
        """Close both sockets (a FIN after what they still hold)."""
        if self.closed:
            return
        self.closed = True
        pool = self.pool
        pool.version += 1
        if self.eofs:
            self.backend.inactive -= 1
        else:
            self.backend.active -= 1
        pool.links.discard(self)
        forget = pool.poller.forget
        for sock in (self.client, self.server):
            if sock is not None:
                forget(sock.fileno())
                sock.close()

    def abort(self) -> None:
        """End the connection at once, whatever either side still sends."""
        self.close()


class Pipe:
    """One direction of a link: bytes from `src` to `dst`."""

    __slots__ = ("link", "src", "dst", "inbound", "held", "eof")

    def __init__(
        self, link: Link, src: socket.socket, dst: socket.socket, inbound: bool
    ) -> None:
        self.link, self.src, self.dst, self.inbound = link, src, dst, inbound
        self.held = b""  # what dst could not take yet; nothing is read meanwhile
        self.eof = False

    def pump(self, drain: int) -> None:
        """Move what src has to dst.

        Edge-triggered: a read shorter than the buffer emptied the socket
        (new bytes bring a new event), unless `drain` says a FIN or an error
        is queued behind the bytes: then read on to it.
        """
        if self.held or self.eof:
            return
        link = self.link
        view = link.pool.buffer
        recv_into, send = self.src.recv_into, self.dst.send
        while True:
            try:
                size = recv_into(view, CHUNK, _DONTWAIT)
            except _AGAIN:
                return
            except OSError:
                link.abort()
                return
            if not size:
                self.ended()
                return
            self.count(size)
            try:
                sent = send(view[:size], _DONTWAIT)
            except _AGAIN:
                sent = 0
            except OSError:
                link.abort()
                return
            if sent < size:  # dst is full: hold the rest until it drains
                self.held = bytes(view[sent:size])
                return
            if size < CHUNK and not drain:
                return

    def count(self, size: int) -> None:
        link = self.link
        if self.inbound:
            link.backend.bytes_in += size
        else:
            link.backend.bytes_out += size
        link.pool.version += 1
        link.last = _monotonic()

    def flush(self) -> None:
        """dst has room again: send what is held, then read src again."""
        link = self.link
        try:
            sent = self.dst.send(self.held, _DONTWAIT)
        except _AGAIN:
            return
        except OSError:
            link.abort()
            return
        self.held = self.held[sent:]
        if self.held:
            return
        if self.eof:
            self.shut()
        else:  # events from src were passed over meanwhile: read to the end
            self.pump(1)

    def ended(self) -> None:
        """src sent its FIN: pass it on once what is held is sent."""
        self.eof = True
        self.link.half_closed()
        if not self.held:
            self.shut()

    def shut(self) -> None:
        link = self.link
        if link.done:  # the other way is done too: the close sends the FIN
            link.close()
            return
        link.done = 1
        try:
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            link.abort()
