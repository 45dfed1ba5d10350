"""validate(config) -> list[Problem]: what will not work, and what likely won't.

Errors are configurations the daemons cannot run as meant (pulse would refuse
to start, ipvsadm would reject a value, two services collide); warnings are
legal but likely mistakes, explained by what will really happen. Problems carry
the path of the field and, for parsed text, its line; parse-time warnings
(octal numbers, repeated keys, ...) are included first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import IPv4Address

from .errors import Path, Problem, Severity
from .gcpause import collector_paused
from .model import Config, RealServer, VirtualServer
from .render import render_problem
from .vocabulary import (
    IFNAMSIZ,
    LOAD_MONITORS,
    NETWORKS,
    PORT_MAX,
    PORT_MIN,
    PROTOCOLS,
    SCHEDULERS,
    SERVICES,
    SYNCD_ID_MAX,
    WEIGHT_MAX,
    WEIGHT_MIN,
)

_DOTTED = re.compile(
    r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
)
_IFNAME = re.compile(r"[^\s/:]+")
_ESCAPE = re.compile(r"\\(.|$)")
_bad_name = re.compile(r"[\s\"'{}]|^=$").search
_UNWRITABLE = re.compile(r"[\n\r\0\"']")


def _maybe_unwritable(config: Config) -> bool:
    """Cheap test before a full render: could any string break the syntax?"""
    strings = [v for v in vars(config).values() if isinstance(v, str)]
    for vs in config.failover_services + config.virtual_servers:
        strings.extend(v for v in vars(vs).values() if isinstance(v, str))
        strings.extend(rs.name + "\x01" + rs.address for rs in vs.servers)
        if vs.dirs or vs.comments:
            return True
        if any(rs.comments for rs in vs.servers):
            return True
    return bool(config.comments) or _UNWRITABLE.search("\x01".join(strings)) is not None


def validate(config: Config) -> list[Problem]:
    """Check a whole configuration; return its problems, errors first by line."""
    checker = _Checker(config)
    with collector_paused():
        checker.run()
    problems = list(config.source.warnings if config.source else ()) + checker.problems
    return sorted(problems, key=_order)


def _order(problem: Problem) -> tuple[int, int, int]:
    return (problem.line or 0, problem.column or 0, 0 if problem.is_error else 1)


def is_ipv4(value: str | None) -> bool:
    """True for a dotted-quad IPv4 address (what the model holds after parsing)."""
    return value is not None and _DOTTED.fullmatch(value) is not None


def is_netmask(value: str) -> bool:
    """True for a dotted netmask whose one-bits are contiguous."""
    if not is_ipv4(value):
        return False
    bits = int(IPv4Address(value))
    inverted = ~bits & 0xFFFFFFFF
    return inverted & (inverted + 1) == 0


def is_device(value: str | None) -> bool:
    """A Linux interface name (`eth0`) or alias label (`eth0:1`), at most 15 bytes."""
    if not value or len(value.encode("utf-8", "surrogatepass")) >= IFNAMSIZ:
        return False
    base, _, alias = value.partition(":")
    if base in (".", "..") or not _IFNAME.fullmatch(base):
        return False
    return not alias or _IFNAME.fullmatch(alias) is not None


class _Checker:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.problems: list[Problem] = []

    def add(
        self,
        severity: Severity,
        path: Path,
        message: str,
        hint: str | None = None,
        nth: int = 0,
    ) -> None:
        """Record a problem; `nth` picks the n-th of several blocks of one name."""
        line = column = None
        source = self.config.source
        if source is not None:
            lines = source.opener_lines(path)
            if nth and nth < len(lines):
                line, column = lines[nth], source.column(lines[nth], 1)
            else:
                found = source.position(path)
                if found is not None:
                    line, column = found
        self.problems.append(Problem(severity, message, path, line, column, hint))

    def error(self, path: Path, message: str, hint: str | None = None) -> None:
        self.add("error", path, message, hint)

    def warning(self, path: Path, message: str, hint: str | None = None) -> None:
        self.add("warning", path, message, hint)

    def run(self) -> None:
        self.globals_()
        self.redundancy()
        self.nat()
        self.services()
        for kind, vs in self.blocks():
            self.virtual(kind, vs)
        self.collisions()
        self.firewall_marks()
        self.names()
        self.representable()

    def blocks(self) -> Iterator[tuple[str, VirtualServer]]:
        for vs in self.config.failover_services:
            yield "failover", vs
        for vs in self.config.virtual_servers:
            yield "virtual", vs

    # --- global settings -------------------------------------------------------------

    def globals_(self) -> None:
        c = self.config
        self.enum(("service",), c.service, SERVICES)
        self.enum(("network",), c.network, NETWORKS)
        if c.service == "fos":
            self.warning(
                ("service",),
                "failover services (service = fos) are deprecated: the piranha-web "
                "runtime runs only virtual servers",
            )
        if c.primary is None:
            self.warning(
                ("primary",),
                "no primary address: pulse cannot tell which router is the primary",
                "set primary to the public IP of the primary router",
            )
        self.address(("primary",), c.primary)
        if c.backup is not None and c.backup != "0.0.0.0":
            self.address(("backup",), c.backup)
        self.address(("primary_private",), c.primary_private)
        self.address(("backup_private",), c.backup_private)
        self.port(("heartbeat_port",), c.heartbeat_port)
        for key in ("tcp_timeout", "tcpfin_timeout", "udp_timeout"):
            if getattr(c, key) < 0:
                self.error(
                    (key,), f"{key} must be 0 (keep the kernel's) or more seconds"
                )
        if c.syncdaemon and not is_device(c.syncd_iface):
            self.error(("syncd_iface",), f"`{c.syncd_iface}` is not an interface name")
        if not 0 <= c.syncd_id <= SYNCD_ID_MAX:
            self.warning(
                ("syncd_id",),
                f"syncd_id {c.syncd_id} is outside 0–{SYNCD_ID_MAX}: pulse uses "
                f"{c.syncd_id & 0xFF}",
            )
        for key in ("active_cmd", "inactive_cmd", "ipvsadm"):
            value = getattr(c, key)
            if value is not None and not value.startswith("/"):
                self.error(
                    (key,), f"{key} must be an absolute path (it runs without a shell)"
                )

    def redundancy(self) -> None:
        c = self.config
        if not c.backup_active:
            return
        if c.backup in (None, "0.0.0.0"):
            self.warning(
                ("backup",),
                "backup_active = 1 but no backup address: pulse turns redundancy off",
                "set backup to the public IP of the backup router",
            )
        elif c.backup == c.primary:
            self.error(("backup",), "the backup address is the primary's")
        primary_private, backup_private = c.private_addresses()
        if (
            backup_private is not None
            and primary_private != c.primary
            and backup_private == primary_private
        ):
            self.error(
                ("backup_private",), "the backup private address is the primary's"
            )
        self.timers()

    def timers(self) -> None:
        c = self.config
        for key in ("keepalive", "deadtime"):
            if getattr(c, key) < 1:
                self.error((key,), f"{key} must be at least 1 second")
        if c.keepalive >= 1 and c.deadtime >= 1 and c.keepalive >= c.deadtime:
            self.error(
                ("deadtime",),
                f"deadtime ({c.deadtime} s) must be longer than keepalive "
                f"({c.keepalive} s), or the backup takes over between two heartbeats",
                "a common choice is deadtime = 3 × keepalive",
            )

    def nat(self) -> None:
        c = self.config
        if c.network == "nat" and c.service == "lvs" and c.virtual_servers:
            if c.nat_router is None:
                self.error(
                    ("network",),
                    "network = nat needs a nat_router: the real servers' gateway "
                    "address that moves with the active router",
                    "add `nat_router = IP DEVICE`, or set network = direct",
                )
        elif c.nat_router is not None:
            self.warning(
                ("nat_router",), f"nat_router is ignored with network = {c.network}"
            )
        if c.nat_router is not None:
            self.address(("nat_router",), c.nat_router)
            self.device(("nat_router_device",), c.nat_router_device)
        if c.nat_nmask is not None and not is_netmask(c.nat_nmask):
            self.error(("nat_nmask",), f"{c.nat_nmask} is not a contiguous netmask")

    def services(self) -> None:
        c = self.config
        blocks = c.failover_services if c.service == "fos" else c.virtual_servers
        if not any(vs.active for vs in blocks):
            kind = "failover service" if c.service == "fos" else "virtual server"
            self.error(
                (),
                f"no active {kind}: pulse will not start "
                '("no active lvs services defined")',
                f"activate at least one {kind} with `active = 1`",
            )

    # --- virtual servers -------------------------------------------------------------

    def virtual(self, kind: str, vs: VirtualServer) -> None:
        path = (kind, vs.name)
        self.vip(path, vs)
        self.enum(path + ("protocol",), vs.protocol, PROTOCOLS)
        self.enum(path + ("scheduler",), vs.scheduler, SCHEDULERS)
        self.port(path + ("port",), vs.port)
        self.persistence(path, vs)
        self.timing(path, vs)
        self.checks(path, vs)
        self.address(path + ("master",), vs.master)
        if vs.sorry_server is not None and not is_ipv4(vs.sorry_server):
            self.error(
                path + ("sorry_server",), "the sorry server must be an IPv4 address"
            )
        self.real_servers(path, vs)

    def vip(self, path: Path, vs: VirtualServer) -> None:
        if vs.address is None or vs.address == "0.0.0.0":
            if vs.active:
                self.error(
                    path + ("address",), "an active virtual server needs its VIP"
                )
            return
        self.address(path + ("address",), vs.address)
        self.device(path + ("device",), vs.device)
        if vs.vip_nmask is not None and not is_netmask(vs.vip_nmask):
            self.error(
                path + ("vip_nmask",), f"{vs.vip_nmask} is not a contiguous netmask"
            )

    def persistence(self, path: Path, vs: VirtualServer) -> None:
        if vs.persistent < 0:
            self.error(
                path + ("persistent",), "persistence is 0 (off) or a number of seconds"
            )
        if vs.pmask is not None:
            if not is_netmask(vs.pmask):
                self.error(path + ("pmask",), f"{vs.pmask} is not a contiguous netmask")
            if vs.persistent <= 0:
                self.warning(
                    path + ("pmask",),
                    "a persistence netmask without persistence is ignored",
                    "set persistent to a number of seconds, or remove pmask",
                )
        if vs.fwmark and vs.persistent <= 0:
            self.warning(
                path + ("fwmark",),
                "a firewall mark without persistence: connections of one client "
                "may land on different real servers (e.g. FTP control and data)",
                "set persistent when the mark groups ports of one application",
            )

    def timing(self, path: Path, vs: VirtualServer) -> None:
        if vs.timeout < 1:
            self.error(path + ("timeout",), "timeout must be at least 1 second")
        if vs.reentry < 0:
            self.error(path + ("reentry",), "reentry must be 0 or more seconds")
        elif vs.reentry == 0:
            self.warning(path + ("reentry",), "reentry = 0 means 180 seconds to nanny")
        elif vs.timeout >= 1 and vs.timeout > vs.reentry:
            self.warning(
                path + ("reentry",),
                f"reentry ({vs.reentry} s) is shorter than timeout ({vs.timeout} s): "
                "one successful check puts a failed server back",
            )
        if vs.load_monitor not in LOAD_MONITORS and not vs.load_monitor.startswith("/"):
            self.warning(
                path + ("load_monitor",),
                f"load_monitor `{vs.load_monitor}` is run as a command with the real "
                "server's address; give an absolute path",
            )

    def checks(self, path: Path, vs: VirtualServer) -> None:
        for key in ("send", "expect"):
            value = getattr(vs, key)
            if value is not None:
                regex = key == "expect" and vs.use_regex  # `\.` is regex syntax
                self.send_string(path + (key,), key, value, regex)
        if vs.send_program is not None:
            self.send_program(path + ("send_program",), vs.send_program)
        if vs.use_regex and vs.expect is not None:
            try:
                re.compile(vs.expect)
            except re.error as exc:
                self.error(
                    path + ("expect",),
                    f"expect is not a valid regular expression: {exc}",
                )
        self.expect_can_match(path, vs)

    def send_string(self, path: Path, key: str, value: str, regex: bool) -> None:
        bad = next((ch for ch in value if not 0x20 <= ord(ch) <= 0x7E), None)
        if bad is not None:
            self.error(
                path,
                f"{key} may hold printable ASCII and the escapes \\n \\r \\t \\\\ "
                f"only; it has U+{ord(bad):04X}",
                "write control characters as escapes, e.g. \\r\\n",
            )
            return
        for match in () if regex else _ESCAPE.finditer(value):
            char = match.group(1)
            if not char or char not in "nrt\\'\"":
                self.warning(
                    path,
                    f"`\\{char}` is not an escape nanny knows: it is sent "
                    "as a backslash and a character",
                )
                return

    def send_program(self, path: Path, program: str) -> None:
        argv = program.split(" ")
        if not argv[0].startswith("/"):
            self.error(
                path,
                "send_program must start with an absolute path (it runs as root, "
                "without a shell)",
            )
        if "%h" not in argv[1:]:
            self.warning(
                path,
                "send_program has no `%h` argument: it cannot tell which real server "
                "to check",
                "pass the address as its own argument: `/usr/local/bin/check %h %p`",
            )

    def expect_can_match(self, path: Path, vs: VirtualServer) -> None:
        expect, send = vs.expect, vs.send
        if expect in (None, "", "*") or vs.use_regex or vs.send_program is not None:
            return
        assert expect is not None
        http = send is not None and send.startswith(("GET ", "HEAD ", "POST "))
        if http and not "HTTP/1.".startswith(expect[:7]):
            self.warning(
                path + ("expect",),
                f"expect `{expect}` can never match: nanny compares the start of "
                "the reply, and an HTTP reply starts with `HTTP/1.`",
                f"expect the first bytes of the reply (`HTTP`), or set use_regex = 1 "
                f"to search the reply for `{expect}`",
            )

    def real_servers(self, path: Path, vs: VirtualServer) -> None:
        # One pass per virtual with the common case inlined: a large router has
        # 17,000 real servers and validation must stay well under 100 ms.
        addresses: dict[tuple[str, int], str] = {}
        names: dict[str, int] = {}
        for rs in vs.servers:
            name, address, port, weight = rs.name, rs.address, rs.port, rs.weight
            if name in names:
                self.add(
                    "error",
                    path + ("server", name),
                    f"two real servers are called `{name}` in this virtual server",
                    nth=names[name],
                )
            names[name] = names.get(name, 0) + 1
            if _bad_name(name) or not name:
                self.block_name(path + ("server", name), name)
            plain = (
                is_ipv4(address)
                and address != "0.0.0.0"
                and PORT_MIN <= port <= PORT_MAX
                and WEIGHT_MIN <= weight <= WEIGHT_MAX
                and not (address == vs.address and port == vs.port)
            )
            if not plain:
                self.real_server(path + ("server", name), vs, rs)
            if rs.active:
                key = (address, port)
                if key in addresses:
                    self.error(
                        path + ("server", name, "address"),
                        f"{address}:{port} is already real server `{addresses[key]}` "
                        "of this virtual server",
                    )
                addresses[key] = name

    def real_server(self, path: Path, vs: VirtualServer, rs: RealServer) -> None:
        if rs.address == "0.0.0.0":
            if rs.active:
                self.error(
                    path + ("address",), "an active real server needs an address"
                )
        else:
            self.address(path + ("address",), rs.address)
        if rs.address == vs.address and rs.port == vs.port:
            self.error(
                path + ("address",),
                "the real server is the virtual server itself: traffic would loop",
            )
        self.port(path + ("port",), rs.port)
        if not WEIGHT_MIN <= rs.weight <= WEIGHT_MAX:
            self.error(
                path + ("weight",),
                f"weight {rs.weight} is out of range {WEIGHT_MIN}–{WEIGHT_MAX}",
            )

    # --- across blocks ---------------------------------------------------------------

    def collisions(self) -> None:
        owners: dict[tuple[str, str, int], str] = {}
        for vs in self.config.virtual_servers:
            if not vs.active or vs.fwmark or vs.address is None:
                continue
            key = (vs.address, vs.protocol, vs.port)
            if key in owners:
                self.error(
                    ("virtual", vs.name, "port"),
                    f"{vs.address}:{vs.port}/{vs.protocol} is already used by "
                    f"virtual server `{owners[key]}`",
                )
            else:
                owners[key] = vs.name

    def firewall_marks(self) -> None:
        groups: dict[int, VirtualServer] = {}
        for vs in self.config.virtual_servers:
            if not vs.active or not vs.fwmark:
                continue
            first = groups.setdefault(vs.fwmark, vs)
            if first is vs:
                continue
            if (first.persistent, first.pmask) != (vs.persistent, vs.pmask):
                self.error(
                    ("virtual", vs.name, "persistent"),
                    f"virtual servers sharing firewall mark {vs.fwmark} must share "
                    f"persistence: `{first.name}` has {first.persistent} s",
                )
            if first.scheduler != vs.scheduler:
                self.warning(
                    ("virtual", vs.name, "scheduler"),
                    f"firewall mark {vs.fwmark} is one service: its scheduler is "
                    f"`{first.scheduler}` from `{first.name}`",
                )

    def names(self) -> None:
        for kind, blocks in (
            ("virtual", self.config.virtual_servers),
            ("failover", self.config.failover_services),
        ):
            seen: dict[str, int] = {}
            for vs in blocks:
                if vs.name in seen:
                    self.add(
                        "warning",
                        (kind, vs.name),
                        f"two {kind} blocks are called `{vs.name}`: both are used, "
                        "but tools that go by name see only the first",
                        "give each block its own name",
                        nth=seen[vs.name],
                    )
                seen[vs.name] = seen.get(vs.name, 0) + 1
                self.block_name((kind, vs.name), vs.name)

    def block_name(self, path: Path, name: str) -> None:
        if not name or _bad_name(name):
            self.error(
                path,
                f"the name `{name}` must be one word without quotes or braces "
                "(the original GUI cannot read it otherwise)",
                "use letters, digits, `-`, `_` and `.`",
            )

    def representable(self) -> None:
        if not _maybe_unwritable(self.config):
            return
        problem = render_problem(self.config)
        if problem is not None:
            self.problems.append(problem)

    # --- field helpers ---------------------------------------------------------------

    def address(self, path: Path, value: str | None) -> None:
        if value is None or is_ipv4(value):
            return
        self.error(
            path,
            f"`{value}` is not an IPv4 address",
            "write the address: host names are resolved by the original at every "
            "start, which is slow and fails without DNS",
        )

    def device(self, path: Path, value: str | None) -> None:
        if not value:
            self.error(path, "the address needs a device, e.g. eth0:1")
        elif not is_device(value):
            self.error(
                path,
                f"`{value}` is not an interface name or alias such as eth0 or eth0:1",
                f"at most {IFNAMSIZ - 1} characters, no spaces or `/`",
            )

    def port(self, path: Path, value: int) -> None:
        if not PORT_MIN <= value <= PORT_MAX:
            self.error(path, f"port {value} is out of range {PORT_MIN}–{PORT_MAX}")

    def enum(self, path: Path, value: str, choices: tuple[str, ...]) -> None:
        if value not in choices:
            self.error(path, f"`{value}` is not one of {', '.join(choices)}")
