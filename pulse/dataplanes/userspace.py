"""The embedded dataplane: an asyncio TCP and UDP proxy on each VIP:port.

No root needed. Each service is a `Pool` of backends with an IPVS scheduler
(`pulse.schedulers`) and, when persistent, a template table; virtual servers
sharing a firewall mark listen on each of their addresses into one pool.
Bytes are moved by the transports: a chunk read from one side is written to
the other with no per-byte Python work, and reading pauses while the other
side's buffer is full. Weight 0 takes no new connections; existing ones
continue, also when a backend is removed.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import lvscf

from ..lvs import DataplaneError, Endpoint, Entry, ServiceKey, ServiceSpec, Table
from ..schedulers import PersistenceTable, Scheduler, make_scheduler
from .udp import UdpFlow, UdpFront

logger = logging.getLogger(__name__)

BACKLOG = 1024
SWEEP = 1.0  # seconds between sweeps for idle TCP connections
CONNECT_TIMEOUT = 10.0  # seconds to reach a backend before the client is reset
PENDING_LIMIT = 64 * 1024  # bytes held from a client while its backend connects


_monotonic = time.monotonic  # bound once: read for every chunk moved


@dataclass
class Timeouts:
    """Idle timeouts of proxied connections, in seconds: ipvsadm --set's three.

    `tcp` ends an established connection nothing has crossed for that long,
    `tcpfin` one half-closed (a FIN seen from one side), `udp` a UDP flow.
    A 0 in lvs.cf leaves the kernel's default, so these are IPVS's defaults
    (`ipvsadm -L --timeout`: 900 120 300).
    """

    tcp: float = 900.0
    tcpfin: float = 120.0
    udp: float = 300.0

    @classmethod
    def from_config(cls, config: lvscf.Config) -> Timeouts:
        default = cls()
        return cls(
            float(config.tcp_timeout or default.tcp),
            float(config.tcpfin_timeout or default.tcpfin),
            float(config.udp_timeout or default.udp),
        )


class Backend:
    """A real server in a pool, with the counters ipvsadm -L shows."""

    __slots__ = (
        "address",
        "port",
        "weight",
        "active",
        "inactive",
        "conns",
        "bytes_in",
        "bytes_out",
    )

    def __init__(self, address: str, port: int, weight: int) -> None:
        self.address, self.port, self.weight = address, port, weight
        self.active = self.inactive = self.conns = 0
        self.bytes_in = self.bytes_out = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "weight": self.weight,
            "active": self.active,
            "inactive": self.inactive,
            "conns": self.conns,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
        }


class Pool:
    """One service: its scheduler, persistence and backends."""

    def __init__(self, spec: ServiceSpec, timeouts: Timeouts | None = None) -> None:
        # Bound once: asyncio.get_running_loop() costs a getpid() syscall.
        self.loop = asyncio.get_running_loop()
        self.timeouts = timeouts or Timeouts()  # shared: a reload changes them
        # Bumped on every change the status shows (dests, counters), so a
        # status poll re-serializes only the services that changed.
        self.version = 0
        self.backends: dict[Endpoint, Backend] = {}
        self._weights: dict[Endpoint, int] = {}  # as last set
        self.links: set[Link] = set()
        self.flows: set[UdpFlow] = set()
        self.spec = spec
        self.scheduler: Scheduler[Backend] = make_scheduler(spec.scheduler)
        self.persistence: PersistenceTable[Backend] | None = None
        self.configure(spec)

    def configure(self, spec: ServiceSpec) -> None:
        """Take new settings; a new scheduler or persistence starts afresh."""
        old, self.spec = self.spec, spec
        self.version += 1
        if spec.scheduler != old.scheduler:
            self.scheduler = make_scheduler(spec.scheduler)
            self.scheduler.update(list(self.backends.values()))
        if (spec.persistent, spec.pmask) != (old.persistent, old.pmask) or (
            spec.persistent and self.persistence is None
        ):
            self.persistence = (
                PersistenceTable(spec.persistent, spec.pmask, time.monotonic)
                if spec.persistent
                else None
            )

    def set_dests(self, dests: Mapping[Endpoint, int]) -> None:
        """Take the table's real servers; unchanged ones keep their counters.

        Runs on every health change of any real server, so an unchanged pool
        costs one dict comparison, and a changed one touches only the
        differences.
        """
        old = self._weights
        if dests == old:
            return
        backends = self.backends
        for endpoint in old.keys() - dests.keys():
            del backends[endpoint]
        for endpoint, weight in dests.items():
            if old.get(endpoint) != weight:
                backend = backends.get(endpoint)
                if backend is None:
                    backends[endpoint] = Backend(*endpoint, weight)
                else:
                    backend.weight = weight
        self._weights = dict(dests)
        self.version += 1
        self.scheduler.update(list(backends.values()))

    def pick(self, client: str, target: str) -> Backend | None:
        """The backend for a new connection, persistence first."""
        if self.persistence is not None:
            pinned = self.persistence.lookup(client, self.scheduler.dests)
            if pinned is None:
                pinned = self.scheduler.pick(client, target)
            if pinned is not None:
                self.persistence.remember(client, pinned)
            return pinned
        return self.scheduler.pick(client, target)

    def expire(self, now: float) -> None:
        """End the connections idle past their timeout (tcpfin once half-closed)."""
        tcp, tcpfin = self.timeouts.tcp, self.timeouts.tcpfin
        for link in [
            link
            for link in self.links
            if now - link.last > (tcpfin if link.eofs else tcp)
        ]:
            link.abort()

    def counters(self) -> dict[str, Any]:
        dests = {f"{a}:{p}": b.as_dict() for (a, p), b in self.backends.items()}
        totals = {
            k: sum(d[k] for d in dests.values())
            for k in ("active", "inactive", "conns", "bytes_in", "bytes_out")
        }
        return {**totals, "dests": dests}


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


class Service:
    """A pool and the sockets it listens on."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.listeners: dict[tuple[str, str, int], Listener] = {}


