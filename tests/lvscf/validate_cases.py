"""Shared cases for the validate tests: GOOD, a realistic NAT router with no
problem at all, the constructed BASE config, and the helpers that edit one line of
GOOD and check the one problem it then has (severity, message, path, line, column).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lvscf import Config, Problem, RealServer, VirtualServer, parse, validate

GOOD = """\
serial_no = 7
primary = 192.168.1.1
service = lvs
backup_active = 1
backup = 192.168.1.2
heartbeat = 1
heartbeat_port = 539
keepalive = 6
deadtime = 18
network = nat
nat_router = 10.0.0.254 eth1:1
nat_nmask = 255.255.255.0
debug_level = NONE
monitor_links = 0
syncdaemon = 0
virtual web {
     active = 1
     address = 192.168.1.100 eth0:1
     vip_nmask = 255.255.255.0
     port = 80
     send = "GET / HTTP/1.0\\r\\n\\r\\n"
     expect = "HTTP"
     use_regex = 0
     load_monitor = none
     scheduler = wlc
     protocol = tcp
     timeout = 6
     reentry = 15
     quiesce_server = 0
     server web1 {
         address = 10.0.0.11
         active = 1
         weight = 1
     }
     server web2 {
         address = 10.0.0.12
         active = 1
         port = 8080
         weight = 2
     }
}
"""

WEB = ("virtual", "web")
WEB2 = ("virtual", "web", "server", "web2")


def edit(text: str, *changes: tuple[str, str]) -> str:
    """Replace whole lines of `text`, found by their stripped content.

    Each `old` must match exactly one line; `new` keeps that line's indentation
    and may hold several lines (joined by "\\n").
    """
    lines = text.split("\n")
    for old, new in changes:
        found = [k for k, line in enumerate(lines) if line.strip() == old]
        assert len(found) == 1, f"{old!r} matches lines {found}"
        k = found[0]
        indent = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
        lines[k : k + 1] = [indent + part for part in new.split("\n")]
    return "\n".join(lines)


def where(text: str, line_text: str, token: str | None = None) -> tuple[int, int]:
    """(line, column) of `token` (default: the value) on the line `line_text`."""
    lines = text.split("\n")
    found = [n for n, line in enumerate(lines, 1) if line.strip() == line_text]
    assert len(found) == 1, f"{line_text!r} matches lines {found}"
    line = lines[found[0] - 1]
    token = line_text.split()[2] if token is None else token
    return found[0], line.index(token) + 1


def problems_of(text: str) -> list[Problem]:
    return validate(parse(text))


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def assert_one(
    text: str,
    severity: str,
    message: str,
    path: tuple[str, ...],
    line_text: str,
    token: str | None = None,
) -> None:
    """`text` has exactly one problem, and it is this one, at this place."""
    problem = only(problems_of(text))
    assert problem.severity == severity
    assert message in problem.message
    assert problem.path == path
    assert (problem.line, problem.column) == where(text, line_text, token)


def add_virtual(text: str, name: str, lines: str) -> str:
    """`text` with one more virtual block (its body lines given, one per line)."""
    body = "".join(f"     {line}\n" for line in lines.strip().split("\n"))
    return f"{text}virtual {name} {{\n{body}}}\n"


SECOND = """\
active = 1
address = 192.168.1.100 eth0:2
port = 80
protocol = tcp
"""
SERVER = """\
server r1 {
address = 10.0.0.21
active = 1
}
"""


# --- constructed configs ---------------------------------------------------------

BASE_SERVER = RealServer(name="r1", address="10.0.0.11", active=True)
BASE_VIRTUAL = VirtualServer(
    name="web",
    active=True,
    address="192.168.1.100",
    device="eth0:1",
    servers=(BASE_SERVER,),
)
BASE = Config(primary="192.168.1.1", network="direct", virtual_servers=(BASE_VIRTUAL,))


def built(
    virtual: dict[str, Any] | None = None,
    servers: tuple[RealServer, ...] | None = None,
    **settings: Any,
) -> Config:
    """BASE with the virtual's fields, its servers and global settings changed."""
    vs = replace(BASE_VIRTUAL, **(virtual or {}))
    if servers is not None:
        vs = replace(vs, servers=servers)
    return replace(BASE, virtual_servers=(vs,), **settings)


def errors_at(problems: list[Problem], path: tuple[str, ...]) -> list[Problem]:
    return [p for p in problems if p.is_error and p.path == path]
