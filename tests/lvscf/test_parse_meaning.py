"""`parse`: what values mean — defaults, ports, booleans, numbers, addresses."""

from __future__ import annotations

import socket

import pytest

from lvscf import parse
from tests.lvscf.helpers import only_error, only_warning, server, virtual, warnings_of

# --- meaning: defaults ---------------------------------------------------------------


def test_global_defaults_are_the_original_parsers() -> None:
    config = parse("serial_no = 1\n")
    assert config.keepalive == 2
    assert config.deadtime == 5
    assert config.heartbeat_port == 539
    assert config.network == "nat"
    assert config.hard_shutdown is True
    assert config.ipvsadm == "/sbin/ipvsadm"
    assert config.service == "lvs"
    assert config.rsh_command == "rsh"
    assert config.debug_level == "NONE"
    assert config.syncd_iface == "eth0"
    assert config.backup_active is False
    assert config.primary is None


def test_virtual_and_server_defaults_are_the_original_parsers() -> None:
    config = parse(virtual(server("address = 10.0.0.2")))
    (web,) = config.virtual_servers
    assert web.active is False
    assert web.timeout == 10
    assert web.reentry == 180
    assert web.port == 80
    assert web.scheduler == "wlc"
    assert web.protocol == "tcp"
    assert web.persistent == 0
    assert web.pmask is None
    assert web.client_monitor == "/usr/sbin/nanny"
    (r1,) = web.servers
    assert r1.active is False
    assert r1.weight == 1
    assert r1.port == 80


def test_a_server_takes_the_virtual_port_set_above_it() -> None:
    config = parse(virtual("port = 443\n" + server("address = 10.0.0.2")))
    assert config.virtual_servers[0].servers[0].port == 443


def test_a_server_own_port_wins_over_the_virtual_port() -> None:
    config = parse(virtual("port = 443\n" + server("port = 8443")))
    assert config.virtual_servers[0].servers[0].port == 8443


def test_a_port_after_the_server_blocks_does_not_reach_them_and_warns() -> None:
    text = virtual(server("address = 10.0.0.2") + "\nport = 8080")
    config = parse(text)
    web = config.virtual_servers[0]
    assert web.port == 8080
    assert web.servers[0].port == 80
    warning = only_warning(config)
    assert (warning.line, warning.column) == (5, 12)
    assert "port 80" in warning.message and "r1" in warning.message
    assert warning.hint is not None and "above the server blocks" in warning.hint


def test_a_port_set_twice_around_server_blocks_warns_about_both() -> None:
    text = virtual("port = 443\n" + server("address = 10.0.0.2") + "\nport = 8080")
    config = parse(text)
    assert config.virtual_servers[0].servers[0].port == 443
    messages = sorted(w.message for w in warnings_of(config))
    assert len(messages) == 2
    assert "keep port 443: r1" in messages[0]
    assert "set again (first on line 2)" in messages[1]


# --- meaning: ports, booleans, numbers -----------------------------------------------


def test_a_virtual_port_may_be_a_service_name() -> None:
    config = parse(virtual("port = http") + virtual("port = https", name="tls"))
    assert [v.port for v in config.virtual_servers] == [80, 443]


def test_heartbeat_port_may_be_a_service_name() -> None:
    assert parse("heartbeat_port = http\n").heartbeat_port == 80


def test_a_server_port_must_be_a_number() -> None:
    problem = only_error(virtual(server("port = http")))
    assert problem.message == "integer expected"
    assert (problem.line, problem.column) == (3, 16)
    assert problem.hint is not None and "`80`" in problem.hint


def test_an_unknown_service_name_is_an_invalid_argument() -> None:
    problem = only_error(virtual("port = nosuchservice"))
    assert problem.message == "invalid argument"
    assert (problem.line, problem.column) == (2, 12)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2", "boolean expected"),
        ("-1", "boolean expected"),
        ("yes", "integer expected"),
    ],
)
def test_booleans_must_be_0_or_1(value: str, message: str) -> None:
    problem = only_error(f"backup_active = {value}\n")
    assert problem.message == message
    assert (problem.line, problem.column) == (1, 17)
    assert problem.hint == "write 1 for yes or 0 for no"


def test_a_boolean_may_be_written_in_hex() -> None:
    assert parse("hard_shutdown = 0x0\n").hard_shutdown is False


def test_a_negative_fwmark_wraps_to_unsigned_with_a_warning() -> None:
    config = parse(virtual("fwmark = -1"))
    assert config.virtual_servers[0].fwmark == 4294967295
    warning = only_warning(config)
    assert "4294967295" in warning.message
    assert (warning.line, warning.column) == (2, 14)


def test_a_negative_weight_is_accepted() -> None:
    config = parse(virtual(server("weight = -3")))
    assert config.virtual_servers[0].servers[0].weight == -3


def test_a_leading_zero_port_is_octal_with_a_warning() -> None:
    config = parse(virtual("port = 010"))
    assert config.virtual_servers[0].port == 8
    warning = only_warning(config)
    assert "octal" in warning.message
    assert warning.hint is not None and "`8`" in warning.hint


