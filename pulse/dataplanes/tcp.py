"""The userspace dataplane's TCP side: one proxied connection, both halves.

A `Link` joins a client's connection to the VIP (`ClientSide`) and the one
to the chosen backend (`ServerSide`). Bytes are moved by the transports: a
chunk read from one side is written to the other with no per-byte Python
work, and reading pauses while the other side's buffer is full. The backend
is reached with a non-blocking connect that, to a local backend, completes
at once: no resolver, no timer and no read pause in the common case.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import time
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .userspace import Backend, Pool

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds to reach a backend before the client is reset
PENDING_LIMIT = 64 * 1024  # bytes held from a client while its backend connects

_monotonic = time.monotonic  # bound once: read for every chunk moved


class Link:
    """One proxied TCP connection: the client side and the backend side."""

    __slots__ = ("pool", "backend", "client", "server", "eofs", "closed", "last")

    def __init__(self, pool: Pool, backend: Backend) -> None:
        self.pool, self.backend = pool, backend
        self.client: asyncio.Transport | None = None
        self.server: asyncio.Transport | None = None
        self.eofs = 0
        self.closed = False
        self.last = _monotonic()  # the last byte or FIN either way
        backend.active += 1
        backend.conns += 1
        pool.links.add(self)
        pool.version += 1

    def half_closed(self) -> None:
        # IPVS counts a connection past its FIN as inactive.
        self.last = _monotonic()
        self.pool.version += 1
        self.eofs += 1
        if self.eofs == 1:
            self.backend.active -= 1
            self.backend.inactive += 1

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.pool.version += 1
        if self.eofs:
            self.backend.inactive -= 1
        else:
            self.backend.active -= 1
        self.pool.links.discard(self)
        for transport in (self.client, self.server):
            if transport is not None:
                transport.close()

    def abort(self) -> None:
        for transport in (self.client, self.server):
            if transport is not None:
                transport.abort()
        self.close()


class _Side(asyncio.Protocol):
    """Common half of a proxied connection: forward, mirror flow control."""

    link: Link | None = None
    transport: asyncio.Transport | None = None

    def peer(self) -> asyncio.Transport | None:
        raise NotImplementedError

    def count(self, size: int) -> None:
        raise NotImplementedError

    def data_received(self, data: bytes) -> None:
        peer = self.peer()
        if peer is not None:
            peer.write(data)
            self.count(len(data))

    def eof_received(self) -> bool:
        link = self.link
        if link is not None:
            link.half_closed()
            if link.eofs >= 2:  # both sides are done: the close sends the FIN
                link.close()
                return True
        peer = self.peer()
        if peer is not None and peer.can_write_eof():
            peer.write_eof()
        return True

    def pause_writing(self) -> None:
        peer = self.peer()
        if peer is not None:
            peer.pause_reading()

    def resume_writing(self) -> None:
        peer = self.peer()
        if peer is not None and not peer.is_closing():
            peer.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.link is not None:
            self.link.close()


class ServerSide(_Side):
    """The connection to the backend."""

    def __init__(self, link: Link) -> None:
        self.link = link

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def peer(self) -> asyncio.Transport | None:
        return self.link.client if self.link else None

    def count(self, size: int) -> None:
        link = self.link
        if link is not None:
            link.backend.bytes_out += size
            link.pool.version += 1
            link.last = _monotonic()


class ClientSide(_Side):
    """A client's connection to the VIP.

    Until the backend connection is up, what the client sends is held here;
    reading pauses only when more than PENDING_LIMIT bytes wait (a paused and
    resumed transport costs two more poll changes per connection).
    """

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.pending: list[bytes] | None = []
        self.pending_size = 0
        self.pending_eof = False
        self.paused = False

    def data_received(self, data: bytes) -> None:
        if self.pending is not None:
            self.pending.append(data)
            self.pending_size += len(data)
            if self.pending_size > PENDING_LIMIT and self.transport is not None:
                self.transport.pause_reading()
                self.paused = True
            return
        super().data_received(data)

    def eof_received(self) -> bool:
        if self.pending is not None:
            self.pending_eof = True
            return True
        return super().eof_received()

    def connected(self) -> None:
        """The backend is reachable: send what was held, then stream."""
        held, self.pending = self.pending or [], None
        for data in held:
            super().data_received(data)
        if self.pending_eof:
            super().eof_received()
        elif (
            self.paused
            and self.transport is not None
            and not self.transport.is_closing()
        ):
            self.paused = False
            self.transport.resume_reading()

    def peer(self) -> asyncio.Transport | None:
        return self.link.server if self.link else None

    def count(self, size: int) -> None:
        link = self.link
        if link is not None:
            link.backend.bytes_in += size
            link.pool.version += 1
            link.last = _monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = transport = cast(asyncio.Transport, transport)
        backend = self.pool.pick(*self._addresses(transport))
        if backend is None:
            transport.abort()  # no server: the client sees a reset, as with IPVS
            return
        self.link = link = Link(self.pool, backend)
        link.client = transport
        try:
            sock, pending = _start_connect(backend)
        except OSError as exc:
            logger.debug("backend %s:%s: %s", backend.address, backend.port, exc)
            link.abort()
            return
        self.pool.loop.create_task(self._attach(link, sock, pending))

    def _addresses(self, transport: asyncio.Transport) -> tuple[str, str]:
        """(client, target) addresses, looked up only when the pool needs them."""
        pool = self.pool
        client = target = ""
        if pool.persistence is not None or pool.scheduler.needs_client:
            client = transport.get_extra_info("peername")[0]
        if pool.scheduler.needs_target:
            target = transport.get_extra_info("sockname")[0]
        return client, target

    async def _attach(self, link: Link, sock: socket.socket, pending: bool) -> None:
        """Wait for the backend's connect if it is still going, then stream."""
        loop = self.pool.loop
        try:
            if pending:
                await _connected(loop, sock)
            transport, _ = await loop.create_connection(
                lambda: ServerSide(link), sock=sock
            )
        except (OSError, TimeoutError) as exc:
            backend = link.backend
            logger.debug("backend %s:%s: %s", backend.address, backend.port, exc)
            sock.close()
            link.abort()
            return
        link.server = transport
        if link.closed:
            transport.close()
        else:
            self.connected()


def _start_connect(backend: Backend) -> tuple[socket.socket, bool]:
    """A non-blocking connect to the backend; (socket, still in progress).

    To a local backend the handshake completes inside connect(), so the
    common case needs no wait and no timer: only the transport is made.
    """
    family = socket.AF_INET6 if ":" in backend.address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    try:  # (the transport sets TCP_NODELAY)
        code = sock.connect_ex((backend.address, backend.port))
        if code not in (0, errno.EINPROGRESS):
            raise OSError(code, os.strerror(code))
    except OSError:
        sock.close()
        raise
    return sock, code != 0


async def _connected(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """Wait (bounded) for a connect in progress; raise its error."""
    done: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()

    def writable() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_writer(fd, writable)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await done
    finally:
        loop.remove_writer(fd)
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, os.strerror(code))
