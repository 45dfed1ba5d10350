"""validate(): one test per rule, on parsed lvs.cf text and on constructed configs.

Parsed cases start from GOOD, a realistic NAT router with one virtual server and
two real servers that has no problem at all, and change one or two lines; each
test then checks the severity, a substring of the message, the path of the field
and the line and column the problem points at.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from lvscf import (
    Config,
    ParseError,
    Problem,
    RealServer,
    RenderError,
    VirtualServer,
    parse,
    render,
    validate,
)

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


# --- whole configs ---------------------------------------------------------------


def test_a_good_realistic_config_has_no_problems() -> None:
    assert problems_of(GOOD) == []


def test_the_constructed_base_config_has_no_problems() -> None:
    assert validate(BASE) == []


def test_problems_are_sorted_by_line() -> None:
    text = edit(
        GOOD,
        ("weight = 2", "weight = 70000"),
        ("timeout = 6", "timeout = 0"),
        ("keepalive = 6", "keepalive = 0"),
        ("vip_nmask = 255.255.255.0", "vip_nmask = 255.0.255.0"),
    )
    problems = problems_of(text)
    assert [p.line for p in problems] == [8, 19, 27, 39]
    assert [p.path[-1] for p in problems] == [
        "keepalive",
        "vip_nmask",
        "timeout",
        "weight",
    ]


def test_parse_time_warnings_appear_in_the_result_in_line_order() -> None:
    text = edit(GOOD, ("heartbeat_port = 539", "heartbeat_port = 01033"))
    text = edit(text, ("timeout = 6", "timeout = 0"))
    config = parse(text)
    assert config.source is not None
    assert len(config.source.warnings) == 1
    problems = validate(config)
    assert [(p.severity, p.line, p.column) for p in problems] == [
        ("warning", 7, 18),
        ("error", 27, 16),
    ]
    assert "`01033` starts with 0, so it is octal: it is read as 539" in (
        problems[0].message
    )
    assert problems[0] == config.source.warnings[0]


def test_a_parse_time_warning_names_the_field_it_is_about() -> None:
    text = edit(GOOD, ("heartbeat_port = 539", "heartbeat_port = 01033"))
    assert only(problems_of(text)).path == ("heartbeat_port",)


def test_a_repeated_key_warning_comes_from_the_parser_with_its_path() -> None:
    text = edit(GOOD, ("keepalive = 6", "keepalive = 6\nkeepalive = 6"))
    problem = only(problems_of(text))
    assert problem.severity == "warning"
    assert "`keepalive` is set again (first on line 8)" in problem.message
    assert problem.path == ("keepalive",)
    assert (problem.line, problem.column) == (9, 1)


# --- addresses, netmasks, devices ------------------------------------------------


@pytest.mark.parametrize(
    ("line", "new", "path"),
    [
        ("address = 10.0.0.12", "address = web2.example.com", WEB2 + ("address",)),
        (
            "address = 192.168.1.100 eth0:1",
            "address = vip.example.com eth0:1",
            WEB + ("address",),
        ),
    ],
    ids=["real-server", "vip"],
)
def test_a_host_name_where_an_ipv4_address_belongs_is_an_error(
    line: str, new: str, path: tuple[str, ...]
) -> None:
    name = new.split()[2]
    text = edit(GOOD, (line, new))
    assert_one(text, "error", f"`{name}` is not an IPv4 address", path, new)


@pytest.mark.parametrize(
    ("line", "new", "key"),
    [
        ("primary = 192.168.1.1", "primary = lb1.example.com", "primary"),
        ("backup = 192.168.1.2", "backup = lb2.example.com", "backup"),
    ],
    ids=["primary", "backup"],
)
def test_a_host_name_for_a_router_is_one_error_on_its_own_line(
    line: str, new: str, key: str
) -> None:
    # The model copies primary/backup into the private addresses the file does
    # not set: the problem is the public key the admin wrote, reported once.
    name = new.split()[2]
    text = edit(GOOD, (line, new))
    assert_one(text, "error", f"`{name}` is not an IPv4 address", (key,), new)


@pytest.mark.parametrize(
    ("line", "new", "path"),
    [
        ("nat_nmask = 255.255.255.0", "nat_nmask = 255.0.255.0", ("nat_nmask",)),
        (
            "vip_nmask = 255.255.255.0",
            "vip_nmask = 255.0.255.0",
            WEB + ("vip_nmask",),
        ),
    ],
)
def test_a_netmask_with_a_hole_in_its_one_bits_is_an_error(
    line: str, new: str, path: tuple[str, ...]
) -> None:
    text = edit(GOOD, (line, new))
    assert_one(text, "error", "255.0.255.0 is not a contiguous netmask", path, new)


def test_a_persistence_netmask_with_a_hole_is_an_error() -> None:
    text = edit(GOOD, ("port = 80", "port = 80\npersistent = 60\npmask = 255.0.255.0"))
    assert_one(
        text,
        "error",
        "255.0.255.0 is not a contiguous netmask",
        WEB + ("pmask",),
        "pmask = 255.0.255.0",
    )


@pytest.mark.parametrize(
    "device", ["eth0", "eth0:1", "bond0.100:vip", "abcdefghijklmno", "abcdefghijkl:12"]
)
def test_interface_names_and_alias_labels_up_to_15_bytes_are_fine(device: str) -> None:
    text = edit(
        GOOD,
        ("address = 192.168.1.100 eth0:1", f"address = 192.168.1.100 {device}"),
        ("nat_router = 10.0.0.254 eth1:1", f"nat_router = 10.0.0.254 {device}"),
    )
    assert problems_of(text) == []


@pytest.mark.parametrize(
    "device", ["abcdefghijklmnop", "abcdefghijklm:12", "eth/0", "eth0:1/2"]
)
def test_a_vip_device_that_is_no_interface_name_is_an_error(device: str) -> None:
    new = f"address = 192.168.1.100 {device}"
    text = edit(GOOD, ("address = 192.168.1.100 eth0:1", new))
    assert_one(
        text,
        "error",
        f"`{device}` is not an interface name or alias such as eth0 or eth0:1",
        WEB + ("device",),
        new,
        device,
    )


def test_a_nat_router_device_with_a_slash_is_an_error() -> None:
    new = "nat_router = 10.0.0.254 eth1/1"
    text = edit(GOOD, ("nat_router = 10.0.0.254 eth1:1", new))
    assert_one(
        text,
        "error",
        "`eth1/1` is not an interface name",
        ("nat_router_device",),
        new,
        "eth1/1",
    )


def test_a_sync_daemon_interface_that_is_too_long_is_an_error() -> None:
    new = "syncd_iface = abcdefghijklmnop"
    text = edit(GOOD, ("syncdaemon = 0", "syncdaemon = 1\n" + new))
    assert_one(
        text,
        "error",
        "`abcdefghijklmnop` is not an interface name",
        ("syncd_iface",),
        new,
    )


def test_a_constructed_vip_without_a_device_says_the_device_is_missing() -> None:
    problems = validate(built({"device": None}))
    errors = errors_at(problems, WEB + ("device",))
    assert errors, [p.format() for p in problems]
    assert all("None" not in p.message for p in problems), [p.message for p in problems]


# --- numbers ---------------------------------------------------------------------


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_a_virtual_port_outside_1_to_65535_is_an_error(port: str) -> None:
    # web1 has no `port` line: it takes the virtual's port, and is wrong too.
    text = edit(GOOD, ("port = 80", f"port = {port}"))
    problems = problems_of(text)
    assert [(p.severity, p.path, p.line, p.column) for p in problems] == [
        ("error", WEB + ("port",), 20, 13),
        ("error", WEB + ("server", "web1", "port"), 30, 13),
    ]
    assert all(f"port {port} is out of range 1–65535" in p.message for p in problems)


@pytest.mark.parametrize("port", ["0", "65536"])
def test_a_real_server_port_outside_1_to_65535_is_an_error(port: str) -> None:
    text = edit(GOOD, ("port = 8080", f"port = {port}"))
    assert_one(
        text,
        "error",
        f"port {port} is out of range 1–65535",
        WEB2 + ("port",),
        f"port = {port}",
    )


def test_a_heartbeat_port_outside_1_to_65535_is_an_error() -> None:
    text = edit(GOOD, ("heartbeat_port = 539", "heartbeat_port = 70000"))
    assert_one(
        text,
        "error",
        "port 70000 is out of range 1–65535",
        ("heartbeat_port",),
        "heartbeat_port = 70000",
    )


@pytest.mark.parametrize("port", ["1", "65535"])
def test_ports_1_and_65535_are_fine(port: str) -> None:
    text = edit(
        GOOD, ("port = 80", f"port = {port}"), ("port = 8080", f"port = {port}")
    )
    assert problems_of(text) == []


@pytest.mark.parametrize("weight", ["-1", "65536"])
def test_a_weight_outside_0_to_65535_is_an_error(weight: str) -> None:
    text = edit(GOOD, ("weight = 2", f"weight = {weight}"))
    assert_one(
        text,
        "error",
        f"weight {weight} is out of range 0–65535",
        WEB2 + ("weight",),
        f"weight = {weight}",
    )


@pytest.mark.parametrize("weight", ["0", "65535"])
def test_weights_0_and_65535_are_fine(weight: str) -> None:
    assert problems_of(edit(GOOD, ("weight = 2", f"weight = {weight}"))) == []


@pytest.mark.parametrize(
    ("line", "new", "path", "message"),
    [
        ("keepalive = 6", "keepalive = 0", ("keepalive",), "keepalive must be at"),
        ("deadtime = 18", "deadtime = 0", ("deadtime",), "deadtime must be at least"),
        ("timeout = 6", "timeout = 0", WEB + ("timeout",), "timeout must be at least"),
        ("timeout = 6", "timeout = -5", WEB + ("timeout",), "timeout must be at least"),
    ],
)
def test_a_timer_below_one_second_is_an_error(
    line: str, new: str, path: tuple[str, ...], message: str
) -> None:
    assert_one(edit(GOOD, (line, new)), "error", message, path, new)


@pytest.mark.parametrize("deadtime", ["6", "3"])
def test_a_deadtime_not_longer_than_keepalive_is_an_error(deadtime: str) -> None:
    new = f"deadtime = {deadtime}"
    assert_one(
        edit(GOOD, ("deadtime = 18", new)),
        "error",
        f"deadtime ({deadtime} s) must be longer than keepalive (6 s)",
        ("deadtime",),
        new,
    )


def test_heartbeat_timers_do_not_matter_without_a_backup() -> None:
    text = edit(
        GOOD,
        ("backup_active = 1", "backup_active = 0"),
        ("deadtime = 18", "deadtime = 3"),
    )
    assert problems_of(text) == []


def test_a_timeout_longer_than_reentry_is_a_warning() -> None:
    assert_one(
        edit(GOOD, ("reentry = 15", "reentry = 5")),
        "warning",
        "reentry (5 s) is shorter than timeout (6 s)",
        WEB + ("reentry",),
        "reentry = 5",
    )


def test_a_timeout_equal_to_reentry_is_fine() -> None:
    assert problems_of(edit(GOOD, ("reentry = 15", "reentry = 6"))) == []


def test_a_syncd_id_above_255_is_a_warning_that_says_what_pulse_uses() -> None:
    new = "syncd_id = 300"
    assert_one(
        edit(GOOD, ("syncdaemon = 0", "syncdaemon = 1\n" + new)),
        "warning",
        "syncd_id 300 is outside 0–255: pulse uses 44",
        ("syncd_id",),
        new,
    )


def test_a_syncd_id_of_255_is_fine() -> None:
    assert problems_of(edit(GOOD, ("syncdaemon = 0", "syncd_id = 255"))) == []


# --- routers, NAT and services ---------------------------------------------------


def test_a_backup_equal_to_the_primary_is_an_error() -> None:
    new = "backup = 192.168.1.1"
    assert_one(
        edit(GOOD, ("backup = 192.168.1.2", new)),
        "error",
        "the backup address is the primary's",
        ("backup",),
        new,
    )


def test_nat_without_a_nat_router_is_an_error_on_the_network_line() -> None:
    text = edit(GOOD, ("nat_router = 10.0.0.254 eth1:1", "# no router"))
    assert_one(
        text,
        "error",
        "network = nat needs a nat_router",
        ("network",),
        "network = nat",
    )


@pytest.mark.parametrize("network", ["direct", "tunnel"])
def test_a_nat_router_with_another_network_is_a_warning(network: str) -> None:
    assert_one(
        edit(GOOD, ("network = nat", f"network = {network}")),
        "warning",
        f"nat_router is ignored with network = {network}",
        ("nat_router",),
        "nat_router = 10.0.0.254 eth1:1",
    )


def test_a_config_without_an_active_virtual_server_is_an_error() -> None:
    text = GOOD.replace(
        "     active = 1\n     address", "     active = 0\n     address"
    )
    assert text != GOOD
    problem = only(problems_of(text))
    assert problem.severity == "error"
    assert "no active virtual server: pulse will not start" in problem.message
    assert problem.path == ()
    assert problem.line is None


def test_a_config_without_any_virtual_server_is_an_error() -> None:
    problems = validate(replace(BASE, virtual_servers=()))
    assert [(p.severity, p.path) for p in problems] == [("error", ())]
    assert "no active virtual server" in problems[0].message


def test_an_active_virtual_server_without_a_vip_is_an_error() -> None:
    text = edit(GOOD, ("address = 192.168.1.100 eth0:1", "# no VIP"))
    problem = only(problems_of(text))
    assert (problem.severity, problem.path) == ("error", WEB + ("address",))
    assert "an active virtual server needs its VIP" in problem.message
    assert (problem.line, problem.column) == (16, 9)  # the block's opening line


# --- virtual servers that collide ------------------------------------------------


def test_two_active_virtual_servers_on_one_vip_protocol_and_port_are_an_error() -> None:
    text = add_virtual(GOOD, "web_again", SECOND + SERVER)
    problems = problems_of(text)
    problem = only(problems)
    assert problem.severity == "error"
    assert "192.168.1.100:80/tcp is already used by virtual server `web`" in (
        problem.message
    )
    assert problem.path == ("virtual", "web_again", "port")
    assert (problem.line, problem.column) == (45, 13)


@pytest.mark.parametrize(
    "change",
    [
        ("protocol = tcp", "protocol = udp"),
        ("port = 80", "port = 443"),
        ("address = 192.168.1.100 eth0:2", "address = 192.168.1.101 eth0:2"),
        ("active = 1", "active = 0"),
    ],
    ids=["other-protocol", "other-port", "other-vip", "inactive"],
)
def test_virtual_servers_that_differ_or_are_inactive_do_not_collide(
    change: tuple[str, str],
) -> None:
    second = edit(SECOND, change)
    text = add_virtual(GOOD, "web_again", second + SERVER)
    assert problems_of(text) == []


def test_an_inactive_virtual_server_does_not_own_its_vip() -> None:
    first_off = GOOD.replace(
        "     active = 1\n     address", "     active = 0\n     address"
    )
    text = add_virtual(first_off, "web_again", SECOND + SERVER)
    assert problems_of(text) == []


def test_a_third_colliding_virtual_server_names_the_first_owner() -> None:
    text = add_virtual(GOOD, "b", SECOND + SERVER)
    text = add_virtual(text, "c", SECOND + SERVER)
    problems = problems_of(text)
    assert [p.path for p in problems] == [
        ("virtual", "b", "port"),
        ("virtual", "c", "port"),
    ]
    assert all("already used by virtual server `web`" in p.message for p in problems)


# --- firewall marks and persistence ----------------------------------------------


def test_virtual_servers_sharing_a_firewall_mark_must_share_persistence() -> None:
    text = edit(GOOD, ("port = 80", "fwmark = 5\npersistent = 60\nport = 80"))
    text = add_virtual(
        text,
        "tls",
        "active = 1\naddress = 192.168.1.101 eth0:2\nport = 443\nfwmark = 5\n"
        "persistent = 30\nserver r1 {\naddress = 10.0.0.21\nactive = 1\n}",
    )
    problem = only(problems_of(text))
    assert problem.severity == "error"
    assert (
        "virtual servers sharing firewall mark 5 must share persistence: `web` has 60 s"
    ) in problem.message
    assert problem.path == ("virtual", "tls", "persistent")
    assert (problem.line, problem.column) == where(text, "persistent = 30")


def test_virtual_servers_sharing_a_firewall_mark_and_persistence_are_fine() -> None:
    a = replace(BASE_VIRTUAL, name="a", fwmark=5, persistent=60)
    b = replace(a, name="b", address="192.168.1.101", port=443)
    assert validate(replace(BASE, virtual_servers=(a, b))) == []


def test_a_different_persistence_netmask_under_one_firewall_mark_is_an_error() -> None:
    a = replace(BASE_VIRTUAL, name="a", fwmark=5, persistent=60)
    b = replace(a, name="b", address="192.168.1.101", pmask="255.255.255.0")
    problem = only(validate(replace(BASE, virtual_servers=(a, b))))
    assert (problem.severity, problem.path) == ("error", ("virtual", "b", "persistent"))
    assert "sharing firewall mark 5 must share persistence" in problem.message


def test_a_second_scheduler_under_one_firewall_mark_is_a_warning() -> None:
    a = replace(BASE_VIRTUAL, name="a", fwmark=5, persistent=60)
    b = replace(a, name="b", address="192.168.1.101", scheduler="rr")
    problem = only(validate(replace(BASE, virtual_servers=(a, b))))
    assert (problem.severity, problem.path) == (
        "warning",
        ("virtual", "b", "scheduler"),
    )
    assert problem.message == (
        "firewall mark 5 is one service: its scheduler is `wlc` from `a`"
    )


def test_an_inactive_virtual_server_does_not_join_a_firewall_mark() -> None:
    a = replace(BASE_VIRTUAL, name="a", fwmark=5, persistent=60)
    b = replace(a, name="b", active=False, persistent=1)
    assert validate(replace(BASE, virtual_servers=(a, b))) == []


def test_a_firewall_mark_without_persistence_is_a_warning() -> None:
    text = edit(GOOD, ("port = 80", "fwmark = 5\nport = 80"))
    assert_one(
        text,
        "warning",
        "a firewall mark without persistence",
        WEB + ("fwmark",),
        "fwmark = 5",
    )


def test_a_persistence_netmask_without_persistence_is_a_warning() -> None:
    text = edit(GOOD, ("port = 80", "pmask = 255.255.255.0\nport = 80"))
    assert_one(
        text,
        "warning",
        "a persistence netmask without persistence is ignored",
        WEB + ("pmask",),
        "pmask = 255.255.255.0",
    )


def test_a_persistence_netmask_with_persistence_is_fine() -> None:
    text = edit(
        GOOD, ("port = 80", "persistent = 300\npmask = 255.255.255.0\nport = 80")
    )
    assert problems_of(text) == []


# --- sorry server ----------------------------------------------------------------


def test_a_sorry_server_ip_is_fine() -> None:
    assert (
        problems_of(edit(GOOD, ("port = 80", "sorry_server = 10.0.0.99\nport = 80")))
        == []
    )


def test_a_constructed_sorry_server_host_name_is_an_error() -> None:
    problem = only(validate(built({"sorry_server": "sorry.example.com"})))
    assert (problem.severity, problem.path) == ("error", WEB + ("sorry_server",))
    assert "the sorry server must be an IPv4 address" in problem.message
    assert problem.line is None


def test_a_sorry_server_host_name_in_text_is_rejected_by_the_parser() -> None:
    text = edit(GOOD, ("port = 80", "sorry_server = sorry.example.com\nport = 80"))
    with pytest.raises(ParseError) as caught:
        parse(text)
    problem = only(caught.value.problems)
    assert problem.message == "invalid host name or ip address"
    assert (problem.line, problem.column) == (20, 21)


# --- health checks: send, expect, send_program -----------------------------------


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("send", "GET /\tHTTP/1.0", "U+0009"),
        ("expect", "HTTP\x0b", "U+000B"),
        ("expect", "caf\u00e9", "U+00E9"),
    ],
)
def test_a_raw_control_or_non_ascii_character_in_send_or_expect_is_an_error(
    key: str, value: str, code: str
) -> None:
    old = 'send = "GET / HTTP/1.0\\r\\n\\r\\n"' if key == "send" else 'expect = "HTTP"'
    new = f'{key} = "{value}"'
    text = edit(GOOD, (old, new))
    problem = only([p for p in problems_of(text) if p.is_error])
    assert (
        f"{key} may hold printable ASCII and the escapes \\n \\r \\t \\\\ only; "
        f"it has {code}"
    ) in problem.message
    assert problem.path == WEB + (key,)
    assert (problem.line, problem.column) == (
        where(text, new)[0],
        13 if key == "send" else 15,
    )


@pytest.mark.parametrize("escapes", ["\\r\\n", "\\t", "\\\\", "a\\\\q"])
def test_the_escapes_nanny_knows_are_fine(escapes: str) -> None:
    text = edit(
        GOOD, ('send = "GET / HTTP/1.0\\r\\n\\r\\n"', f'send = "GET / {escapes}"')
    )
    assert problems_of(text) == []


def test_an_escape_nanny_does_not_know_is_a_warning() -> None:
    new = 'send = "GET / HTTP/1.0\\q"'
    text = edit(GOOD, ('send = "GET / HTTP/1.0\\r\\n\\r\\n"', new))
    assert_one(
        text,
        "warning",
        "`\\q` is not an escape nanny knows",
        WEB + ("send",),
        new,
        '"',
    )


def test_a_send_program_without_an_absolute_path_is_an_error() -> None:
    new = 'send_program = "check_web %h"'
    assert_one(
        edit(GOOD, ("use_regex = 0", "use_regex = 0\n" + new)),
        "error",
        "send_program must start with an absolute path",
        WEB + ("send_program",),
        new,
        '"',
    )


def test_a_send_program_without_a_host_argument_is_a_warning() -> None:
    new = 'send_program = "/usr/local/bin/check_web"'
    assert_one(
        edit(GOOD, ("use_regex = 0", "use_regex = 0\n" + new)),
        "warning",
        "send_program has no `%h` argument",
        WEB + ("send_program",),
        new,
        '"',
    )


def test_a_send_program_with_an_absolute_path_and_a_host_argument_is_fine() -> None:
    new = 'send_program = "/usr/local/bin/check_web %h %p"'
    assert problems_of(edit(GOOD, ("use_regex = 0", "use_regex = 0\n" + new))) == []


def test_an_expect_that_an_http_reply_can_never_start_with_is_a_warning() -> None:
    new = 'expect = "200"'
    assert_one(
        edit(GOOD, ('expect = "HTTP"', new)),
        "warning",
        "expect `200` can never match",
        WEB + ("expect",),
        new,
        '"',
    )


@pytest.mark.parametrize("expect", ["HTTP", "HTTP/1.", "HTTP/1.1 200 OK", "*"])
def test_an_expect_that_an_http_reply_can_start_with_is_fine(expect: str) -> None:
    assert problems_of(edit(GOOD, ('expect = "HTTP"', f'expect = "{expect}"'))) == []


def test_an_expect_searched_as_a_regular_expression_is_fine() -> None:
    text = edit(
        GOOD, ('expect = "HTTP"', 'expect = "200"'), ("use_regex = 0", "use_regex = 1")
    )
    assert problems_of(text) == []


# --- enumerations (only constructed configs can hold other values) ---------------


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        (
            built({"scheduler": "fifo"}),
            WEB + ("scheduler",),
            "`fifo` is not one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh",
        ),
        (
            built({"protocol": "sctp"}),
            WEB + ("protocol",),
            "`sctp` is not one of tcp, udp",
        ),
        (
            built(network="bridge"),
            ("network",),
            "`bridge` is not one of nat, direct, tunnel",
        ),
    ],
    ids=["scheduler", "protocol", "network"],
)
def test_a_name_outside_the_vocabulary_is_an_error(
    config: Config, path: tuple[str, ...], message: str
) -> None:
    problem = only(validate(config))
    assert (problem.severity, problem.path, problem.line) == ("error", path, None)
    assert message in problem.message


# --- real servers ----------------------------------------------------------------


def test_a_real_server_that_is_the_vip_and_port_is_an_error() -> None:
    new = "address = 192.168.1.100"
    text = edit(GOOD, ("address = 10.0.0.12", new), ("port = 8080", "port = 80"))
    assert_one(
        text,
        "error",
        "the real server is the virtual server itself",
        WEB2 + ("address",),
        new,
    )


def test_a_real_server_on_the_vip_with_another_port_is_fine() -> None:
    assert (
        problems_of(edit(GOOD, ("address = 10.0.0.12", "address = 192.168.1.100")))
        == []
    )


def test_two_active_real_servers_on_one_address_and_port_are_an_error() -> None:
    new = "address = 10.0.0.11"
    text = edit(GOOD, ("address = 10.0.0.12", new), ("port = 8080", "port = 80"))
    problem = only(problems_of(text))
    assert problem.severity == "error"
    assert "10.0.0.11:80 is already real server `web1` of this virtual server" in (
        problem.message
    )
    assert problem.path == WEB2 + ("address",)
    assert (problem.line, problem.column) == (36, 20)


def test_one_address_on_two_ports_is_fine() -> None:
    assert problems_of(edit(GOOD, ("address = 10.0.0.12", "address = 10.0.0.11"))) == []


def test_a_duplicate_of_an_inactive_real_server_is_fine() -> None:
    text = GOOD.replace(
        "address = 10.0.0.12\n         active = 1\n         port = 8080",
        "address = 10.0.0.11\n         active = 0\n         port = 80",
    )
    assert "active = 0" in text
    assert problems_of(text) == []


def test_two_real_servers_with_one_name_are_an_error() -> None:
    text = edit(GOOD, ("server web2 {", "server web1 {"))
    problem = only(problems_of(text))
    assert problem.severity == "error"
    assert (
        "two real servers are called `web1` in this virtual server" in problem.message
    )
    assert problem.path == WEB + ("server", "web1")
    assert (problem.line, problem.column) == (35, 13)  # the second block's name


# --- globals that run programs ---------------------------------------------------


@pytest.mark.parametrize("key", ["active_cmd", "inactive_cmd", "ipvsadm"])
def test_a_command_that_is_not_an_absolute_path_is_an_error(key: str) -> None:
    new = f"{key} = bin/run.sh"
    assert_one(
        edit(GOOD, ("syncdaemon = 0", "syncdaemon = 0\n" + new)),
        "error",
        f"{key} must be an absolute path",
        (key,),
        new,
    )


def test_an_absolute_active_cmd_is_fine() -> None:
    text = edit(GOOD, ("syncdaemon = 0", "syncdaemon = 0\nactive_cmd = /etc/ha/up.sh"))
    assert problems_of(text) == []


# --- values render cannot write --------------------------------------------------


@pytest.mark.parametrize(
    ("config", "path"),
    [
        (built({"name": "we\nb"}), ("virtual", "we\nb")),
        (
            built(servers=(replace(BASE_SERVER, name="r\n1"),)),
            WEB + ("server", "r\n1"),
        ),
        (built({"load_monitor": "/bin/load\nrm"}), WEB + ("load_monitor",)),
        (built(debug_level="NO\rNE"), ("debug_level",)),
    ],
    ids=["virtual-name", "server-name", "virtual-value", "global-value"],
)
def test_a_line_break_in_a_name_or_value_is_an_error_from_validate(
    config: Config, path: tuple[str, ...]
) -> None:
    problems = validate(config)
    matching = [p for p in errors_at(problems, path) if "line break" in p.message]
    assert len(matching) == 1, [p.format() for p in problems]


@pytest.mark.parametrize(
    "config",
    [
        built({"name": "="}),
        built(servers=(replace(BASE_SERVER, name="="),)),
    ],
    ids=["virtual", "server"],
)
def test_a_name_render_refuses_is_an_error_from_validate(config: Config) -> None:
    with pytest.raises(RenderError):
        render(config)
    assert any(p.is_error for p in validate(config))


# --- names -----------------------------------------------------------------------


def test_two_virtual_servers_with_one_name_are_a_warning() -> None:
    text = add_virtual(
        GOOD,
        "web",
        "active = 1\naddress = 192.168.1.101 eth0:2\nserver r1 {\n"
        "address = 10.0.0.21\nactive = 1\n}",
    )
    problem = only(problems_of(text))
    assert problem.severity == "warning"
    assert "two virtual blocks are called `web`" in problem.message
    assert problem.path == WEB
    assert (problem.line, problem.column) == (42, 9)  # the second block's name


def test_a_problem_in_the_first_of_two_same_named_virtuals_points_at_its_line() -> None:
    text = edit(GOOD, ("timeout = 6", "timeout = 0"))
    text = add_virtual(
        text,
        "web",
        "active = 1\naddress = 192.168.1.101 eth0:2\nserver r1 {\n"
        "address = 10.0.0.21\nactive = 1\n}",
    )
    errors = [p for p in problems_of(text) if p.is_error]
    assert [(p.path, p.line, p.column) for p in errors] == [
        (WEB + ("timeout",), 27, 16)
    ]
