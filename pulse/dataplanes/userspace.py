"""The embedded dataplane: an asyncio TCP and UDP proxy on each VIP:port.

No root needed. Each service is a `Pool` of backends with an IPVS scheduler
(`pulse.schedulers`) and, when persistent, a template table; virtual servers
sharing a firewall mark listen on each of their addresses into one pool.
Proxied TCP connections are in `tcp.py`, UDP flows in `udp.py`. Weight 0
takes no new connections; existing ones continue, also when a backend is
removed. ipvsadm --set's timeouts are the idle timeouts of proxied
connections (`Timeouts`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import lvscf

from ..lvs import DataplaneError, Endpoint, Entry, ServiceKey, ServiceSpec, Table
from ..schedulers import PersistenceTable, Scheduler, make_scheduler
from .tcp import CONNECT_TIMEOUT, Link, Poller, TcpListener, make_buffer
from .udp import UdpFlow, UdpFront

logger = logging.getLogger(__name__)

SWEEP = 1.0  # seconds between sweeps for idle TCP connections


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

    def __init__(
        self,
        spec: ServiceSpec,
        timeouts: Timeouts | None = None,
        poller: Poller | None = None,
    ) -> None:
        # Bound once: asyncio.get_running_loop() costs a getpid() syscall.
        self.loop = asyncio.get_running_loop()
        self.poller = poller or Poller(self.loop)  # the dataplane's, shared
        self.timeouts = timeouts or Timeouts()  # shared: a reload changes them
        # Bumped on every change the status shows (dests, counters), so a
        # status poll re-serializes only the services that changed.
        self.version = 0
        self.backends: dict[Endpoint, Backend] = {}
        self._weights: dict[Endpoint, int] = {}  # as last set
        self.links: set[Link] = set()
        self.buffer = make_buffer()  # what a proxied connection reads into
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
        """End the connections idle past their timeout (tcpfin once half-closed).

        A backend still connecting gets CONNECT_TIMEOUT at most.
        """
        tcp, tcpfin = self.timeouts.tcp, self.timeouts.tcpfin
        connect = min(tcp, CONNECT_TIMEOUT)
        for link in [
            link
            for link in self.links
            if now - link.last
            > (tcpfin if link.eofs else connect if link.connecting else tcp)
        ]:
            link.abort()

    def counters(self) -> dict[str, Any]:
        dests = {f"{a}:{p}": b.as_dict() for (a, p), b in self.backends.items()}
        totals = {
            k: sum(d[k] for d in dests.values())
            for k in ("active", "inactive", "conns", "bytes_in", "bytes_out")
        }
        return {**totals, "dests": dests}


class Service:
    """A pool and the sockets it listens on."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.listeners: dict[tuple[str, str, int], Listener] = {}


Listener = TcpListener | UdpFront


class UserspaceDataplane:
    """The in-process proxy dataplane."""

    name = "userspace"

    def __init__(self) -> None:
        self._services: dict[ServiceKey, Service] = {}
        self.timeouts = Timeouts()
        self._sweeper: asyncio.TimerHandle | None = None
        self._poller: Poller | None = None  # the proxied sockets' epoll set

    async def configure(self, config: lvscf.Config) -> None:
        """ipvsadm --set's timeouts become the proxied connections' idle times."""
        fresh = Timeouts.from_config(config)
        # One object shared by every pool and UDP front: changed in place.
        self.timeouts.tcp, self.timeouts.tcpfin = fresh.tcp, fresh.tcpfin
        self.timeouts.udp = fresh.udp

    def _sweep(self) -> None:
        now = time.monotonic()
        for service in self._services.values():
            service.pool.expire(now)
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(SWEEP, self._sweep)

    async def apply(self, table: Table) -> None:
        """Open every new socket first; only then switch, in one step."""
        loop = asyncio.get_running_loop()
        if self._sweeper is None:
            self._sweeper = loop.call_later(SWEEP, self._sweep)
        if self._poller is None:
            self._poller = Poller(loop)
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
                    else pools.setdefault(
                        key, Pool(entry.spec, self.timeouts, self._poller)
                    )
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
        return TcpListener(pool, address, port)

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
        for service in services:
            self._close_service(service)
            for link in list(service.pool.links):
                link.abort()
            for flow in list(service.pool.flows):
                flow.close()
        if self._poller is not None:
            self._poller.close()
            self._poller = None
