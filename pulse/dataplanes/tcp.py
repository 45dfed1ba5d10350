"""The userspace dataplane's TCP side: raw sockets driven by readiness callbacks.

A `TcpListener` accepts every waiting connection in one readiness callback;
each becomes a `Link` to the chosen backend, reached with a non-blocking
connect that, to a local backend, completes at once. A `Pipe` per direction
moves bytes: `recv_into` a buffer shared by the pool, then `send` to the
other side. When the other side cannot take a chunk, the rest is held and
reading that direction stops until it drains, so memory stays bounded. No
task, stream or transport is made per connection: a proxied connection costs
two sockets, two objects per direction and a handful of syscalls.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
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
    if code == 0:
        link.stream()
    elif code == errno.EINPROGRESS:
        link.wait_connect()
    else:
        logger.debug("backend %s:%s: errno %s", backend.address, backend.port, code)
        link.abort()


class Link:
    """One proxied TCP connection: the client side and the backend side."""

    __slots__ = (
        "pool",
        "backend",
        "client",
        "server",
        "eofs",
        "done",
        "closed",
        "last",
        "timer",
    )

    def __init__(self, pool: Pool, backend: Backend, client: socket.socket) -> None:
        self.pool, self.backend, self.client = pool, backend, client
        self.server: socket.socket | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.eofs = 0  # FINs received
        self.done = 0  # directions finished: FIN received and passed on
        self.closed = False
        self.last = _monotonic()  # the last byte or FIN either way
        backend.active += 1
        backend.conns += 1
        pool.links.add(self)
        pool.version += 1

    def wait_connect(self) -> None:
        """The connect is in progress: wait (bounded) for it to finish."""
        assert self.server is not None
        loop = self.pool.loop
        loop.add_writer(self.server.fileno(), self._connected)
        self.timer = loop.call_later(CONNECT_TIMEOUT, self.abort)

    def _connected(self) -> None:
        assert self.server is not None
        self.pool.loop.remove_writer(self.server.fileno())
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        code = self.server.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            backend = self.backend
            logger.debug("backend %s:%s: errno %s", backend.address, backend.port, code)
            self.abort()
        else:
            self.stream()

    def stream(self) -> None:
        """Both sides are up: forward each way.

        The client's first bytes waited in its socket until now, so nothing
        is held in the meantime.
        """
        assert self.server is not None
        Pipe(self, self.client, self.server, True).start()
        Pipe(self, self.server, self.client, False).start()

    def half_closed(self) -> None:
        # IPVS counts a connection past its FIN as inactive.
        self.last = _monotonic()
        self.pool.version += 1
        self.eofs += 1
        if self.eofs == 1:
            self.backend.active -= 1
            self.backend.inactive += 1

    def close(self) -> None:
        """Stop watching both sockets and close them (a FIN where pending)."""
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
        if self.timer is not None:
            self.timer.cancel()
        loop = pool.loop
        for sock in (self.client, self.server):
            if sock is not None:
                fd = sock.fileno()
                if fd >= 0:
                    loop.remove_reader(fd)
                    loop.remove_writer(fd)
                sock.close()

    def abort(self) -> None:
        """End the connection at once, whatever either side still sends."""
        self.close()


class Pipe:
    """One direction of a link: bytes from `src` to `dst`."""

    __slots__ = ("link", "src", "dst", "src_fd", "dst_fd", "inbound", "held", "eof")

    def __init__(
        self, link: Link, src: socket.socket, dst: socket.socket, inbound: bool
    ) -> None:
        self.link, self.src, self.dst, self.inbound = link, src, dst, inbound
        self.src_fd, self.dst_fd = src.fileno(), dst.fileno()
        self.held = b""  # what dst could not take yet
        self.eof = False

    def start(self) -> None:
        self.link.pool.loop.add_reader(self.src_fd, self.readable)

    def readable(self) -> None:
        link = self.link
        view = link.pool.buffer
        try:
            size = self.src.recv_into(view, CHUNK, _DONTWAIT)
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
            sent = self.dst.send(view[:size], _DONTWAIT)
        except _AGAIN:
            sent = 0
        except OSError:
            link.abort()
            return
        if sent < size:  # dst is full: hold the rest, stop reading until it drains
            self.held = bytes(view[sent:size])
            loop = link.pool.loop
            loop.remove_reader(self.src_fd)
            loop.add_writer(self.dst_fd, self.writable)

    def count(self, size: int) -> None:
        link = self.link
        if self.inbound:
            link.backend.bytes_in += size
        else:
            link.backend.bytes_out += size
        link.pool.version += 1
        link.last = _monotonic()

    def writable(self) -> None:
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
        loop = link.pool.loop
        loop.remove_writer(self.dst_fd)
        if self.eof:
            self.shut()
        else:
            loop.add_reader(self.src_fd, self.readable)

    def ended(self) -> None:
        """src sent its FIN: pass it on once what is held is sent."""
        link = self.link
        link.pool.loop.remove_reader(self.src_fd)
        self.eof = True
        link.half_closed()
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
