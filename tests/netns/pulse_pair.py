"""Two real pulse processes on the LVS topology, and a client that keeps asking.

`PulsePair` runs `python -m pulse run --foreground` in the primary and backup
router namespaces of a `LvsTopology`, on one lvs.cf (keepalive 1, deadtime 2,
monitor_links on, NAT); it can kill, stop and restart either, cut a router's
public cable from the switch side, and partition the heartbeat. `Prober` is a
thread inside the client namespace sending one new-connection HTTP request
every few milliseconds to the VIP, recording when each succeeded. Shared by
tests/netns/test_failover.py and bench/failover_bench.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulse.control import request

from .topology import REPO_ROOT, LvsTopology, Namespace, _setns

KEEPALIVE, DEADTIME = 1, 2
ROUTERS = ("primary", "backup")

LVS_CF = """serial_no = 1
primary = {a.primary_public}
primary_private = {a.primary_private}
service = lvs
backup_active = 1
backup = {a.backup_public}
backup_private = {a.backup_private}
heartbeat = 1
heartbeat_port = 539
keepalive = {keepalive}
deadtime = {deadtime}
network = nat
nat_router = {a.nat_router} eth1:1
monitor_links = 1
virtual web {{
     active = 1
     address = {a.vip} eth0:1
     port = {port}
     scheduler = rr
     protocol = tcp
     timeout = 1
     reentry = 1
{servers}}}
"""

SERVER = """     server rs{n} {{
         address = {address}
         active = 1
         weight = 1
     }}
"""

PARTITION = """table inet pw_partition {
    chain input { type filter hook input priority 0; udp dport 539 drop; }
    chain output { type filter hook output priority 0; udp dport 539 drop; }
}
"""


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until predicate() holds; AssertionError naming `what` after timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass(eq=False)
class PulsePair:
    """pulse on both routers of `lvs`, with its files in `directory`."""

    lvs: LvsTopology
    directory: Path
    dataplane: str = "userspace"
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        a = self.lvs.addresses
        servers = "".join(
            SERVER.format(n=n, address=address)
            for n, address in enumerate(a.servers[: len(self.lvs.servers)], start=1)
        )
        self.config = self.directory / "lvs.cf"
        self.config.write_text(
            LVS_CF.format(a=a, keepalive=KEEPALIVE, deadtime=DEADTIME,
                          port=self.lvs.http_port, servers=servers)
        )  # fmt: skip

    def router(self, name: str) -> Namespace:
        return self.lvs.primary if name == "primary" else self.lvs.backup

    def socket_path(self, name: str) -> str:
        return str(self.directory / f"{name}.sock")

    def start(self, name: str) -> None:
        """Start pulse on router `name`; returns once its control socket answers."""
        argv = [sys.executable, "-m", "pulse", "run", "--foreground",
                "--config", str(self.config), "--dataplane", self.dataplane,
                "--control-socket", self.socket_path(name),
                "--pidfile", str(self.directory / f"{name}.pid")]  # fmt: skip
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115
        try:
            process = self.router(name).popen(*argv, cwd=REPO_ROOT, stderr=log)
        finally:
            log.close()
        self.processes[name] = process
        wait(lambda: self._answers(name), 10, f"pulse on {name} to answer")

    def _answers(self, name: str) -> bool:
        process = self.processes[name]
        if process.poll() is not None:
            raise AssertionError(f"pulse on {name} exited:\n{self.log(name)}")
        try:
            self.status(name)
        except OSError:
            return False
        return True

    def stop(self, name: str, sig: int = signal.SIGTERM) -> int:
        """Signal pulse on `name` and reap it; its exit code (SIGKILL leaves
        its addresses behind)."""
        process = self.processes.pop(name)
        os.kill(process.pid, sig)
        return process.wait(timeout=15)

    def status(self, name: str) -> dict[str, Any]:
        answer = request(self.socket_path(name), {"cmd": "status"}, timeout=5)
        status: dict[str, Any] = answer["status"]
        return status

    def active(self, name: str) -> bool:
        try:
            return bool(self.status(name)["heartbeat"]["active"])
        except OSError:
            return False

    def holders(self) -> list[str]:
        """The routers that hold the VIP on eth0 now."""
        vip = self.lvs.addresses.vip
        return [
            name
            for name in ("primary", "backup")
            if vip in self.router(name).addresses("eth0")
        ]

    def arp_points_to(self) -> str | None:
        """Which router's MAC the client's ARP entry for the VIP holds."""
        mac = self.lvs.client.neighbours("eth0").get(self.lvs.addresses.vip)
        for name in ("primary", "backup"):
            if mac == self.router(name).mac("eth0"):
                return name
        return None

    def cable(self, name: str, up: bool, ifname: str = "eth0") -> None:
        """Plug or pull router `name`'s cable on `ifname`, at the switch's port."""
        cable(self.lvs, self.router(name), ifname, up)

    def partition(self, cut: bool) -> None:
        """Drop (or let through again) every heartbeat in and out of the backup."""
        if cut:
            rules = self.directory / "partition.nft"
            rules.write_text(PARTITION)
            self.lvs.backup.run("nft", "-f", str(rules))
        else:
            self.lvs.backup.run("nft", "delete", "table", "inet", "pw_partition")

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def settle(self, active: str, timeout: float = 15) -> None:
        """Wait until `active` alone is active, holds the VIP and is ARPed to."""
        other = "backup" if active == "primary" else "primary"
        try:
            wait(lambda: self.active(active), timeout, f"{active} active")
            wait(lambda: other not in self.processes or not self.active(other),
                 timeout, f"{other} passive")  # fmt: skip
            wait(lambda: self.holders() == [active], timeout, f"the VIP on {active}")
        except AssertionError as exc:
            logs = "\n".join(f"--- {n}:\n{self.log(n)}" for n in ROUTERS)
            raise AssertionError(f"{exc}\n{logs}") from None

    def close(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def cable(lvs: LvsTopology, router: Namespace, ifname: str, up: bool) -> None:
    """Set the switch port facing `router`'s `ifname` up or down."""
    peer = json.loads(router.ip("-j", "link", "show", ifname))[0]
    ports = json.loads(lvs.switch.ip("-j", "link", "show"))
    port = next(p["ifname"] for p in ports if p["ifindex"] == peer["link_index"])
    lvs.switch.ip("link", "set", port, "up" if up else "down")


