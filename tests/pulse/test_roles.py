"""The router's role: chosen from the local addresses, or forced."""

from __future__ import annotations

import logging

import pytest

from pulse.daemon import Daemon, Options, running
from pulse.router import choose_role

from .factories import config, config_text, server, virtual
from .helpers import until
from .test_heartbeat_socket import free_udp_port


def test_auto_is_master_when_the_primary_address_is_local():
    cfg = config(primary="192.0.2.1")
    assert choose_role("auto", cfg, {"127.0.0.1", "192.0.2.1"}) is True
    assert choose_role("auto", cfg, {"127.0.0.1", "192.0.2.2"}) is False


def test_a_forced_role_wins_over_the_addresses():
    cfg = config(primary="192.0.2.1")
    assert choose_role("backup", cfg, {"192.0.2.1"}) is False
    assert choose_role("primary", cfg, set()) is True


def write(tmp_path, **globals_):
    text = config_text(
        virtual("web", "127.0.0.80", 8080, [server("r1", "127.0.0.81")], timeout=1),
        **globals_,
    )
    path = tmp_path / "lvs.cf"
    path.write_text(text)
    return str(path)


@pytest.mark.asyncio
async def test_a_backup_marked_inactive_exits_with_the_original_message(
    tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    path = write(tmp_path, primary="192.0.2.1", backup="127.0.0.1")
    daemon = Daemon(Options(path, failover=True))
    assert await daemon.serve() == 0
    assert daemon.state.role == "backup"
    assert (
        "We are backup node and backup is marked inactive -- exiting pulse"
        in caplog.text
    )
    assert "STARTING PULSE" not in caplog.text
    assert "virtual service" not in caplog.text  # nothing started, nothing stopped


@pytest.mark.asyncio
async def test_a_standalone_primary_with_only_loopback_vips_activates_at_once(
    tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    path = write(tmp_path, deadtime=30)  # primary = 127.0.0.1, backup_active = 0
    async with running(Options(path, failover=True)) as daemon:
        assert "STARTING PULSE AS MASTER" in caplog.text
        await until(lambda: daemon.state.active, 3)  # long before deadtime
        await until(lambda: daemon.dataplane.current() != {}, 3)
        status = daemon.state.heartbeat_status()
        assert (status["enabled"], status["role"], status["paths"]) == (
            False,
            "standalone",
            [],
        )
        assert status["failovers"][0]["message"] == "standalone: activating lvs"
    assert daemon.state.failovers[-1]["message"] == "pulse stopping: deactivating lvs"


@pytest.mark.asyncio
async def test_force_active_starts_a_backup_active(tmp_path, caplog):
    port = free_udp_port("127.0.0.1")
    path = write(
        tmp_path,
        primary="192.0.2.1",
        backup="127.0.0.1",
        backup_active=1,
        deadtime=30,
        heartbeat_port=port,
    )
    options = Options(path, failover=True, force_active=True)
    async with running(options) as daemon:
        assert daemon.state.role == "backup"
        await until(lambda: daemon.state.active, 3)
        messages = [f["message"] for f in daemon.state.failovers]
        assert messages == ["forced active: activating lvs"]


@pytest.mark.asyncio
async def test_without_failover_the_runtime_is_active_at_once(tmp_path):
    path = write(tmp_path)
    async with running(Options(path)) as daemon:
        assert daemon.state.active and daemon.state.role == "standalone"
        assert daemon.dataplane.current() != {}
