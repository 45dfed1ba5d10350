"""The userspace dataplane's UDP side: one flow per client address.

A flow is a connected socket to the chosen backend; replies go back to the
client from the VIP. Idle flows expire after the UDP timeout (ipvsadm --set's
third value, 300 s by default), swept once a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .userspace import Backend, Pool

logger = logging.getLogger(__name__)

SWEEP = 1.0  # seconds between sweeps for idle flows
QUEUE_LIMIT = 64  # datagrams held while a flow's socket is being opened


class UdpFlow(asyncio.DatagramProtocol):
    """Datagrams of one client to one backend."""

    def __init__(self, front: UdpFront, client: tuple[str, int], backend: Backend):
        self.front, self.client, self.backend = front, client, backend
        self.transport: asyncio.DatagramTransport | None = None
        self.queue: list[bytes] = []
        self.last = time.monotonic()
        backend.active += 1
        backend.conns += 1
        front.pool.version += 1
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.DatagramTransport, transport)
        for data in self.queue:
            transport.sendto(data)
        self.queue.clear()

    def send(self, data: bytes) -> None:
        self.last = time.monotonic()
        self.backend.bytes_in += len(data)
        self.front.pool.version += 1
        if self.transport is None:
            if len(self.queue) < QUEUE_LIMIT:
                self.queue.append(data)
        else:
            self.transport.sendto(data)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.last = time.monotonic()
        self.backend.bytes_out += len(data)
        self.front.pool.version += 1
        if self.front.transport is not None:
            self.front.transport.sendto(data, self.client)

    def error_received(self, exc: Exception) -> None:
        logger.debug("udp flow %s: %s", self.client, exc)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.backend.active -= 1
        self.front.pool.version += 1
        self.front.flows.pop(self.client, None)
        self.front.pool.flows.discard(self)
        if self.transport is not None:
            self.transport.close()


class UdpFront(asyncio.DatagramProtocol):
    """The socket on VIP:port; it also plays the role of a listener."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[tuple[str, int], UdpFlow] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP, self._sweep)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        client = (str(addr[0]), int(addr[1]))
        flow = self.flows.get(client)
        if flow is None:
            flow = self._open(client)
            if flow is None:
                return  # no backend: dropped, as IPVS does
        flow.send(data)

    def _open(self, client: tuple[str, int]) -> UdpFlow | None:
        assert self.transport is not None
        target = self.transport.get_extra_info("sockname")[0]
        backend = self.pool.pick(client[0], target)
        if backend is None:
            return None
        flow = UdpFlow(self, client, backend)
        self.flows[client] = flow
        self.pool.flows.add(flow)
        loop = asyncio.get_running_loop()
        loop.create_task(self._connect(flow))
        return flow

    async def _connect(self, flow: UdpFlow) -> None:
        loop = asyncio.get_running_loop()
        remote = (flow.backend.address, flow.backend.port)
        try:
            await loop.create_datagram_endpoint(lambda: flow, remote_addr=remote)
        except OSError as exc:
            logger.debug("udp backend %s: %s", remote, exc)
            flow.close()
            return
        if flow.closed and flow.transport is not None:
            flow.transport.close()

    def _sweep(self) -> None:
        now = time.monotonic()
        idle = self.pool.timeouts.udp  # read each time: a reload may change it
        for flow in list(self.flows.values()):
            if now - flow.last > idle:
                flow.close()
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP, self._sweep)

    def close(self) -> None:
        """Stop listening; end every flow."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        for flow in list(self.flows.values()):
            flow.close()
        if self.transport is not None:
            self.transport.close()