Listener = asyncio.AbstractServer | UdpFront


class UserspaceDataplane:
    """The in-process proxy dataplane."""

    name = "userspace"

    def __init__(self) -> None:
        self._services: dict[ServiceKey, Service] = {}
        self.timeouts = Timeouts()
        self._sweeper: asyncio.TimerHandle | None = None

    async def configure(self, config: lvscf.Config) -> None:
        """ipvsadm --set's timeouts become the proxied connections' idle times."""
        fresh = Timeouts.from_config(config)
        # One object shared by every pool and UDP front: changed in place.
        self.timeouts.tcp, self.timeouts.tcpfin = fresh.tcp, fresh.tcpfin
        self.timeouts.udp = fresh.udp

    def _sweep(self) -> None:
        now = _monotonic()
        for service in self._services.values():
            service.pool.expire(now)
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(SWEEP, self._sweep)

    async def apply(self, table: Table) -> None:
        """Open every new socket first; only then switch, in one step."""
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP, self._sweep)
        pools, opened = await self._open_listeners(table)
        for key in list(self._services):
            if key not in table:
                self._close_service(self._services.pop(key))
        for key, pool in pools.items():
            self._services[key] = Service(pool)
        for key, entry in table.items():
            self._switch(key, entry, opened)

    async def _open_listeners(
        self, table: Table
    ) -> tuple[dict[ServiceKey, Pool], dict[tuple[str, str, int], Listener]]:
        pools: dict[ServiceKey, Pool] = {}
        opened: dict[tuple[str, str, int], Listener] = {}
        try:
            for key, entry in table.items():
                have = self._services.get(key)
                pool = (
                    have.pool
                    if have
                    else pools.setdefault(key, Pool(entry.spec, self.timeouts))
                )
                for where in entry.spec.listen:
                    if have is None or where not in have.listeners:
                        opened[where] = await self._listen(where, pool)
        except OSError as exc:
            for listener in opened.values():
                listener.close()
            raise DataplaneError(f"cannot listen: {exc}") from exc
        return pools, opened

    async def _listen(self, where: tuple[str, str, int], pool: Pool) -> Listener:
        protocol, address, port = where
        loop = asyncio.get_running_loop()
        if protocol == "udp":
            front = UdpFront(pool)
            await loop.create_datagram_endpoint(
                lambda: front, local_addr=(address, port)
            )
            return front
        return await loop.create_server(
            lambda: ClientSide(pool), address, port, reuse_address=True, backlog=BACKLOG
        )

    def _switch(
        self,
        key: ServiceKey,
        entry: Entry,
        opened: dict[tuple[str, str, int], Listener],
    ) -> None:
        service = self._services[key]
        service.pool.configure(entry.spec)
        service.pool.set_dests(entry.dests)
        for where in list(service.listeners):
            if where not in entry.spec.listen:
                service.listeners.pop(where).close()
        for where in entry.spec.listen:
            if where in opened:
                service.listeners[where] = opened[where]

    def _close_service(self, service: Service) -> None:
        for listener in service.listeners.values():
            listener.close()
        service.listeners.clear()

    def current(self) -> Table:
        return {
            key: Entry(
                service.pool.spec,
                {e: b.weight for e, b in service.pool.backends.items()},
            )
            for key, service in self._services.items()
        }

    def counters(self) -> dict[ServiceKey, dict[str, Any]]:
        return {key: s.pool.counters() for key, s in self._services.items()}

    def versions(self) -> dict[ServiceKey, int]:
        """Per service, a number that changes whenever its status does."""
        return {key: s.pool.version for key, s in self._services.items()}

    def service(self, key: ServiceKey) -> tuple[Entry, dict[str, Any]]:
        """One service's entry and counters (what current/counters hold for it)."""
        pool = self._services[key].pool
        weights = {e: b.weight for e, b in pool.backends.items()}
        return Entry(pool.spec, weights), pool.counters()

    async def close(self) -> None:
        """Stop listening and end the proxied connections."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        services = list(self._services.values())
        self._services.clear()
        servers = [
            listener
            for service in services
            for listener in service.listeners.values()
            if isinstance(listener, asyncio.AbstractServer)
        ]
        for service in services:
            self._close_service(service)
            for link in list(service.pool.links):
                link.abort()
            for flow in list(service.pool.flows):
                flow.close()
        for server in servers:
            await server.wait_closed()
