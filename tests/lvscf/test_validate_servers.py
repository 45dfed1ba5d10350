"""validate(): the real servers of one virtual server."""

from __future__ import annotations

from tests.lvscf.validate_cases import (
    GOOD,
    WEB,
    WEB2,
    assert_one,
    edit,
    only,
    problems_of,
)

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
