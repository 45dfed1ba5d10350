"""Our pulse pairs with a peer speaking the original pulse's heartbeat bytes.

The peer in these tests is a plain UDP socket that sends and checks exactly
what the original sent: one 4-byte magic in host byte order, from its own
address and heartbeat_port to ours. It stands for a router still running the
original pulse during a migration.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

import pytest

from pulse.cli import main
from pulse.control import request
from pulse.daemon import Options, running

from .factories import config_text, server, virtual
from .helpers import until

RUNNING, STOPPED = 0xBDADDBDA, 0xADBDDABD


def free_udp_port(*addresses):
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        try:
            for address in addresses[1:]:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
                    other.bind((address, port))
            return port
        except OSError:
            continue


class OriginalPeer:
    """The partner router, speaking the original pulse's heartbeat."""

    def __init__(self, address, port, ours):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.setblocking(False)
        self.port, self.ours = port, ours
        self.received = []  # (source, raw bytes)

    def send(self, magic, source=None):
        sock = self.sock
        if source is not None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((source, 0))
        sock.sendto(struct.pack("=I", magic), (self.ours, self.port))
        if source is not None:
            sock.close()

    def drain(self):
        while True:
            try:
                data, source = self.sock.recvfrom(64)
            except BlockingIOError:
                return self.received
            self.received.append((source, data))

    def last(self):
        self.drain()
        return struct.unpack("=I", self.received[-1][1])[0] if self.received else None

    def close(self):
        self.sock.close()


async def keep_sending(peer, magic, interval=0.5):
    while True:
        peer.send(magic)
        await asyncio.sleep(interval)


def write(tmp_path, port, **globals_):
    keys = dict(keepalive=1, deadtime=2, heartbeat_port=port, backup_active=1)
    text = config_text(
        virtual("web", "127.0.0.70", 8070, [server("r1", "127.0.0.71")], timeout=1),
        **(keys | globals_),
    )
    path = tmp_path / "lvs.cf"
    path.write_text(text)
    return str(path)


def active(daemon):
    return daemon.state.active


def messages(daemon):
    return [f["message"] for f in daemon.state.failovers]


@pytest.mark.asyncio
async def test_our_primary_pairs_with_an_original_backup(tmp_path, caplog, capsys):
    caplog.set_level(logging.INFO)
    port = free_udp_port("127.0.0.1", "127.0.0.2")
    path = write(tmp_path, port, primary="127.0.0.1", backup="127.0.0.2")
    peer = OriginalPeer("127.0.0.2", port, "127.0.0.1")
    sender = asyncio.get_running_loop().create_task(keep_sending(peer, RUNNING))
    try:
        sock = str(tmp_path / "pulse.sock")
        options = Options(path, failover=True, control_socket=sock)
        async with running(options) as daemon:
            assert "STARTING PULSE AS MASTER" in caplog.text
            assert daemon.state.role == "primary"
            await until(lambda: len(peer.drain()) >= 2, 5)
            source, data = peer.received[0]
            assert source == ("127.0.0.1", port) and len(data) == 4
            assert peer.last() == STOPPED
            await asyncio.sleep(2.5)  # past deadtime: the active backup keeps it
            assert not active(daemon)  # no fail-back
            (path_status,) = daemon.state.heartbeat_status()["paths"]
            assert path_status["partner_says"] == "running"
            assert path_status["last_age"] < 1.0

            sender.cancel()
            peer.send(STOPPED)  # the original backup stepped down
            await until(lambda: daemon.state.active, 3)
            assert messages(daemon)[-1] == "backup inactive: activating lvs"
            await until(lambda: peer.last() == RUNNING, 3)

            assert (
                await asyncio.to_thread(main, ["--control-socket", sock, "status"]) == 0
            )
            assert (
                "role primary, active, partner 127.0.0.2; public 127.0.0.1 -> "
                "127.0.0.2: stopped" in capsys.readouterr().out
            )
            status = (await asyncio.to_thread(request, sock, {"cmd": "status"}))[
                "status"
            ]
            heartbeat = status["heartbeat"]
            assert set(heartbeat) == {
                "enabled", "role", "active", "partner", "paths", "links", "failovers"
            }  # fmt: skip
            assert heartbeat["enabled"] and heartbeat["links"] == {
                "ok": True,
                "down": [],
            }
            assert (
                heartbeat["failovers"][-1]["message"]
                == "backup inactive: activating lvs"
            )

            peer.send(RUNNING)  # split-brain: the master keeps the service
            await until(lambda: "partner active: resending arps" in caplog.text, 3)
            assert active(daemon)

            peer.send(RUNNING, source="127.0.0.3")
            peer.send(0xDEADBEEF)
            peer.sock.sendto(b"\0" * 5, ("127.0.0.1", port))
            await until(lambda: "bad heartbeat packet" in caplog.text, 3)
            assert "Unexpected heartbeat from 127.0.0.3" in caplog.text
            assert "Incompatible heartbeat received" in caplog.text
            assert active(daemon)
            peer.drain()
        # A clean stop tells the partner at once.
        assert peer.last() == STOPPED
    finally:
        sender.cancel()
        peer.close()


@pytest.mark.asyncio
async def test_our_backup_takes_over_from_an_original_primary_and_gives_way(
    tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    port = free_udp_port("127.0.0.1", "127.0.0.2")
    path = write(tmp_path, port, primary="127.0.0.1", backup="127.0.0.2")
    peer = OriginalPeer("127.0.0.1", port, "127.0.0.2")
    sender = asyncio.get_running_loop().create_task(keep_sending(peer, RUNNING))
    try:
        async with running(Options(path, failover=True, role="backup")) as daemon:
            assert "STARTING PULSE AS BACKUP" in caplog.text
            await asyncio.sleep(2.5)
            assert not active(daemon)
            sender.cancel()  # the original primary dies
            await until(lambda: daemon.state.active, 4)
            assert messages(daemon)[-1] == "partner dead: activating lvs"
            await until(lambda: peer.last() == RUNNING, 3)
            assert await _listening("127.0.0.70", 8070)  # the table is programmed

            peer.send(RUNNING)  # the primary is back and active: it wins
            await until(lambda: not daemon.state.active, 3)
            assert messages(daemon)[-1] == "partner active: deactivating LVS"
            assert not await _listening("127.0.0.70", 8070)
    finally:
        sender.cancel()
        peer.close()


async def _listening(address, port):
    try:
        _, writer = await asyncio.open_connection(address, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
