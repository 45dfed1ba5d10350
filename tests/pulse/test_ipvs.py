"""The ipvs dataplane issues exactly the original's ipvsadm command lines."""

from __future__ import annotations

import logging

import pytest

from pulse.daemon import Options, running
from pulse.dataplanes.ipvs import parse_counters
from pulse.lvs import ServiceKey
from pulse.status import format_status, status

from . import backends
from .factories import config_text, server, virtual
from .helpers import FakeIpvsadm, until

VIP = "127.0.0.30"


def write_config(tmp_path, fake, port, *, servers=2, **keys):
    rips = [server(f"r{i}", f"127.0.0.3{i}") for i in range(1, servers + 1)]
    text = config_text(
        virtual("web", VIP, port, rips, send='"GET / HTTP/1.0\\r\\n\\r\\n"',
                expect='"HTTP"', timeout=1, reentry=2, **keys),
        ipvsadm=str(fake.path),
    )  # fmt: skip
    path = tmp_path / "lvs.cf"
    path.write_text(text)
    return str(path)


@pytest.fixture
def fake(tmp_path):
    return FakeIpvsadm(tmp_path)


@pytest.mark.asyncio
async def test_start_and_stop(tmp_path, fake, caplog):
    caplog.set_level(logging.INFO)
    port = backends.free_port("127.0.0.31")
    svc = f"-t {VIP}:{port}"
    path = write_config(tmp_path, fake, port, servers=1)
    async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
        async with running(Options(path, dataplane="ipvs")):
            await until(lambda: len(fake.changes()) >= 3)
            assert fake.changes() == [
                "--set 0 0 0",
                f"-A {svc} -s wlc",
                f"-a {svc} -r 127.0.0.31:{port} -g -w 1",
            ]
        assert fake.changes()[3:] == [f"-d {svc} -r 127.0.0.31:{port}", f"-D {svc}"]
    assert f"[ active ] making 127.0.0.31:{port} available" in caplog.text
    assert f"starting virtual service web active: {port}" in caplog.text
    assert "shutting down virtual service web" in caplog.text
    assert "-C" not in fake.changes()  # never flushes foreign services


@pytest.mark.asyncio
async def test_a_killed_server_leaves_and_comes_back_after_reentry(
    tmp_path, fake, caplog
):
    caplog.set_level(logging.INFO)
    port = backends.free_port("127.0.0.31")
    svc = f"-t {VIP}:{port}"
    path = write_config(tmp_path, fake, port, servers=1)
    async with running(Options(path, dataplane="ipvs")) as daemon:
        status = daemon.state.servers[("web", "r1")]
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(lambda: status.health == "up", timeout=3)
            await until(lambda: fake.changes()[-1].startswith("-a"))
        start = len(fake.changes())
        await until(lambda: status.health == "down", timeout=2.5)  # within one timeout
        await until(lambda: len(fake.changes()) > start)
        assert fake.changes()[start:] == [f"-d {svc} -r 127.0.0.31:{port}"]
        assert (
            f"[inactive] shutting down 127.0.0.31:{port} due to connection failure"
            in caplog.text
        )
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(lambda: status.successes >= 1, timeout=2.5)
            assert status.health == "down"  # reentry = 2 s: two successes
            await until(lambda: status.health == "up", timeout=2.5)
            added = f"-a {svc} -r 127.0.0.31:{port} -g -w 1"
            await until(lambda: fake.changes()[-1] == added)
        assert status.flaps == 1


