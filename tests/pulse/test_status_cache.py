"""status_json: the cached, serialized status answer equals status()."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from pulse.daemon import Options, running
from pulse.status import status
from pulse.status_cache import compact_json, status_json

from . import backends
from .factories import config_text, server, virtual
from .helpers import FakeIpvsadm, until
from .status_reference import compact_status

VIP = "127.0.0.55"


def same(cached, fresh):
    """Equal but for the values that move with the clock."""
    for answer in (cached, fresh):
        answer.pop("uptime")
        for entry in answer["servers"]:
            entry["since_change"] = round(entry["since_change"])
    assert cached == fresh


def check(daemon):
    same(json.loads(status_json(daemon)), status(daemon))
    for form, match in (("not-up", ""), ("not-up", "we"), ("all", "web"), ("all", "x")):
        compact = json.loads(compact_json(daemon, form, match))
        same(compact, compact_status(status(daemon), match, form))


def write(tmp_path, port, **globals_):
    servers = [server(f"r{i}", f"127.0.0.5{i}", weight=4) for i in (6, 7, 8)]
    text = config_text(
        virtual("web", VIP, port, servers, timeout=1, reentry=1, scheduler="rr"),
        **globals_,
    )
    path = tmp_path / "lvs.cf"
    path.write_text(text)
    return str(path)


@pytest.mark.asyncio
async def test_the_cached_answer_follows_checks_admin_traffic_and_reload(tmp_path):
    port = backends.free_port("127.0.0.56")
    path = write(tmp_path, port)
    async with (
        backends.tcp_server(backends.echo, "127.0.0.56", port),
        backends.tcp_server(backends.echo, "127.0.0.57", port),
        running(Options(path)) as daemon,
    ):
        servers = daemon.state.servers
        await until(lambda: servers[("web", "r6")].health == "up", timeout=3)
        check(daemon)
        checks = servers[("web", "r6")].checks
        await until(lambda: servers[("web", "r6")].checks > checks, timeout=3)
        check(daemon)  # a new check result
        await until(lambda: servers[("web", "r8")].health == "down", timeout=3)
        check(daemon)  # a health change
        daemon.state.admin[("web", "r7")] = "drain"
        check(daemon)  # an admin state, before the table follows it
        reader, writer = await asyncio.open_connection(VIP, port)
        writer.write(b"ping\n")
        assert await asyncio.wait_for(reader.readline(), 2) == b"ping\n"
        check(daemon)  # traffic: the service's counters moved
        answer = json.loads(status_json(daemon))
        assert answer["services"][0]["counters"]["bytes_in"] == 5
        writer.close()
        text = (tmp_path / "lvs.cf").read_text().replace("weight = 4", "weight = 2")
        (tmp_path / "lvs.cf").write_text(text)
        assert await daemon.reload() == ""
        check(daemon)
        assert {
            s["configured_weight"] for s in json.loads(status_json(daemon))["servers"]
        } == {2}


@pytest.mark.asyncio
async def test_since_change_is_exact_at_each_poll(tmp_path):
    port = backends.free_port("127.0.0.56")
    async with running(Options(write(tmp_path, port))) as daemon:
        servers = daemon.state.servers
        await until(lambda: all(s.health == "down" for s in servers.values()))
        servers[("web", "r6")].last_change = time.monotonic() - 100
        first = json.loads(status_json(daemon))["servers"][0]["since_change"]
        await asyncio.sleep(0.2)
        second = json.loads(status_json(daemon))["servers"][0]["since_change"]
        assert 100 <= first < second


@pytest.mark.asyncio
async def test_the_ipvs_dataplane_answer_follows_its_counters(tmp_path):
    fake = FakeIpvsadm(tmp_path)
    port = backends.free_port("127.0.0.56")
    path = write(tmp_path, port, ipvsadm=str(fake.path))
    async with (
        backends.tcp_server(backends.echo, "127.0.0.56", port),
        running(Options(path, dataplane="ipvs")) as daemon,
    ):
        await until(lambda: any(x.startswith("-a") for x in fake.changes()), timeout=4)
        fake.traffic({f"127.0.0.56:{port}": {"active": 2, "conns": 9}})

        def conns():
            services = json.loads(status_json(daemon))["services"]
            return [d.get("conns") for s in services for d in s["dests"]]

        deadline = time.monotonic() + 5
        while 9 not in conns() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert 9 in conns()
        check(daemon)
