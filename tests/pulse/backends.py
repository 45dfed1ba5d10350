"""Real backends on loopback for the pulse tests: well- and misbehaving ones."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def tcp_server(
    handler: Handler, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[int]:
    """Serve `handler` on host:port; yields the port; closes every connection."""
    writers: set[asyncio.StreamWriter] = set()

    async def tracked(reader, writer):
        writers.add(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writers.discard(writer)
            writer.close()

    server = await asyncio.start_server(tracked, host, port, reuse_address=True)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in list(writers):
            writer.transport.abort()
        await server.wait_closed()


async def http_ok(reader, writer):
    """A tiny HTTP/1.0 server: one response per connection."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()


async def http_keepalive(reader, writer):
    """HTTP/1.1 keep-alive responder naming itself in the body."""
    name = writer.get_extra_info("sockname")[0].encode()
    while True:
        await reader.readuntil(b"\r\n\r\n")
        body = name
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()


async def name_once(reader, writer):
    """Write the server's own address, then keep the connection open."""
    writer.write(writer.get_extra_info("sockname")[0].encode() + b"\n")
    await writer.drain()
    while await reader.read(65536):
        pass


async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()


async def silent(reader, writer):
    await reader.read()  # accepts and never answers


async def trickle(reader, writer):
    for byte in b"HTTP/1.0 200 OK\r\n":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


async def reset(reader, writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def flood(reader, writer):
    chunk = b"HTTP/1.0 200 OK\r\n" + b"x" * 65519
    for _ in range(160):  # 10 MB
        writer.write(chunk)
        await writer.drain()


async def close_at_once(reader, writer):
    writer.close()


class UdpEcho(asyncio.DatagramProtocol):
    transport: asyncio.DatagramTransport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(b"PONG " + data, addr)


@contextlib.asynccontextmanager
async def udp_echo(host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(UdpEcho, local_addr=(host, port))
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()
        await asyncio.sleep(0)  # the socket closes on the next loop turn


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def half_close(reader, writer):
    """Say goodbye and send a FIN at once; keep reading until the client's."""
    writer.write(b"bye\n")
    writer.write_eof()
    await reader.read()
