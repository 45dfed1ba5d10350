"""The control socket and the status view, on a real runtime."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import pytest

from pulse.cli import main
from pulse.control import request
from pulse.daemon import Options, running
from pulse.status import format_status

from . import backends
from .factories import config_text, server, virtual
from .helpers import until

VIP = "127.0.0.50"


def write(tmp_path, port, **keys):
    servers = (server("r1", "127.0.0.51"), server("r2", "127.0.0.52", weight=3))
    text = config_text(
        virtual("web", VIP, port, servers, timeout=1, reentry=1, scheduler="rr", **keys)
    )
    path = tmp_path / "lvs.cf"
    path.write_text(text)
    return str(path)


async def ask(path, **message):
    return await asyncio.to_thread(request, path, message, 5)


@pytest.mark.asyncio
async def test_status_drain_maint_ready_reload_and_stop(tmp_path, capsys):
    port = backends.free_port("127.0.0.51")
    path = write(tmp_path, port)
    sock = str(tmp_path / "pulse.sock")
    async with (
        backends.tcp_server(backends.name_once, "127.0.0.51", port),
        backends.tcp_server(backends.name_once, "127.0.0.52", port),
        running(Options(path, control_socket=sock)) as daemon,
    ):
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660
        servers = daemon.state.servers
        await until(lambda: all(s.health == "up" for s in servers.values()), 3)
        await until(lambda: len(_weights(daemon)) == 2)
        status = (await ask(sock, cmd="status"))["status"]
        assert status["state"] == "running" and status["dataplane"] == "userspace"
        assert len(status["sha256"]) == 64 and status["serial"] == 1
        (service,) = status["services"]
        assert (service["scheduler"], service["address"]) == ("rr", VIP)
        by_name = {s["server"]: s for s in status["servers"]}
        assert by_name["r2"]["configured_weight"] == 3
        assert by_name["r1"]["health"] == "up" and by_name["r1"]["latency"] is not None
        assert any("[ active ] making" in e["message"] for e in status["events"])
        text = format_status(status)
        assert "Prot LocalAddress:Port Scheduler Flags" in text
        assert f"TCP  {VIP}:{port} rr" in text

        assert (await ask(sock, cmd="drain", virtual="web", server="r1"))["ok"]
        await until(lambda: _weights(daemon).get("127.0.0.51") == 0)
        assert (await ask(sock, cmd="maint", virtual="web", server="r2"))["ok"]
        await until(lambda: "127.0.0.52" not in _weights(daemon))
        status = (await ask(sock, cmd="status"))["status"]
        healths = {s["server"]: s["health"] for s in status["servers"]}
        assert healths == {"r1": "draining", "r2": "maint"}

        # Admin states survive a reload until cleared.
        (tmp_path / "lvs.cf").write_text(
            (tmp_path / "lvs.cf")
            .read_text()
            .replace("scheduler = rr", "scheduler = wlc")
        )
        assert (await ask(sock, cmd="reload"))["ok"]
        await until(lambda: _spec(daemon).scheduler == "wlc")
        assert "127.0.0.52" not in _weights(daemon)
        assert (await ask(sock, cmd="ready", virtual="web", server="r2"))["ok"]
        await until(lambda: "127.0.0.52" in _weights(daemon))

        bad = await ask(sock, cmd="drain", virtual="web", server="nope")
        assert not bad["ok"] and "no active real server" in bad["error"]
        assert not (await ask(sock, cmd="bogus"))["ok"]

        assert await asyncio.to_thread(main, ["--control-socket", sock, "status"]) == 0
        assert f"{VIP}:{port}" in capsys.readouterr().out
        assert (
            await asyncio.to_thread(
                main, ["--control-socket", sock, "status", "--json"]
            )
            == 0
        )
        assert json.loads(capsys.readouterr().out)["state"] == "running"

        assert (await ask(sock, cmd="stop"))["ok"]
        await until(lambda: daemon.state.phase == "stopped", 5)
    assert not os.path.exists(sock)


def _spec(daemon):
    (entry,) = daemon.dataplane.current().values()
    return entry.spec


def _weights(daemon):
    (entry,) = daemon.dataplane.current().values()
    return {address: weight for (address, _), weight in entry.dests.items()}


@pytest.mark.asyncio
async def test_a_bad_request_gets_an_error_line(tmp_path):
    path = write(tmp_path, backends.free_port("127.0.0.51"))
    sock = str(tmp_path / "pulse.sock")
    async with running(Options(path, control_socket=sock)):
        reader, writer = await asyncio.open_unix_connection(sock)
        writer.write(b"not json\n")
        answer = json.loads(await asyncio.wait_for(reader.readline(), 2))
        assert answer == {"ok": False, "error": 'expected {"cmd": ...}'}
        writer.close()
        await writer.wait_closed()


@pytest.mark.asyncio
async def test_a_second_runtime_refuses_a_live_socket(tmp_path):
    path = write(tmp_path, backends.free_port("127.0.0.51"))
    sock = str(tmp_path / "pulse.sock")
    async with running(Options(path, control_socket=sock)):
        with pytest.raises(OSError, match="another pulse"):
            async with running(Options(path, control_socket=sock)):
                pass


def test_the_client_reports_an_unreachable_socket(tmp_path, capsys):
    assert main(["--control-socket", str(tmp_path / "none.sock"), "stop"]) == 1
    assert "cannot reach" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_the_compact_status_lists_only_the_real_servers_not_up(tmp_path):
    port = backends.free_port("127.0.0.51")
    path = write(tmp_path, port)
    sock = str(tmp_path / "pulse.sock")
    async with (
        backends.tcp_server(backends.name_once, "127.0.0.51", port),
        running(Options(path, control_socket=sock)) as daemon,
    ):
        servers = daemon.state.servers
        await until(lambda: servers[("web", "r2")].health == "down", 3)
        await until(lambda: servers[("web", "r1")].health == "up", 3)
        status = (await ask(sock, cmd="status", servers="not-up"))["status"]
        assert [s["server"] for s in status["servers"]] == ["r2"]
        assert status["compact"] == {
            "servers": "not-up",
            "match": "",
            "total": 2,
            "service_total": 1,
            "healths": {"up": 1, "down": 1},
        }
        (service,) = status["services"]
        assert service["healths"] == {"up": 1, "down": 1}
        assert [d["address"] for d in service["dests"]] == []  # r2 is out
        assert await ask(sock, cmd="drain", virtual="web", server="r1") == {"ok": True}
        status = (await ask(sock, cmd="status", servers="not-up"))["status"]
        assert [s["health"] for s in status["servers"]] == ["draining", "down"]
        assert [d["address"] for d in status["services"][0]["dests"]] == ["127.0.0.51"]
        status = await ask(sock, cmd="status", servers="not-up", match="nope")
        assert status["status"]["services"] == status["status"]["servers"] == []
        for bad in ({"servers": "up"}, {"match": 5}, {"match": "x" * 65}):
            answer = await ask(sock, cmd="status", **bad)
            assert answer["ok"] is False and "must be" in answer["error"]
