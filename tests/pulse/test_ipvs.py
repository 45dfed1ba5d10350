"""The ipvs dataplane issues exactly the original's ipvsadm command lines."""

from __future__ import annotations

import logging

import pytest

from pulse.daemon import Options, running

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
            await until(lambda: len(fake.lines()) >= 3)
            assert fake.lines() == [
                "--set 0 0 0",
                f"-A {svc} -s wlc",
                f"-a {svc} -r 127.0.0.31:{port} -g -w 1",
            ]
        assert fake.lines()[3:] == [f"-d {svc} -r 127.0.0.31:{port}", f"-D {svc}"]
    assert f"[ active ] making 127.0.0.31:{port} available" in caplog.text
    assert f"starting virtual service web active: {port}" in caplog.text
    assert "shutting down virtual service web" in caplog.text
    assert "-C" not in fake.lines()  # never flushes foreign services


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
            await until(lambda: fake.lines()[-1].startswith("-a"))
        start = len(fake.lines())
        await until(lambda: status.health == "down", timeout=2.5)  # within one timeout
        await until(lambda: len(fake.lines()) > start)
        assert fake.lines()[start:] == [f"-d {svc} -r 127.0.0.31:{port}"]
        assert (
            f"[inactive] shutting down 127.0.0.31:{port} due to connection failure"
            in caplog.text
        )
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(lambda: status.successes >= 1, timeout=2.5)
            assert status.health == "down"  # reentry = 2 s: two successes
            await until(lambda: status.health == "up", timeout=2.5)
            added = f"-a {svc} -r 127.0.0.31:{port} -g -w 1"
            await until(lambda: fake.lines()[-1] == added)
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
        await until(lambda: f"-a {svc} -r 127.0.0.39:{port} -g -w 1" in fake.lines())
        assert f"-e {svc} -r 127.0.0.31:{port} -g -w 0" in fake.lines()
        assert "web" in daemon.state.sorry
        async with backends.tcp_server(backends.http_ok, "127.0.0.31", port):
            await until(lambda: status.health == "up", timeout=4)
            await until(lambda: fake.lines()[-1] == f"-d {svc} -r 127.0.0.39:{port}")
        assert fake.lines()[-2] == f"-e {svc} -r 127.0.0.31:{port} -g -w 1"


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
        await until(lambda: len([x for x in fake.lines() if x.startswith("-a")]) == 2)
        start = len(fake.lines())
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
        await until(lambda: len(fake.lines()) >= start + 2)
        assert fake.lines()[start:] == [
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
