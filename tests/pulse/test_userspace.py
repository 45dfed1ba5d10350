"""The userspace proxy: real connections through VIP:port to loopback backends."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest

from pulse.dataplanes.userspace import UserspaceDataplane
from pulse.lvs import Entry, ServiceKey, ServiceSpec

from . import backends
from .helpers import until

VIP = "127.0.0.40"


@contextlib.asynccontextmanager
async def dataplane():
    plane = UserspaceDataplane()
    try:
        yield plane
    finally:
        await plane.close()


def table(port, dests, protocol="tcp", **spec):
    key = ServiceKey(protocol, VIP, port)
    listen = ((protocol, VIP, port),)
    return {key: Entry(ServiceSpec(key, listen=listen, **spec), dests)}


async def ask_name(port, source="127.0.0.1"):
    """Connect from `source`, read the backend's name; returns (name, writer)."""
    reader, writer = await asyncio.open_connection(VIP, port, local_addr=(source, 0))
    name = (await asyncio.wait_for(reader.readline(), 2)).decode().strip()
    return name, writer


async def names(port, count, source="127.0.0.1"):
    got = []
    for _ in range(count):
        name, writer = await ask_name(port, source)
        got.append(name)
        writer.close()
        await writer.wait_closed()
    return got


@contextlib.asynccontextmanager
async def named_backends(*hosts):
    port = backends.free_port(hosts[0])
    async with contextlib.AsyncExitStack() as stack:
        for host in hosts:
            await stack.enter_async_context(
                backends.tcp_server(backends.name_once, host, port)
            )
        yield port


@pytest.mark.asyncio
async def test_wrr_one_to_five_gives_five_connections_to_one():
    async with named_backends("127.0.0.41", "127.0.0.42") as port, dataplane() as plane:
        dests = {("127.0.0.41", port): 1, ("127.0.0.42", port): 5}
        await plane.apply(table(port, dests, scheduler="wrr"))
        got = Counter(await names(port, 12))
        assert got == {"127.0.0.41": 2, "127.0.0.42": 10}
        counters = plane.counters()[ServiceKey("tcp", VIP, port)]
        assert counters["conns"] == 12
        assert counters["dests"][f"127.0.0.42:{port}"]["conns"] == 10


@pytest.mark.asyncio
async def test_lc_picks_the_least_loaded_backend():
    async with named_backends("127.0.0.41", "127.0.0.42") as port, dataplane() as plane:
        dests = {("127.0.0.41", port): 1, ("127.0.0.42", port): 1}
        await plane.apply(table(port, dests, scheduler="lc"))
        first, held = await ask_name(port)
        # The other backend is idle, so the next two go there and then back.
        second, held2 = await ask_name(port)
        assert second != first
        held.close()
        await until(
            lambda: plane.counters()[ServiceKey("tcp", VIP, port)]["active"] == 1
        )
        third, held3 = await ask_name(port)
        assert third == first
        for writer in (held2, held3):
            writer.close()


@pytest.mark.asyncio
async def test_sh_and_persistence_keep_a_client_and_pmask_groups_a_subnet():
    hosts = ("127.0.0.41", "127.0.0.42", "127.0.0.43")
    async with named_backends(*hosts) as port, dataplane() as plane:
        dests = {(h, port): 1 for h in hosts}
        await plane.apply(table(port, dests, scheduler="sh"))
        assert len(set(await names(port, 5, "127.0.1.7"))) == 1
        await plane.apply(
            table(port, dests, scheduler="rr", persistent=60, pmask="255.255.255.0")
        )
        got = await names(port, 3, "127.0.2.1") + await names(port, 3, "127.0.2.99")
        assert len(set(got)) == 1  # one /24, one server
        other = await names(port, 1, "127.0.3.1")
        assert other[0] != got[0]  # another /24: the next in turn


@pytest.mark.asyncio
async def test_quiesce_keeps_existing_connections_and_takes_no_new_ones():
    async with backends.tcp_server(backends.echo, "127.0.0.41") as port:
        async with backends.tcp_server(backends.name_once, "127.0.0.42", port):
            async with dataplane() as plane:
                dests = {("127.0.0.41", port): 1, ("127.0.0.42", port): 1}
                await plane.apply(table(port, dests, scheduler="rr"))
                reader, writer = await asyncio.open_connection(VIP, port)
                writer.write(b"ping\n")
                assert await asyncio.wait_for(reader.readline(), 2) == b"ping\n"
                dests[("127.0.0.41", port)] = 0
                await plane.apply(table(port, dests, scheduler="rr"))
                assert set(await names(port, 4)) == {"127.0.0.42"}
                writer.write(b"still\n")
                assert await asyncio.wait_for(reader.readline(), 2) == b"still\n"
                writer.close()
                await writer.wait_closed()


@pytest.mark.asyncio
async def test_no_backend_resets_the_client():
    port = backends.free_port(VIP)
    async with dataplane() as plane:
        await plane.apply(table(port, {}))
        reader, writer = await asyncio.open_connection(VIP, port)
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(1), 2)
        writer.close()


@pytest.mark.asyncio
async def test_large_transfers_pass_intact_in_both_directions():
    async with (
        backends.tcp_server(backends.echo, "127.0.0.41") as port,
        dataplane() as plane,
    ):
        await plane.apply(table(port, {("127.0.0.41", port): 1}))
        reader, writer = await asyncio.open_connection(VIP, port)
        payload = bytes(range(256)) * 40000  # 10 MB
        writer.write(payload)
        got = await asyncio.wait_for(reader.readexactly(len(payload)), 20)
        assert got == payload
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
        counters = plane.counters()[ServiceKey("tcp", VIP, port)]
        assert counters["bytes_in"] == counters["bytes_out"] == len(payload)


