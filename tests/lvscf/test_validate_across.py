"""validate(): rules across blocks — collisions, firewall marks, names, rendering."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lvscf import Config, RenderError, render, validate
from tests.lvscf.validate_cases import (
    BASE,
    BASE_SERVER,
    BASE_VIRTUAL,
    GOOD,
    SECOND,
    SERVER,
    WEB,
    add_virtual,
    assert_one,
    built,
    edit,
    errors_at,
    only,
    problems_of,
    where,
)

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
