"""A real `python -m pulse` process: signals, shutdown, no child left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pulse.control import request

from . import backends
from .factories import config_text, server, virtual
from .helpers import FakeIpvsadm

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.05)


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def pulse(tmp_path):
    """Start pulse on a config whose check program sleeps; always kill it."""
    marker = tmp_path / "pids"
    prog = tmp_path / "slow-check"
    prog.write_text(f"#!/bin/sh\necho $$ >> {marker}\nsleep 30\n")
    prog.chmod(0o755)
    port = backends.free_port("127.0.0.60")
    cfg = tmp_path / "lvs.cf"
    servers = [server("r1", "127.0.0.61")]
    cfg.write_text(
        config_text(
            virtual(
                "web", "127.0.0.60", port, servers, timeout=2, send_program=str(prog)
            )
        )
    )
    sock = str(tmp_path / "pulse.sock")
    pidfile = tmp_path / "pulse.pid"
    argv = [sys.executable, "-m", "pulse", "run", "--foreground", "--config", str(cfg)]
    argv += ["--control-socket", sock, "--pidfile", str(pidfile)]
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.exists(sock) and marker.exists())
        yield proc, sock, cfg, marker, pidfile
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def check_clean(proc, marker, sock, pidfile):
    for pid in map(int, marker.read_text().split()):
        wait_for(lambda pid=pid: not alive(pid), 5)
    assert not os.path.exists(sock)
    assert not pidfile.exists()
    assert children(proc.pid) == []


def test_sigterm_shuts_down_cleanly_and_kills_running_checks(pulse):
    proc, sock, _, marker, pidfile = pulse
    assert pidfile.read_text().strip() == str(proc.pid)
    assert children(proc.pid)  # the check program is running now
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    stderr = proc.stderr.read()
    assert "shutting down virtual service web" in stderr
    check_clean(proc, marker, sock, pidfile)


def test_sighup_reloads(pulse):
    proc, sock, cfg, _, _ = pulse
    cfg.write_text(cfg.read_text().replace("serial_no = 1", "serial_no = 2"))
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: request(sock, {"cmd": "status"})["status"]["serial"] == 2)
    assert proc.poll() is None


def test_stop_over_the_socket(pulse):
    proc, sock, _, marker, pidfile = pulse
    assert request(sock, {"cmd": "stop"})["ok"]
    assert proc.wait(timeout=10) == 0
    check_clean(proc, marker, sock, pidfile)


def test_sigint_stops_and_a_second_one_forces_exit(pulse):
    proc, _, _, marker, _ = pulse
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) in (0, 130)
    for pid in map(int, marker.read_text().split()):
        wait_for(lambda pid=pid: not alive(pid), 5)


def test_a_missing_config_exits_with_an_error(tmp_path):
    argv = [sys.executable, "-m", "pulse", "run", "--foreground"]
    argv += [
        "--config",
        str(tmp_path / "none.cf"),
        "--control-socket",
        str(tmp_path / "s"),
    ]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "cannot start" in result.stderr


def test_a_dataplane_that_refuses_the_configuration_exits_2_with_its_message(
    tmp_path,
):
    fake = FakeIpvsadm(tmp_path)
    fake.fail.touch()  # `ipvsadm --set` at start fails
    cfg = tmp_path / "lvs.cf"
    cfg.write_text(
        config_text(
            virtual("web", "127.0.0.62", 8062, [server("r1", "127.0.0.63")]),
            ipvsadm=str(fake.path),
        )
    )
    argv = [sys.executable, "-m", "pulse", "run", "--foreground", "--dataplane"]
    argv += ["ipvs", "--config", str(cfg), "--control-socket", str(tmp_path / "s")]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "cannot start" in result.stderr
    assert f"dataplane ipvs: {fake.path} --set 0 0 0 command failed!" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("nft") is None, reason="nft is not installed")
def test_the_nftables_dataplane_refusing_a_scheduler_exits_2_naming_it(tmp_path):
    cfg = tmp_path / "lvs.cf"
    servers = [server("r1", "127.0.0.65")]
    cfg.write_text(
        config_text(virtual("web", "127.0.0.64", 8064, servers), network="nat")
    )
    argv = [sys.executable, "-m", "pulse", "run", "--foreground", "--dataplane"]
    argv += ["nftables", "--config", str(cfg), "--control-socket", str(tmp_path / "s")]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "cannot start" in result.stderr
    assert "dataplane nftables: virtual server web: scheduler wlc" in result.stderr