@pytest.mark.asyncio
async def test_udp_is_proxied_per_client_flow():
    async with backends.udp_echo("127.0.0.41") as port, dataplane() as plane:
        await plane.apply(table(port, {("127.0.0.41", port): 1}, protocol="udp"))
        loop = asyncio.get_running_loop()
        replies: asyncio.Queue[bytes] = asyncio.Queue()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                replies.put_nowait(data)

        transport, _ = await loop.create_datagram_endpoint(
            Client, remote_addr=(VIP, port)
        )
        try:
            transport.sendto(b"one")
            transport.sendto(b"two")
            got = {await asyncio.wait_for(replies.get(), 2) for _ in range(2)}
            assert got == {b"PONG one", b"PONG two"}
            counters = plane.counters()[ServiceKey("udp", VIP, port)]
            assert counters["active"] == 1 and counters["conns"] == 1
        finally:
            transport.close()


@pytest.mark.asyncio
async def test_fwmark_services_share_one_pool_across_ports():
    port_a = backends.free_port(VIP)
    port_b = backends.free_port(VIP)
    async with named_backends("127.0.0.41", "127.0.0.42") as port, dataplane() as plane:
        key = ServiceKey("fwm", "", 5)
        listen = (("tcp", VIP, port_a), ("tcp", VIP, port_b))
        spec = ServiceSpec(key, scheduler="rr", listen=listen)
        dests = {("127.0.0.41", port): 1, ("127.0.0.42", port): 1}
        await plane.apply({key: Entry(spec, dests)})
        first = (await names(port_a, 1))[0]
        second = (await names(port_b, 1))[0]
        assert first != second  # one round-robin across both ports
        await plane.apply({})
        with pytest.raises(OSError):
            await asyncio.open_connection(VIP, port_a)


@pytest.mark.asyncio
async def test_a_failed_listen_changes_nothing():
    busy = backends.free_port(VIP)
    async with backends.tcp_server(backends.echo, VIP, busy), dataplane() as plane:
        port = backends.free_port(VIP)
        good = table(port, {})
        await plane.apply(good)
        bad = {**good, **table(busy, {})}
        from pulse.lvs import DataplaneError

        with pytest.raises(DataplaneError):
            await plane.apply(bad)
        assert plane.current() == good


def test_the_first_bytes_are_forwarded_under_uvloop():
    # uvloop starts reading a new connection even when connection_made paused
    # it; the request sent at once must still reach the backend.
    uvloop = pytest.importorskip("uvloop")

    async def scenario():
        async with (
            backends.tcp_server(backends.http_ok, "127.0.0.41") as port,
            dataplane() as plane,
        ):
            await plane.apply(table(port, {("127.0.0.41", port): 1}))
            reader, writer = await asyncio.open_connection(VIP, port)
            writer.write(b"GET / HTTP/1.0\r\n\r\n")
            reply = await asyncio.wait_for(reader.read(), 2)
            writer.close()
            return reply

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(scenario()).startswith(b"HTTP/1.0 200")


@pytest.mark.asyncio
async def test_a_refused_backend_closes_the_client_and_clears_the_counters():
    port = backends.free_port("127.0.0.43")  # nothing listens there
    async with dataplane() as plane:
        await plane.apply(table(port, {("127.0.0.43", port): 1}))
        reader, writer = await asyncio.open_connection(VIP, port)
        writer.write(b"hello\n")
        try:
            assert await asyncio.wait_for(reader.read(), 2) == b""
        except ConnectionError:
            pass  # the client's unread request may turn the close into a reset
        writer.close()
        counters = plane.counters()[ServiceKey("tcp", VIP, port)]
        assert (counters["conns"], counters["active"], counters["inactive"]) == (
            1,
            0,
            0,
        )


@pytest.mark.asyncio
async def test_many_clients_at_once_are_each_proxied_and_counted():
    async with (
        backends.tcp_server(backends.echo, "127.0.0.41") as port,
        dataplane() as plane,
    ):
        await plane.apply(table(port, {("127.0.0.41", port): 1}))

        async def exchange(number):
            reader, writer = await asyncio.open_connection(VIP, port)
            writer.write(b"%d\n" % number)
            line = await asyncio.wait_for(reader.readline(), 5)
            writer.close()
            await writer.wait_closed()
            return line

        got = await asyncio.gather(*(exchange(n) for n in range(200)))
        assert got == [b"%d\n" % n for n in range(200)]
        key = ServiceKey("tcp", VIP, port)
        assert plane.counters()[key]["conns"] == 200
        # Each ends: both FINs passed on, nothing left active or inactive.
        await until(
            lambda: (
                plane.counters()[key]["active"]
                == plane.counters()[key]["inactive"]
                == 0
            )
        )


@pytest.mark.asyncio
async def test_a_slow_reader_gets_every_byte_in_order():
    async with (
        backends.tcp_server(backends.echo, "127.0.0.41") as port,
        dataplane() as plane,
    ):
        await plane.apply(table(port, {("127.0.0.41", port): 1}))
        reader, writer = await asyncio.open_connection(VIP, port, limit=4096)
        payload = bytes(range(256)) * 16000  # 4 MB, more than the socket buffers
        writer.write(payload)
        await asyncio.sleep(0.5)  # the proxy holds what the client does not read
        got = bytearray()
        while len(got) < len(payload):
            got += await asyncio.wait_for(reader.read(4096), 5)
        assert got == payload
        writer.close()