@pytest.mark.asyncio
async def test_quiesce_sets_weight_zero_and_sorry_server_fills_in(tmp_path, fake):
    port = backends.free_port("127.0.0.31")
    svc = f"-t {VIP}:{port}"
    path = write_config(tmp_path, fake, port, servers=1, quiesce_server=1,
                        sorry_server="127.0.0.39")  # fmt: skip
    async with running(Options(path, dataplane="ipvs")) as daemon:
        status = daemon.state.servers[("web", "r1")]
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(lambda: status.health == "up", timeout=3)
        await until(lambda: status.health == "quiesced", timeout=2.5)
        await until(lambda: f"-a {svc} -r 127.0.0.39:{port} -g -w 1" in fake.changes())
        assert f"-e {svc} -r 127.0.0.31:{port} -g -w 0" in fake.changes()
        assert "web" in daemon.state.sorry
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(lambda: status.health == "up", timeout=4)
            await until(lambda: fake.changes()[-1] == f"-d {svc} -r 127.0.0.39:{port}")
        assert fake.changes()[-2] == f"-e {svc} -r 127.0.0.31:{port} -g -w 1"


@pytest.mark.asyncio
async def test_reload_applies_scheduler_persistence_and_weight_as_a_diff(
    tmp_path, fake
):
    port = backends.free_port("127.0.0.31")
    svc = f"-t {VIP}:{port}"
    path = write_config(tmp_path, fake, port)
    async with (
        backends.tcp_server(backends.http_ok, "127.0.0.31", port),
        backends.tcp_server(backends.http_ok, "127.0.0.32", port),
        running(Options(path, dataplane="ipvs")) as daemon,
    ):
        await until(lambda: len([x for x in fake.changes() if x.startswith("-a")]) == 2)
        start = len(fake.changes())
        text = (tmp_path / "lvs.cf").read_text()
        text = text.replace(
            "scheduler = wlc",
            "scheduler = rr\n     persistent = 60\n     pmask = 255.255.255.0",
        )
        text = text.replace("     server r2 {", "     server gone {", 1).replace(
            "127.0.0.32", "127.0.0.33"
        )
        (tmp_path / "lvs.cf").write_text(text)
        assert await daemon.reload() == ""
        await until(lambda: len(fake.changes()) >= start + 2)
        assert fake.changes()[start:] == [
            f"-E {svc} -s rr -p 60 -M 255.255.255.0",
            f"-d {svc} -r 127.0.0.32:{port}",
        ]


@pytest.mark.asyncio
async def test_a_bad_reload_keeps_the_running_configuration(tmp_path, fake):
    port = backends.free_port("127.0.0.31")
    path = write_config(tmp_path, fake, port)
    async with running(Options(path, dataplane="ipvs")) as daemon:
        sha = daemon.state.sha256
        (tmp_path / "lvs.cf").write_text("virtual {\n")
        assert "error" in await daemon.reload()
        assert daemon.state.sha256 == sha


@pytest.mark.asyncio
async def test_hard_shutdown_steps_down_after_repeated_dataplane_failures(
    tmp_path, fake
):
    port = backends.free_port("127.0.0.31")
    path = write_config(tmp_path, fake, port, servers=1)
    async with running(Options(path, dataplane="ipvs")) as daemon:
        fake.fail.touch()
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(daemon.state.stop.is_set, timeout=8)
        assert daemon.state.exit_code == 3
        assert "command failed!" in daemon.state.dataplane_error


@pytest.mark.asyncio
async def test_without_hard_shutdown_a_failure_is_retried_and_shown(tmp_path, fake):
    port = backends.free_port("127.0.0.31")
    path = write_config(tmp_path, fake, port, servers=1)
    text = (
        (tmp_path / "lvs.cf")
        .read_text()
        .replace("network = direct", "network = direct\nhard_shutdown = 0")
    )
    (tmp_path / "lvs.cf").write_text(text)
    async with running(Options(path, dataplane="ipvs")) as daemon:
        fake.fail.touch()
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(lambda: daemon.state.dataplane_failures >= 2, timeout=5)
            assert not daemon.state.stop.is_set()
            fake.fail.unlink()
            await until(lambda: daemon.state.dataplane_failures == 0, timeout=3)
        assert daemon.state.dataplane_error == ""


