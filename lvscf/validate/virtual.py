"""Rules for one virtual server (or failover service) block, minus its servers."""

from __future__ import annotations

import re

from ..errors import Path
from ..model import VirtualServer
from ..vocabulary import LOAD_MONITORS, PROTOCOLS, SCHEDULERS
from .checker import Checker
from .fields import is_ipv4, is_netmask
from .servers import real_servers

_ESCAPE = re.compile(r"\\(.|$)")


def virtual(ck: Checker, kind: str, vs: VirtualServer) -> None:
    """One virtual server or failover service, its real servers included."""
    path = (kind, vs.name)
    vip(ck, path, vs)
    ck.enum(path + ("protocol",), vs.protocol, PROTOCOLS)
    ck.enum(path + ("scheduler",), vs.scheduler, SCHEDULERS)
    ck.port(path + ("port",), vs.port)
    persistence(ck, path, vs)
    timing(ck, path, vs)
    checks(ck, path, vs)
    ck.address(path + ("master",), vs.master)
    if vs.sorry_server is not None and not is_ipv4(vs.sorry_server):
        ck.error(path + ("sorry_server",), "the sorry server must be an IPv4 address")
    real_servers(ck, path, vs)


def vip(ck: Checker, path: Path, vs: VirtualServer) -> None:
    """The VIP, its device and netmask."""
    if vs.address is None or vs.address == "0.0.0.0":
        if vs.active:
            kind = "failover service" if path[0] == "failover" else "virtual server"
            ck.error(path + ("address",), f"an active {kind} needs its VIP")
        return
    ck.address(path + ("address",), vs.address)
    ck.device(path + ("device",), vs.device)
    if vs.vip_nmask is not None and not is_netmask(vs.vip_nmask):
        ck.error(path + ("vip_nmask",), f"{vs.vip_nmask} is not a contiguous netmask")


def persistence(ck: Checker, path: Path, vs: VirtualServer) -> None:
    """persistent, pmask and fwmark, which only mean something together."""
    if vs.persistent < 0:
        ck.error(
            path + ("persistent",), "persistence is 0 (off) or a number of seconds"
        )
    if vs.pmask is not None:
        if not is_netmask(vs.pmask):
            ck.error(path + ("pmask",), f"{vs.pmask} is not a contiguous netmask")
        if vs.persistent <= 0:
            ck.warning(
                path + ("pmask",),
                "a persistence netmask without persistence is ignored",
                "set persistent to a number of seconds, or remove pmask",
            )
    if vs.fwmark and vs.persistent <= 0:
        ck.warning(
            path + ("fwmark",),
            "a firewall mark without persistence: connections of one client "
            "may land on different real servers (e.g. FTP control and data)",
            "set persistent when the mark groups ports of one application",
        )


def timing(ck: Checker, path: Path, vs: VirtualServer) -> None:
    """timeout, reentry and load_monitor, as nanny uses them."""
    if vs.timeout < 1:
        ck.error(path + ("timeout",), "timeout must be at least 1 second")
    if vs.reentry < 0:
        ck.error(path + ("reentry",), "reentry must be 0 or more seconds")
    elif vs.reentry == 0:
        ck.warning(path + ("reentry",), "reentry = 0 means 180 seconds to nanny")
    elif vs.timeout >= 1 and vs.timeout > vs.reentry:
        ck.warning(
            path + ("reentry",),
            f"reentry ({vs.reentry} s) is shorter than timeout ({vs.timeout} s): "
            "one successful check puts a failed server back",
        )
    if vs.load_monitor not in LOAD_MONITORS and not vs.load_monitor.startswith("/"):
        ck.warning(
            path + ("load_monitor",),
            f"load_monitor `{vs.load_monitor}` is run as a command with the real "
            "server's address; give an absolute path",
        )


def checks(ck: Checker, path: Path, vs: VirtualServer) -> None:
    """The health check: send, expect, send_program, use_regex."""
    for key in ("send", "expect"):
        value = getattr(vs, key)
        if value is not None:
            regex = key == "expect" and vs.use_regex  # `\.` is regex syntax
            send_string(ck, path + (key,), key, value, regex)
    if vs.send_program is not None:
        send_program(ck, path + ("send_program",), vs.send_program)
    if vs.use_regex and vs.expect is not None:
        try:
            re.compile(vs.expect)
        except re.error as exc:
            ck.error(
                path + ("expect",),
                f"expect is not a valid regular expression: {exc}",
            )
    expect_can_match(ck, path, vs)


def send_string(ck: Checker, path: Path, key: str, value: str, regex: bool) -> None:
    """send/expect hold printable ASCII and the escapes nanny knows."""
    bad = next((ch for ch in value if not 0x20 <= ord(ch) <= 0x7E), None)
    if bad is not None:
        ck.error(
            path,
            f"{key} may hold printable ASCII and the escapes \\n \\r \\t \\\\ "
            f"only; it has U+{ord(bad):04X}",
            "write control characters as escapes, e.g. \\r\\n",
        )
        return
    for match in () if regex else _ESCAPE.finditer(value):
        char = match.group(1)
        if not char or char not in "nrt\\'\"":
            ck.warning(
                path,
                f"`\\{char}` is not an escape nanny knows: it is sent "
                "as a backslash and a character",
            )
            return


def send_program(ck: Checker, path: Path, program: str) -> None:
    """send_program runs without a shell: an absolute path, and `%h`."""
    argv = program.split(" ")
    if not argv[0].startswith("/"):
        ck.error(
            path,
            "send_program must start with an absolute path (it runs as root, "
            "without a shell)",
        )
    if "%h" not in argv[1:]:
        ck.warning(
            path,
            "send_program has no `%h` argument: it cannot tell which real server "
            "to check",
            "pass the address as its own argument: `/usr/local/bin/check %h %p`",
        )


def expect_can_match(ck: Checker, path: Path, vs: VirtualServer) -> None:
    """An expect string an HTTP reply can never start with."""
    expect, send = vs.expect, vs.send
    if expect in (None, "", "*") or vs.use_regex or vs.send_program is not None:
        return
    assert expect is not None
    http = send is not None and send.startswith(("GET ", "HEAD ", "POST "))
    if http and not "HTTP/1.".startswith(expect[:7]):
        ck.warning(
            path + ("expect",),
            f"expect `{expect}` can never match: nanny compares the start of "
            "the reply, and an HTTP reply starts with `HTTP/1.`",
            f"expect the first bytes of the reply (`HTTP`), or set use_regex = 1 "
            f"to search the reply for `{expect}`",
        )
