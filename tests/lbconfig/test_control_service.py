"""lbconfig/control.py against a real `python -m pulse` on loopback addresses.

The `router` fixture gives a short state directory (a Unix socket path has at
most 107 bytes), an lvs.cf whose virtual server balances two real HTTP servers
listening on 127.x addresses of their own, and always stops the pulse it may
have started and the backends.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lbconfig import control, control_embedded
from lbconfig.models import AuditEntry

pytestmark = pytest.mark.django_db

# 127.<pid-derived>.x: loopback addresses no other test run on this machine uses.
NET = f"127.{100 + os.getpid() % 150}.{os.getpid() // 150 % 250}"

LVS_CF = """\
serial_no = {serial}
primary = 127.0.0.1
service = lvs
keepalive = 1
deadtime = 2
network = direct
virtual web {{
     active = 1
     address = {vip} lo
     port = {vport}
     send = "GET / HTTP/1.0\\r\\n\\r\\n"
     expect = "HTTP"
     scheduler = rr
     protocol = tcp
     timeout = 1
     reentry = 1
{servers}}}
"""
SERVER = """\
     server {name} {{
         address = {address}
         active = 1
         port = {port}
         weight = 1
     }}
"""


class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        assert isinstance(server, Server)
        with server.lock:
            server.hits[self.path] += 1
        body = str(self.connection.getsockname()[0]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args):
        super().__init__(*args)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()  # requests by path

    def handle_error(self, request, client_address):
        pass  # the health checks close with a reset (SO_LINGER 0), by design


class Backend:
    """One real server: a threaded HTTP server that counts its requests."""

    def __init__(self, address: str) -> None:
        self.server = Server((address, 0), Quiet)
        self.address, self.port = address, self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@dataclass
class Router:
    var: Path
    vip: str
    vport: int
    backends: list[Backend] = field(default_factory=list)

    def lvs_cf(self, serial: int = 1, names: tuple[str, ...] = ("a", "b")) -> str:
        servers = "".join(
            SERVER.format(name=n, address=b.address, port=b.port)
            for n, b in zip(names, self.backends, strict=False)
        )
        return LVS_CF.format(
            serial=serial, vip=self.vip, vport=self.vport, servers=servers
        )

    def publish(self, text: str | None = None) -> None:
        (self.var / "lvs.cf").write_text(self.lvs_cf() if text is None else text)


def wait_for(predicate, timeout=15.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def serving() -> bool:
    """Active (a standalone router takes over after `deadtime`), all servers up."""
    status = control.status()
    up = {s["health"] for s in status["servers"]} == {"up"}
    return up and status["heartbeat"]["active"] and bool(status["services"])


def healths() -> dict[str, str]:
    status = control.status()
    return {s["server"]: s["health"] for s in status["servers"]}


def reaches(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((address, port)) == 0


def make_router(settings, backends=2):
    var = Path(tempfile.mkdtemp(prefix="pwc-"))
    settings.PIRANHA_VAR_DIR = var
    settings.PIRANHA_LVS_CF = var / "lvs.cf"
    settings.PIRANHA_PULSE_SOCKET = ""
    settings.PIRANHA_PULSE_MODE = "embedded"
    vip = f"{NET}.10"
    router = Router(var=var, vip=vip, vport=free_port(vip))
    router.backends = [Backend(f"{NET}.{11 + n}") for n in range(backends)]
    return router


def tear_down(router: Router) -> None:
    with contextlib.suppress(control.ControlError):
        control.stop_embedded()
    pid = control.live_pid()
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    for backend in router.backends:
        backend.close()
    shutil.rmtree(router.var, ignore_errors=True)


@contextlib.contextmanager
def router_made(settings, backends=2):
    """A router (make_router) that is torn down however the test ends."""
    made = make_router(settings, backends)
    try:
        yield made
    finally:
        tear_down(made)


@pytest.fixture
def router(settings):
    with router_made(settings) as made:
        yield made


@pytest.fixture
def running(router):
    router.publish()
    control.act("start", "alice")
    wait_for(serving, what="pulse active with both servers up")
    return router


def test_start_runs_pulse_on_the_published_lvs_cf(router):
    router.publish()

    result = control.act("start", "alice")

    snap = control.snapshot()
    status = snap.status or {}
    assert result == f"pulse started (pid {status['pid']})."
    assert snap.state == "running"
    assert status["config"] == str(router.var / "lvs.cf")
    assert status["dataplane"] == "userspace"
    assert control.live_pid() == status["pid"]
    entry = AuditEntry.objects.get(action="pulse start")
    assert (entry.user, entry.detail) == ("alice", result)
    wait_for(serving, what="pulse active with both servers up")
    assert reaches(router.vip, router.vport)


def test_start_refuses_an_lvs_cf_with_errors_and_names_them(router):
    router.publish(router.lvs_cf().replace("scheduler = rr", "scheduler = fastest"))

    with pytest.raises(control.ControlError) as caught:
        control.act("start", "alice")

    message = str(caught.value)
    assert message.startswith("pulse did not start: lvs.cf has 1 error: lvs.cf:")
    assert "scheduler must be one of rr, wrr" in message
    assert control.live_pid() is None
    assert control.snapshot().state == "stopped"
    detail = AuditEntry.objects.get(action="pulse start").detail
    assert detail.startswith("failed: pulse did not start")


def test_start_without_a_published_lvs_cf_says_publish_first(router):
    with pytest.raises(control.ControlError, match="nothing is published yet"):
        control.act("start", "alice")


def test_a_pulse_that_exits_at_once_is_reported_with_its_log(router):
    router.publish()
    (router.var / "pulse.sock").write_text("not a socket")
    (router.var / "pulse.log").write_text("an older run's line\n")

    with pytest.raises(control.ControlError) as caught:
        control.act("start", "alice")

    assert "pulse did not start (exit code 1)" in str(caught.value)
    assert "is not a socket" in str(caught.value)
    assert "older run" not in str(caught.value)


def test_start_moves_a_large_log_aside_and_keeps_one_old_log(router, monkeypatch):
    monkeypatch.setattr(control_embedded, "LOG_ROTATE_BYTES", 64)
    router.publish()
    (router.var / "pulse.sock").write_text("not a socket")
    (router.var / "pulse.log.1").write_text("the oldest run\n")
    (router.var / "pulse.log").write_text("an older run's line\n" * 4)

    with pytest.raises(control.ControlError, match="is not a socket"):
        control.act("start", "alice")

    assert (router.var / "pulse.log.1").read_text() == "an older run's line\n" * 4
    log = (router.var / "pulse.log").read_text()
    assert "is not a socket" in log
    assert "older run" not in log


def test_a_second_action_while_one_runs_is_refused(router):
    router.publish()
    with open(router.var / "pulse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(control.ControlError, match="is in progress"):
            control.act("start", "alice")
    assert control.live_pid() is None


def test_start_twice_says_it_is_already_running(running):
    with pytest.raises(control.ControlError, match="already running"):
        control.act("start", "alice")


def test_stop_ends_the_process_and_closes_the_virtual_port(running):
    pid = control.status()["pid"]

    result = control.act("stop", "bob")

    assert result == f"pulse stopped (pid {pid})."
    assert control.snapshot().state == "stopped"
    assert not (running.var / "pulse.sock").exists()
    assert not reaches(running.vip, running.vport)
    assert AuditEntry.objects.filter(action="pulse stop", user="bob").exists()


def test_stop_when_nothing_runs_says_so(router):
    with pytest.raises(control.ControlError, match="pulse is not running"):
        control.act("stop", "bob")


def test_restart_gives_a_new_process(running):
    before = control.status()["pid"]

    result = control.act("restart", "alice")

    after = control.status()["pid"]
    assert after != before
    assert result == f"pulse restarted (pid {after})."


def test_reload_applies_the_new_lvs_cf(running):
    running.publish(running.lvs_cf(serial=2, names=("a",)))

    assert control.act("reload", "alice") == "pulse reloaded lvs.cf."

    status = control.status()
    assert status["serial"] == 2
    assert [s["server"] for s in status["servers"]] == ["a"]


def test_a_reload_pulse_refuses_keeps_the_running_config(running):
    running.publish("virtual {\n")

    with pytest.raises(control.ControlError, match="reload refused"):
        control.act("reload", "alice")

    assert control.status()["serial"] == 1


def test_drain_maint_and_ready_reach_the_real_server(running):
    control.set_admin("drain", "web", "a", "alice")
    assert healths()["a"] == "draining"
    control.set_admin("maint", "web", "b", "alice")
    assert healths()["b"] == "maint"
    control.set_admin("ready", "web", "a", "alice")
    assert healths()["a"] == "up"
    details = list(AuditEntry.objects.values_list("action", "detail"))
    assert ("pulse drain", "web/a") in details
    assert ("pulse ready", "web/a") in details


def test_drain_of_an_unknown_real_server_is_refused_with_pulses_reason(running):
    with pytest.raises(control.ControlError, match="no active real server web/zz"):
        control.set_admin("drain", "web", "zz", "alice")


def test_no_socket_reads_as_stopped(router):
    snap = control.snapshot()

    assert (snap.state, snap.status) == ("stopped", None)


def test_a_socket_nobody_listens_on_reads_as_failed(router):
    path = router.var / "pulse.sock"
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))

    snap = control.snapshot()

    assert snap.state == "failed"
    assert "killed or crashed" in snap.detail


def test_a_killed_pulse_reads_as_failed_with_its_log(running):
    pid = control.status()["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not control_embedded._alive(pid), what="the killed pulse to go")

    snap = control.snapshot()

    assert snap.state == "failed"
    assert any("starting virtual service web" in line for line in snap.log_tail)


def test_a_pulse_that_stops_answering_reads_as_not_answering(running, settings):
    settings.PIRANHA_PULSE_TIMEOUT = 0.3
    pid = control.status()["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        snap = control.snapshot()
    finally:
        os.kill(pid, signal.SIGCONT)

    assert snap.state == "not answering"
    assert f"pid {pid}" in snap.detail
    assert "within 0.3 s" in snap.detail


# --- systemd mode, with stand-ins for sudo and systemctl on PATH ---


@pytest.fixture
def fake_bin(tmp_path, monkeypatch, settings):
    settings.PIRANHA_PULSE_MODE = "systemd"
    settings.PIRANHA_PULSE_SOCKET = str(tmp_path / "absent.sock")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    return tmp_path


def write_program(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.mark.parametrize("verb", control.VERBS)
def test_systemd_mode_runs_sudo_systemctl_with_a_fixed_argument_list(fake_bin, verb):
    log = fake_bin / "sudo.log"
    write_program(fake_bin, "sudo", f'printf "%s\\n" "$*" >> {log}')

    assert control.act(verb, "alice") == f"systemctl {verb} pulse: done."

    assert log.read_text() == f"-n systemctl {verb} pulse\n"
    assert AuditEntry.objects.get(action=f"pulse {verb}").user == "alice"


def test_systemd_mode_shows_why_sudo_refused(fake_bin):
    write_program(fake_bin, "sudo", 'echo "sudo: a password is required" >&2; exit 1')

    with pytest.raises(control.ControlError) as caught:
        control.act("start", "alice")

    assert str(caught.value) == (
        "systemctl start pulse failed: sudo: a password is required"
    )


@pytest.mark.parametrize(
    ("unit", "state"),
    [("failed", "failed"), ("inactive", "stopped"), ("activating", "starting")],
)
def test_systemd_mode_asks_systemctl_when_the_socket_is_silent(fake_bin, unit, state):
    write_program(fake_bin, "systemctl", f"echo {unit}; exit 3")

    snap = control.snapshot()

    assert snap.state == state
    assert f"systemd unit pulse: {unit}" in snap.detail


def test_a_pid_file_naming_another_process_is_not_taken_for_pulse(router):
    """A pid reused after a reboot must never be signalled by STOP."""
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "pulse", "run"]
    )
    try:
        (router.var / "pulse.pid").write_text(f"{other.pid}\n")
        assert control.live_pid() is None
        with contextlib.suppress(control.ControlError):
            control.act("stop", "alice")
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
