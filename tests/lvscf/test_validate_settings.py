"""validate(): the global settings — routers, NAT, services, commands pulse runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lvscf import validate
from tests.lvscf.validate_cases import (
    BASE,
    GOOD,
    WEB,
    assert_one,
    edit,
    only,
    problems_of,
)

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