def test_a_leading_zero_weight_with_8_is_integer_expected() -> None:
    problem = only_error(virtual(server("weight = 08")))
    assert problem.message == "integer expected"
    assert (problem.line, problem.column) == (3, 18)


def test_monitor_links_above_1_is_on_with_a_warning() -> None:
    config = parse("monitor_links = 2\n")
    assert config.monitor_links is True
    assert only_warning(config).line == 1


# --- meaning: addresses and masks ----------------------------------------------------


def test_primary_0000_is_an_invalid_host() -> None:
    problem = only_error("primary = 0.0.0.0\n")
    assert problem.message == "invalid host name or ip address"
    assert (problem.line, problem.column) == (1, 11)


@pytest.mark.parametrize("key", ["primary_private", "backup_private"])
def test_private_addresses_reject_0000(key: str) -> None:
    problem = only_error(f"{key} = 0.0.0.0\n")
    assert problem.message == "invalid host name or ip address"


def test_backup_0000_is_accepted() -> None:
    config = parse("backup = 0.0.0.0\n")
    assert config.backup in ("0.0.0.0", None)


def test_a_hostname_is_kept_as_written_and_never_resolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network unavailable in this test")

    for name in (
        "gethostbyname",
        "gethostbyname_ex",
        "getaddrinfo",
        "create_connection",
    ):
        monkeypatch.setattr(socket, name, no_network)
    config = parse(
        "primary = router1.example.com\n"
        + virtual("address = vip.example.com eth0:1\n" + server("address = web1"))
    )
    assert config.primary == "router1.example.com"
    web = config.virtual_servers[0]
    assert web.address == "vip.example.com"
    assert web.servers[0].address == "web1"


def test_a_host_that_is_neither_ip_nor_name_is_rejected() -> None:
    problem = only_error("primary = bad_host!\n")
    assert problem.message == "invalid argument"
    assert (problem.line, problem.column) == (1, 11)


def test_netmasks_are_read_by_inet_aton() -> None:
    config = parse("nat_nmask = 0xffffff00\n" + virtual("vip_nmask = 255.255.0.0"))
    assert config.nat_nmask == "255.255.255.0"
    assert config.virtual_servers[0].vip_nmask == "255.255.0.0"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("nat_nmask = mask.example.com\n", 1, 13),
        (virtual("vip_nmask = 255.255.255.0/24"), 2, 17),
    ],
    ids=["hostname", "cidr"],
)
def test_a_netmask_is_never_a_hostname(text: str, line: int, column: int) -> None:
    problem = only_error(text)
    assert problem.message == "Bad subnet mask specified"
    assert (problem.line, problem.column) == (line, column)


def test_pmask_all_ones_means_unset() -> None:
    config = parse(virtual("persistent = 60\npmask = 255.255.255.255"))
    assert config.virtual_servers[0].pmask is None


def test_pmask_keeps_a_real_mask() -> None:
    config = parse(virtual("persistent = 60\npmask = 255.255.255.0"))
    assert config.virtual_servers[0].pmask == "255.255.255.0"


def test_a_bad_pmask_is_ignored_with_a_warning_keeping_the_previous_value() -> None:
    config = parse(virtual("pmask = 255.255.0.0\npmask = bogus"))
    assert config.virtual_servers[0].pmask == "255.255.0.0"
    warning = only_warning(config)
    assert (warning.line, warning.column) == (3, 13)
    assert "ignores" in warning.message


def test_sorry_server_must_be_an_ip_address() -> None:
    problem = only_error(virtual("sorry_server = sorry.example.com"))
    assert problem.message == "invalid host name or ip address"
    assert (problem.line, problem.column) == (2, 20)


def test_sorry_server_keeps_its_ip() -> None:
    config = parse(virtual("sorry_server = 127.0.0.1"))
    assert config.virtual_servers[0].sorry_server == "127.0.0.1"


# --- meaning: primary_private defaulting ---------------------------------------------


def test_without_primary_private_both_privates_copy_the_public_addresses() -> None:
    config = parse("primary = 10.0.0.1\nbackup = 10.0.0.2\n")
    assert config.private_addresses() == ("10.0.0.1", "10.0.0.2")
    assert (config.primary_private, config.backup_private) == (None, None)  # as written
    assert warnings_of(config) == []


def test_without_primary_private_a_given_backup_private_is_overwritten() -> None:
    config = parse(
        "primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_private = 192.168.0.2\n"
    )
    assert config.private_addresses() == ("10.0.0.1", "10.0.0.2")
    assert config.backup_private == "192.168.0.2"  # kept as written, like the file
    warning = only_warning(config)
    assert warning.line == 3
    assert "backup_private" in warning.message


def test_with_primary_private_both_privates_are_kept() -> None:
    config = parse(
        "primary = 10.0.0.1\nprimary_private = 192.168.0.1\n"
        "backup = 10.0.0.2\nbackup_private = 192.168.0.2\n"
    )
    assert (config.primary_private, config.backup_private) == (
        "192.168.0.1",
        "192.168.0.2",
    )


def test_without_primary_nothing_is_copied() -> None:
    config = parse("backup = 10.0.0.2\n")
    assert config.primary_private is None
    assert config.backup_private is None
