"""ipvsadm --set's TCP timeouts as idle timeouts of the userspace proxy."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from pulse.dataplanes.userspace import Timeouts, UserspaceDataplane
from pulse.lvs import Entry, ServiceKey, ServiceSpec

from . import backends
from .factories import config
from .helpers import until

VIP = "127.0.0.45"
BACKEND = "127.0.0.46"


@contextlib.asynccontextmanager
async def proxy(handler, **timeouts):
    """The userspace dataplane configured with `timeouts`, one backend."""
    plane = UserspaceDataplane()
    try:
        await plane.configure(config(**timeouts))
        async with backends.tcp_server(handler, BACKEND) as port:
            key = ServiceKey("tcp", VIP, port)
            spec = ServiceSpec(key, listen=(("tcp", VIP, port),))
            await plane.apply({key: Entry(spec, {(BACKEND, port): 1})})
            yield plane, key
    finally:
        await plane.close()


async def closed_by_proxy(reader, timeout):
    """True once the proxy ends the connection (EOF or reset), within `timeout`."""
    try:
        return await asyncio.wait_for(reader.read(100), timeout) == b""
    except ConnectionError:
        return True


def test_zero_keeps_the_kernels_defaults_and_values_are_taken_as_given():
    assert Timeouts.from_config(config()) == Timeouts(900.0, 120.0, 300.0)
    got = Timeouts.from_config(config(tcp_timeout=7, tcpfin_timeout=3, udp_timeout=9))
    assert got == Timeouts(7.0, 3.0, 9.0)


@pytest.mark.asyncio
async def test_an_idle_connection_is_ended_after_tcp_timeout_a_busy_one_is_not():
    async with proxy(backends.echo, tcp_timeout=1) as (plane, key):
        port = key.port
        idle_reader, idle_writer = await asyncio.open_connection(VIP, port)
        busy_reader, busy_writer = await asyncio.open_connection(VIP, port)
        for _ in range(8):  # 2.4 s of traffic, one exchange every 0.3 s
            busy_writer.write(b"ping\n")
            assert await asyncio.wait_for(busy_reader.readline(), 2) == b"ping\n"
            await asyncio.sleep(0.3)
        assert await closed_by_proxy(idle_reader, 3)
        busy_writer.write(b"still\n")
        assert await asyncio.wait_for(busy_reader.readline(), 2) == b"still\n"
        assert plane.counters()[key]["active"] == 1
        for writer in (idle_writer, busy_writer):
            writer.close()


@pytest.mark.asyncio
async def test_a_half_closed_connection_is_ended_after_tcpfin_timeout():
    async with proxy(backends.half_close, tcp_timeout=60, tcpfin_timeout=1) as (
        plane,
        key,
    ):
        reader, writer = await asyncio.open_connection(VIP, key.port)
        assert await asyncio.wait_for(reader.readline(), 2) == b"bye\n"
        assert await asyncio.wait_for(reader.read(), 2) == b""  # the backend's FIN
        assert plane.counters()[key]["inactive"] == 1
        await until(lambda: plane.counters()[key]["inactive"] == 0, timeout=4)
        assert plane.counters()[key]["conns"] == 1
        writer.close()


@pytest.mark.asyncio
async def test_an_idle_connection_outlives_a_short_tcpfin_timeout():
    async with proxy(backends.echo, tcp_timeout=60, tcpfin_timeout=1) as (plane, key):
        reader, writer = await asyncio.open_connection(VIP, key.port)
        writer.write(b"hello\n")
        assert await asyncio.wait_for(reader.readline(), 2) == b"hello\n"
        await asyncio.sleep(2.2)  # two sweeps past tcpfin_timeout
        writer.write(b"again\n")
        assert await asyncio.wait_for(reader.readline(), 2) == b"again\n"
        assert plane.counters()[key]["active"] == 1
        writer.close()


@pytest.mark.asyncio
async def test_a_reload_changes_the_timeouts_of_existing_connections():
    async with proxy(backends.echo, tcp_timeout=60) as (plane, key):
        reader, writer = await asyncio.open_connection(VIP, key.port)
        writer.write(b"hello\n")
        assert await asyncio.wait_for(reader.readline(), 2) == b"hello\n"
        await plane.configure(config(tcp_timeout=1))
        assert await closed_by_proxy(reader, 4)
        writer.close()
