"""validate(): what one field may hold — addresses, netmasks, devices, numbers."""

from __future__ import annotations

import pytest

from lvscf import validate
from tests.lvscf.validate_cases import (
    GOOD,
    WEB,
    WEB2,
    assert_one,
    built,
    edit,
    errors_at,
    problems_of,
)

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