@dataclass
class Sample:
    sent: float  # monotonic
    ok: bool
    body: str


class Prober(threading.Thread):
    """HTTP GETs to the VIP from the client namespace, one new connection each."""

    def __init__(
        self, lvs: LvsTopology, interval: float = 0.02, timeout: float = 0.5
    ) -> None:
        super().__init__(daemon=True)
        self.lvs, self.interval, self.timeout = lvs, interval, timeout
        self.samples: list[Sample] = []
        self.halt = threading.Event()

    def run(self) -> None:
        _setns(self.lvs.client.name)
        target = (self.lvs.addresses.vip, self.lvs.http_port)
        while not self.halt.is_set():
            sent = time.monotonic()
            body = get(target, self.timeout)
            self.samples.append(Sample(sent, body is not None, body or ""))
            self.halt.wait(max(0.0, sent + self.interval - time.monotonic()))

    def stop(self) -> None:
        self.halt.set()
        if self.ident is not None:  # started
            self.join(timeout=5)

    def since(self, start: float) -> list[Sample]:
        return [s for s in list(self.samples) if s.sent >= start]

    def healthy(self, start: float, run: int = 15) -> bool:
        """The last `run` requests sent after `start` all succeeded."""
        tail = self.since(start)[-run:]
        return len(tail) == run and all(s.ok for s in tail)

    def wait_healthy(self, start: float, timeout: float = 15, run: int = 15) -> None:
        wait(lambda: self.healthy(start, run), timeout, "the service through the VIP")

    def outage(self, start: float) -> float | None:
        """Seconds from the first failure after `start` to the next success."""
        samples = self.since(start)
        first = next((i for i, s in enumerate(samples) if not s.ok), None)
        if first is None:
            return 0.0
        back = next((s for s in samples[first:] if s.ok), None)
        return None if back is None else back.sent - samples[first].sent


def get(target: tuple[str, int], timeout: float) -> str | None:
    """One HTTP/1.0 GET on a new connection; the body, or None on any failure."""
    try:
        with socket.create_connection(target, timeout=timeout) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
        return None
    return body.decode(errors="replace").strip()
