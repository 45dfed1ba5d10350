"""Network namespaces for tests and benchmarks, always torn down.

A `Topology` owns namespaces (named ``pw<pid>-<seq>-<role>``), the bridges and
veth pairs between them, and the background processes started in them; closing
it kills the processes and deletes every namespace, which removes the links too.
Links and addresses go through ``ip -n``; code that must run *inside* a
namespace either runs as a program (`Namespace.run`, `Namespace.popen`) or as a
Python function on a thread switched into it (`Namespace.call`).

`build_lvs` makes the two-router LVS topology of the failover tests (see
`LvsTopology`); its real servers run the tiny servers of `wire`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

from .wire import SERVE, SERVE_UDP, icmp_echo, udp_ask, wait_for_port

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_NAME_RE = re.compile(r"^pw(\d+)-\d+-")
_sequence = count(1)


class TopologyError(RuntimeError):
    """A namespace command failed; the message carries the command and its stderr."""


def netns_unavailable() -> str | None:
    """Why namespaces cannot be built here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip program (iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"ip netns is unavailable: {probe.stderr.strip()}"
    return None


def run(argv: Sequence[str], timeout: float = 10.0, check: bool = True) -> str:
    """Run a program without a shell; its stdout, or TopologyError on failure."""
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise TopologyError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def remove_stale_namespaces() -> list[str]:
    """Delete namespaces left by test processes that no longer exist."""
    removed = []
    for name in run(["ip", "netns", "list"]).split():
        match = _NAME_RE.match(name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            run(["ip", "netns", "delete", name], check=False)
            removed.append(name)
    return removed


@dataclass(eq=False)
class Namespace:
    """One network namespace of a topology."""

    name: str
    topology: Topology

    def ip(self, *args: str, check: bool = True) -> str:
        """`ip -n NAME ARGS...`; its stdout."""
        return run(["ip", "-n", self.name, *args], check=check)

    def run(self, *argv: str, timeout: float = 10.0, check: bool = True) -> str:
        """Run a program inside the namespace (`ip netns exec`); its stdout."""
        return run(["ip", "netns", "exec", self.name, *argv], timeout, check)

    def popen(self, *argv: str, **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a background program here; the topology kills it at teardown."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        command = ["ip", "netns", "exec", self.name, *argv]
        process = subprocess.Popen(command, start_new_session=True, **kwargs)
        self.topology.processes.append(process)
        return process

    def call(self, function: Callable[..., T], *args: Any, timeout: float = 30) -> T:
        """Run function(*args) on a thread inside this namespace; its result.

        Sockets it creates stay in this namespace and may be used afterwards.
        """
        box: dict[str, Any] = {}

        def body() -> None:
            try:
                _setns(self.name)
                box["result"] = function(*args)
            except BaseException as error:  # handed to the caller below
                box["error"] = error

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"{function!r} in {self.name} ran over {timeout} s")
        if "error" in box:
            raise box["error"]
        return box["result"]  # type: ignore[no-any-return]

    def sysctl(self, key: str, value: str | int) -> None:
        self.run("sysctl", "-qw", f"{key}={value}")

    def link_up(self, ifname: str) -> None:
        self.ip("link", "set", ifname, "up")

    def link_down(self, ifname: str) -> None:
        self.ip("link", "set", ifname, "down")

    def add_address(self, ifname: str, cidr: str, label: str | None = None) -> None:
        """Add ADDR/PREFIX to a link, with an `eth0:1` style label if given."""
        extra = ["label", label] if label else []
        self.ip("addr", "add", cidr, "dev", ifname, *extra)

    def del_address(self, ifname: str, cidr: str) -> None:
        self.ip("addr", "del", cidr, "dev", ifname)

    def addresses(self, ifname: str | None = None) -> list[str]:
        """The IPv4 addresses here (of one link if named), without prefix."""
        dev = ["dev", ifname] if ifname else []
        links = json.loads(self.ip("-j", "-4", "addr", "show", *dev) or "[]")
        return [a["local"] for link in links for a in link.get("addr_info", [])]

    def add_route(self, destination: str, via: str) -> None:
        """A route; destination "default" makes `via` the default gateway."""
        self.ip("route", "replace", destination, "via", via)

    def mac(self, ifname: str) -> str:
        return str(json.loads(self.ip("-j", "link", "show", ifname))[0]["address"])

    def neighbours(self, ifname: str | None = None) -> dict[str, str]:
        """ARP entries: IPv4 address to link-layer address (entries that have one)."""
        dev = ["dev", ifname] if ifname else []
        entries = json.loads(self.ip("-j", "-4", "neigh", "show", *dev) or "[]")
        return {e["dst"]: e["lladdr"] for e in entries if "lladdr" in e}

    def ping(self, address: str, timeout: float = 2.0) -> bool:
        """One ICMP echo from here to address; whether a reply came in time."""
        return self.call(icmp_echo, address, timeout)

    def wait_for_port(self, address: str, port: int, timeout: float = 10.0) -> None:
        """Wait until a TCP connect to address:port succeeds from here."""
        self.call(wait_for_port, address, port, timeout, timeout=timeout + 5)


@dataclass(eq=False)
class Topology:
    """Namespaces, bridges and processes that `close()` always removes."""

    prefix: str = field(default_factory=lambda: f"pw{os.getpid()}-{next(_sequence)}")
    namespaces: list[Namespace] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _ports: Iterator[int] = field(default_factory=lambda: count(0))

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def namespace(self, role: str) -> Namespace:
        """A new namespace named after its role, with loopback up."""
        ns = Namespace(f"{self.prefix}-{role}", self)
        run(["ip", "netns", "add", ns.name])
        self.namespaces.append(ns)
        ns.link_up("lo")
        ns.sysctl("net.ipv6.conf.all.disable_ipv6", 1)  # no DAD or RS chatter
        return ns

    def bridge(self, switch: Namespace, name: str) -> str:
        """A bridge (up) inside the switch namespace; its name."""
        switch.ip("link", "add", name, "type", "bridge")
        switch.link_up(name)
        return name

    def attach(self, ns: Namespace, ifname: str, switch: Namespace, bridge: str) -> str:
        """A veth from ns (as ifname, up) to a port of the bridge; the port name."""
        port = f"p{next(self._ports)}-{bridge}"[:15]
        switch.ip("link", "add", port, "type", "veth", "peer", ifname, "netns", ns.name)
        switch.ip("link", "set", port, "master", bridge, "up")
        ns.link_up(ifname)
        return port

    def veth(self, a: Namespace, a_if: str, b: Namespace, b_if: str) -> None:
        """A veth pair straight between two namespaces, both ends up."""
        a.ip("link", "add", a_if, "type", "veth", "peer", b_if, "netns", b.name)
        a.link_up(a_if)
        b.link_up(b_if)

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 3.0) -> None:
        """Stop a background program (SIGTERM, then SIGKILL) and reap it."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                continue

    def close(self) -> None:
        """Kill every process, delete every namespace; safe to call twice."""
        while self.processes:
            self.stop(self.processes.pop())
        errors = []
        while self.namespaces:
            name = self.namespaces.pop().name
            done = subprocess.run(["ip", "netns", "delete", name], capture_output=True)
            if done.returncode != 0 and (NETNS_DIR / name).exists():
                errors.append(f"{name}: {done.stderr.decode().strip()}")
        if errors:
            raise TopologyError("could not delete " + "; ".join(errors))


def _setns(name: str) -> None:
    """Move the calling thread into the named network namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(NETNS_DIR / name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name} failed")
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LvsAddresses:
    """The fixed addresses of `build_lvs` (each namespace has its own stack)."""

    client: str = "10.200.1.10"
    primary_public: str = "10.200.1.1"
    backup_public: str = "10.200.1.2"
    vip: str = "10.200.1.100"
    primary_private: str = "10.200.2.1"
    backup_private: str = "10.200.2.2"
    nat_router: str = "10.200.2.254"
    servers: tuple[str, ...] = ("10.200.2.11", "10.200.2.12", "10.200.2.13")
    prefixlen: int = 24


@dataclass(eq=False)
class LvsTopology:
    """client ─ br-pub ─ {primary, backup} ─ br-priv ─ rs1..rsN.

    Routers have eth0 on the public bridge and eth1 on the private one, with
    forwarding on; the VIP and the NAT router IP are *not* up anywhere (pulse
    brings them up, or `float_up` for tests without pulse). Real servers route
    by default via the NAT router IP and serve HTTP on `http_port`, answering
    with their name ("rs1\\n") on every path.
    """

    topology: Topology
    switch: Namespace
    client: Namespace
    primary: Namespace
    backup: Namespace
    servers: list[Namespace]
    addresses: LvsAddresses
    http_port: int
    http: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def float_up(self, router: Namespace) -> None:
        """Bring the VIP (eth0:1) and the NAT router IP (eth1:1) up on router."""
        a = self.addresses
        router.add_address("eth0", f"{a.vip}/32", label="eth0:1")
        router.add_address("eth1", f"{a.nat_router}/{a.prefixlen}", label="eth1:1")

    def float_down(self, router: Namespace) -> None:
        a = self.addresses
        router.del_address("eth0", f"{a.vip}/32")
        router.del_address("eth1", f"{a.nat_router}/{a.prefixlen}")

    def start_http(self, server: Namespace, port: int | None = None) -> None:
        """(Re)start a real server's HTTP server; waits until it answers."""
        port = port or self.http_port
        address = self.addresses.servers[self.servers.index(server)]
        body = server.name.rsplit("-", 1)[1]
        argv = [sys.executable, "-c", SERVE, address, str(port), body]
        process = server.popen(*argv, cwd=REPO_ROOT)
        self.http[f"{server.name}:{port}"] = process
        server.wait_for_port(address, port)

    def start_udp(self, server: Namespace, port: int) -> None:
        """Start a UDP server answering every datagram with the server's name."""
        address = self.addresses.servers[self.servers.index(server)]
        body = server.name.rsplit("-", 1)[1]
        argv = [sys.executable, "-c", SERVE_UDP, address, str(port), body]
        self.http[f"{server.name}:udp:{port}"] = server.popen(*argv, cwd=REPO_ROOT)
        server.call(udp_ask, address, port, 10.0)

    def stop_http(self, server: Namespace, port: int | None = None) -> None:
        process = self.http.pop(f"{server.name}:{port or self.http_port}")
        self.topology.stop(process)


def build_lvs(
    topology: Topology,
    servers: int = 3,
    http_port: int = 80,
    addresses: LvsAddresses | None = None,
) -> LvsTopology:
    """Build the failover topology in `topology` and start the HTTP servers."""
    a = addresses or LvsAddresses()
    switch = topology.namespace("switch")
    pub, priv = topology.bridge(switch, "br-pub"), topology.bridge(switch, "br-priv")
    client = topology.namespace("client")
    topology.attach(client, "eth0", switch, pub)
    client.add_address("eth0", f"{a.client}/{a.prefixlen}")
    routers = []
    for role, public, private in (
        ("primary", a.primary_public, a.primary_private),
        ("backup", a.backup_public, a.backup_private),
    ):
        router = topology.namespace(role)
        topology.attach(router, "eth0", switch, pub)
        topology.attach(router, "eth1", switch, priv)
        router.add_address("eth0", f"{public}/{a.prefixlen}")
        router.add_address("eth1", f"{private}/{a.prefixlen}")
        router.sysctl("net.ipv4.ip_forward", 1)
        routers.append(router)
    primary, backup = routers
    lvs = LvsTopology(topology, switch, client, primary, backup, [], a, http_port)
    for number, address in enumerate(a.servers[:servers], start=1):
        server = topology.namespace(f"rs{number}")
        topology.attach(server, "eth0", switch, priv)
        server.add_address("eth0", f"{address}/{a.prefixlen}")
        server.add_route("default", a.nat_router)
        lvs.servers.append(server)
    for server in lvs.servers:
        lvs.start_http(server)
    return lvs


@contextlib.contextmanager
def lvs_topology(servers: int = 3, http_port: int = 80) -> Iterator[LvsTopology]:
    """`build_lvs` in its own topology, removed on exit (also on errors)."""
    with Topology() as topology:
        yield build_lvs(topology, servers, http_port)
