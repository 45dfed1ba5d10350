"""What activation and deactivation run: commands, the sync daemon, ARP bytes."""

from __future__ import annotations

import socket
import struct

import pytest

from pulse import addresses, arp
from pulse.daemon import Options, running

from .factories import config, config_text, server, virtual
from .helpers import FakeIpvsadm, until


def recorder(tmp_path):
    """A program that appends its arguments to a file, one line per run."""
    log = tmp_path / "commands.log"
    prog = tmp_path / "record"
    prog.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    prog.chmod(0o755)
    return prog, log


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def daemon_lines(fake):
    return [line for line in fake.lines() if "-daemon" in line]


def write(tmp_path, fake, prog, **keys):
    text = config_text(
        virtual("web", "127.0.0.90", 8090, [server("r1", "127.0.0.91")], timeout=1),
        deadtime=1,
        syncdaemon=1,
        syncd_iface="eth7",
        syncd_id=5,
        ipvsadm=str(fake.path),
        active_cmd=f'"{prog} went active"',
        inactive_cmd=f'"{prog} went-inactive"',
        **keys,
    )
    path = tmp_path / "lvs.cf"
    path.write_text(text)
    return str(path)


@pytest.mark.asyncio
async def test_the_ipvs_sync_daemon_and_the_commands_follow_the_state(tmp_path):
    fake = FakeIpvsadm(tmp_path)
    prog, log = recorder(tmp_path)
    path = write(tmp_path, fake, prog)
    sync = ["--mcast-interface", "eth7", "--syncid", "5"]
    async with running(Options(path, dataplane="ipvs", failover=True)) as daemon:
        assert fake.lines()[:3] == [
            "--set 0 0 0",
            "--stop-daemon master",
            " ".join(["--start-daemon", "backup", *sync]),
        ]
        await until(lambda: lines(log) == ["went-inactive"], 3)
        await until(lambda: daemon.state.active, 3)
        await until(lambda: "--start-daemon master" in " ".join(fake.lines()), 3)
        assert daemon_lines(fake)[2:4] == [
            "--stop-daemon backup",
            " ".join(["--start-daemon", "master", *sync]),
        ]
        await until(lambda: lines(log)[-1:] == ["went active"], 3)
    assert lines(log)[-1] == "went-inactive"
    assert daemon_lines(fake)[-3:] == [
        "--stop-daemon master",
        " ".join(["--start-daemon", "backup", *sync]),
        "--stop-daemon backup",
    ]


@pytest.mark.asyncio
async def test_no_sync_daemon_outside_the_ipvs_dataplane(tmp_path):
    fake = FakeIpvsadm(tmp_path)
    prog, log = recorder(tmp_path)
    path = write(tmp_path, fake, prog)
    async with running(Options(path, failover=True)) as daemon:
        await until(lambda: daemon.state.active, 3)
        await until(lambda: "went active" in lines(log), 3)
    assert fake.lines() == []


def test_the_gratuitous_arp_is_a_reply_announcing_the_vip_to_everyone():
    mac = bytes.fromhex("020000000001")
    frame = arp.frame(mac, "10.0.0.100")
    assert len(frame) == 60
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == mac
    assert struct.unpack("!H", frame[12:14])[0] == 0x0806
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
    assert (htype, ptype, hlen, plen, op) == (1, 0x0800, 6, 4, 2)
    vip = socket.inet_aton("10.0.0.100")
    assert frame[22:28] == mac and frame[28:32] == vip
    assert frame[32:38] == mac and frame[38:42] == vip  # as send_arp: a true GARP
    assert frame[42:] == b"\0" * 18


def test_floating_addresses_are_the_nat_router_then_each_distinct_vip():
    cfg = config(
        virtual("a", "10.0.0.100", 80, vip_nmask="255.255.255.0"),
        virtual("b", "10.0.0.100", 443),
        virtual("c", "10.0.0.101", 80, active=0),
        virtual("d", "127.0.0.5", 80),
        network="nat",
        nat_router="10.1.0.254 eth1:1",
        nat_nmask="255.255.255.0",
    )
    found = addresses.floating(cfg)
    assert [str(f) for f in found] == [
        "10.1.0.254/24 on eth1:1",
        "10.0.0.100/24 on lo",
    ]
    assert found[0].link == "eth1" and found[0].broadcast == "10.1.0.255"
    assert addresses.Floating("10.0.0.7", "eth0:2").broadcast is None