@pytest.mark.asyncio
async def test_status_shows_the_kernels_counters_read_back_through_ipvsadm(
    tmp_path, fake
):
    port = backends.free_port("127.0.0.31")
    path = write_config(tmp_path, fake, port, persistent=60, pmask="255.255.255.0")
    async with (
        backends.tcp_server(backends.http_ok, "127.0.0.31", port),
        backends.tcp_server(backends.http_ok, "127.0.0.32", port),
        running(Options(path, dataplane="ipvs")) as daemon,
    ):
        await until(
            lambda: (
                len(fake.table().get(f"TCP  {VIP}:{port}", {}).get("dests", {})) == 2
            )
        )
        service = fake.table()[f"TCP  {VIP}:{port}"]
        assert (service["scheduler"], service["flags"]) == (
            "wlc",
            " persistent 60 mask 255.255.255.0",
        )
        fake.traffic({
            f"127.0.0.31:{port}": {"active": 3, "inactive": 7, "conns": 40,
                                   "inpkts": 400, "outpkts": 300,
                                   "inbytes": 52000, "outbytes": 910000},
            f"127.0.0.32:{port}": {"active": 1, "conns": 2, "inbytes": 100},
        })  # fmt: skip

        def dests():
            return {
                (d["address"], d.get("active"), d.get("inactive"), d.get("conns"))
                for s in status(daemon)["services"]
                for d in s["dests"]
            }

        await until(lambda: ("127.0.0.31", 3, 7, 40) in dests(), timeout=5)
        answer = status(daemon)
        (svc,) = answer["services"]
        first = next(d for d in svc["dests"] if d["address"] == "127.0.0.31")
        assert first["bytes_in"] == 52000 and first["bytes_out"] == 910000
        assert first["packets_in"] == 400 and first["packets_out"] == 300
        assert svc["counters"]["active"] == 4 and svc["counters"]["inactive"] == 7
        assert svc["counters"]["conns"] == 42 and svc["counters"]["bytes_in"] == 52100
        text = format_status(answer)
        assert f"127.0.0.31:{port}" in text
        line = next(x for x in text.splitlines() if f"127.0.0.31:{port}" in x)
        assert line.split()[2:6] == ["Route", "1", "3", "7"]
        assert any(x.startswith("-L -n --exact") for x in fake.lines())


def test_ipvsadm_listings_are_parsed_into_counters():
    table = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.1.250:80 wlc persistent 60 mask 255.255.255.0
  -> 10.0.0.1:80                  Masq    5      12         30
  -> 10.0.0.2:8080                Masq    0      1          0
FWM  100 rr
  -> 10.0.0.3:443                 Route   1      0          4
UDP  [2001:db8::1]:53 sh
  -> [2001:db8::10]:53            Tunnel  2      0          0
SCTP 192.168.1.250:9 rr
  -> 10.0.0.9:9                   Masq    1      5          5
"""
    stats = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  192.168.1.250:80                   107     5000     4000   600000  9000000
  -> 10.0.0.1:80                        100     4900     3900   590000  8900000
  -> 10.0.0.2:8080                        7      100      100    10000   100000
FWM  100                                  4       40       30     4000     3000
  -> 10.0.0.3:443                         4       40       30     4000     3000
UDP  [2001:db8::1]:53                     0        0        0        0        0
  -> [2001:db8::10]:53                    0        0        0        0        0
"""
    got = parse_counters(table, stats)
    web = got[ServiceKey("tcp", "192.168.1.250", 80)]
    assert web["active"] == 13 and web["inactive"] == 30
    assert web["conns"] == 107 and web["bytes_out"] == 9000000
    assert web["dests"]["10.0.0.2:8080"] == {
        "weight": 0, "active": 1, "inactive": 0, "conns": 7, "packets_in": 100,
        "packets_out": 100, "bytes_in": 10000, "bytes_out": 100000,
    }  # fmt: skip
    assert got[ServiceKey("fwm", "", 100)]["dests"]["10.0.0.3:443"]["inactive"] == 4
    dns = got[ServiceKey("udp", "2001:db8::1", 53)]
    assert dns["dests"]["2001:db8::10:53"]["weight"] == 2
    assert len(got) == 3  # SCTP is not a service pulse makes
