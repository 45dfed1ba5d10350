"""`parse`: the grammar, meaning and messages of lvs.cf (piranha.md sections 1, 2, 8).

Each test pins one rule of the original parser (`lvsconfig.c`) or one promise of
this library on top of it: a warning where the original silently does something
surprising, an error with line, column and a hint where it rejects the text.
Others' real files from the shared examples folder are read last.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from lvscf import ParseError, parse
from tests.lvscf.helpers import (
    errors_of,
    only_error,
    only_warning,
    virtual,
    warnings_of,
)

# --- helpers -------------------------------------------------------------------------


def server(body: str, name: str = "r1") -> str:
    """`body` wrapped in `server NAME { ... }` (to go inside `virtual`)."""
    inner = "".join(f"    {line}\n" for line in body.splitlines())
    return f"server {name} {{\n{inner}}}"


# --- grammar: `KEY = VALUE` ----------------------------------------------------------


def test_key_equals_value_without_spaces_is_an_unknown_command() -> None:
    problem = only_error(virtual("port=80"))
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (2, 5)
    assert problem.hint is not None and "write `port = 80`" in problem.hint


def test_key_equals_glued_to_the_value_is_an_unknown_command() -> None:
    problem = only_error(virtual("address= 1.2.3.4 eth0:1"))
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (2, 5)


def test_a_missing_equal_sign_is_equal_expected() -> None:
    problem = only_error(virtual("port 80"))
    assert problem.message == "equal (=) expected after command"
    assert (problem.line, problem.column) == (2, 10)
    assert problem.hint is not None and "write `port = 80`" in problem.hint


def test_a_missing_equal_sign_in_the_globals_is_equal_expected() -> None:
    problem = only_error("keepalive 3\n")
    assert problem.message == "equal (=) expected after command"
    assert (problem.line, problem.column) == (1, 11)


@pytest.mark.parametrize(
    ("text", "line", "right"),
    [
        ("Keepalive = 3\n", 1, "keepalive"),
        (virtual("Port = 80"), 2, "port"),
        (virtual(server("WEIGHT = 2")), 3, "weight"),
    ],
    ids=["global", "virtual", "server"],
)
def test_keys_are_case_sensitive(text: str, line: int, right: str) -> None:
    problem = only_error(text)
    assert problem.message == "unknown command"
    assert problem.line == line
    assert problem.hint is not None and f"`{right}`" in problem.hint


def test_block_keywords_are_case_sensitive_too() -> None:
    problem = only_error("Virtual web {\n}\n")
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (1, 1)
    assert problem.hint is not None and "`virtual`" in problem.hint


@pytest.mark.parametrize(
    ("text", "line", "column", "right"),
    [
        ("network = NAT\n", 1, 11, "nat"),
        ("service = LVS\n", 1, 11, "lvs"),
        (virtual("protocol = TCP"), 2, 16, "tcp"),
        (virtual("scheduler = WLC"), 2, 17, "wlc"),
    ],
    ids=["network", "service", "protocol", "scheduler"],
)
def test_values_are_case_sensitive(
    text: str, line: int, column: int, right: str
) -> None:
    problem = only_error(text)
    assert problem.message == "invalid argument"
    assert (problem.line, problem.column) == (line, column)
    assert problem.hint is not None
    assert "case-sensitive" in problem.hint
    assert f"`{right}`" in problem.hint


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("bogus = 1\n", 1, 1),
        ("   bogus = 1\n", 1, 4),
        (virtual("bogus = 1"), 2, 5),
        (virtual(server("nmask = 255.255.255.0")), 3, 9),
        (virtual("expect_program = /bin/x"), 2, 5),
        (virtual("deadtime = 5"), 2, 5),
    ],
    ids=["global", "indented", "virtual", "server-nmask", "expect_program", "deadtime"],
)
def test_an_unknown_keyword_is_an_unknown_command_at_its_position(
    text: str, line: int, column: int
) -> None:
    problem = only_error(text)
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (line, column)


def test_a_misspelt_keyword_gets_a_did_you_mean_hint() -> None:
    problem = only_error("keepalve = 3\n")
    assert problem.hint == "did you mean `keepalive`?"


def test_a_virtual_key_in_a_server_block_says_where_it_belongs() -> None:
    problem = only_error(virtual("weight = 3"))
    assert problem.message == "unknown command"
    assert problem.hint is not None and "real server setting" in problem.hint


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("keepalive =\n", "missing arguments", 1, 13),
        ("keepalive = 3 4\n", "unexpected arguments", 1, 15),
        (virtual("active = 1 1"), "unexpected arguments", 2, 16),
        (virtual("send = GET /"), "unexpected arguments", 2, 16),
    ],
    ids=["none", "two-numbers", "two-booleans", "unquoted-spaces"],
)
def test_a_wrong_value_count_is_reported(
    text: str, message: str, line: int, column: int
) -> None:
    problem = only_error(text)
    assert problem.message == message
    assert (problem.line, problem.column) == (line, column)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (virtual("address = 10.0.0.1"), "missing arguments", 2),
        (virtual("address = 10.0.0.1 eth0:1 extra"), "unexpected arguments", 2),
        ("nat_router = 10.0.0.254\n", "missing arguments", 1),
        ("nat_router = 10.0.0.254 eth1:1 extra\n", "unexpected arguments", 1),
    ],
    ids=["address-no-device", "address-extra", "nat-no-device", "nat-extra"],
)
def test_address_and_nat_router_need_an_ip_and_a_device(
    text: str, message: str, line: int
) -> None:
    problem = only_error(text)
    assert problem.message == message
    assert problem.line == line
    assert problem.hint is not None and "the IP address and the device" in problem.hint


def test_address_and_nat_router_store_ip_and_device() -> None:
    config = parse(
        "nat_router = 10.0.0.254 eth1:1\n" + virtual("address = 1.2.3.4 eth0:1")
    )
    assert (config.nat_router, config.nat_router_device) == ("10.0.0.254", "eth1:1")
    web = config.virtual_servers[0]
    assert (web.address, web.device) == ("1.2.3.4", "eth0:1")


# --- grammar: sections ---------------------------------------------------------------


def test_an_opener_without_a_space_before_the_brace_is_missing_arguments() -> None:
    problem = only_error("virtual v{\n}\n")
    assert problem.message == "missing arguments"
    assert problem.line == 1
    assert problem.hint is not None and "write `virtual v {`" in problem.hint


def test_a_server_opener_without_a_space_is_missing_arguments() -> None:
    problem = only_error(virtual("server r1{\n}"))
    assert problem.message == "missing arguments"
    assert problem.line == 2
    assert problem.hint is not None and "write `server r1 {`" in problem.hint


def test_an_opener_without_a_name_is_missing_arguments() -> None:
    problem = only_error("virtual {\n}\n")
    assert problem.message == "missing arguments"
    assert (problem.line, problem.column) == (1, 9)


def test_an_opener_with_two_names_is_unexpected_arguments() -> None:
    problem = only_error("virtual web site {\n}\n")
    assert problem.message == "unexpected arguments"
    assert (problem.line, problem.column) == (1, 13)


def test_text_after_an_opening_brace_is_one_error_not_two() -> None:
    # The original stops there; reporting the block's `}` as "closes no block"
    # too would tell the admin to delete a brace that is needed.
    problem = only_error("virtual web { x\n    port = 80\n}\n")
    assert problem.message == "unexpected arguments"
    assert (problem.line, problem.column) == (1, 15)


def test_a_stray_closing_brace_at_top_level_is_an_unknown_command() -> None:
    problem = only_error(virtual("port = 80") + "}\n")
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (4, 1)
    assert problem.hint is not None and "closes no block" in problem.hint


def test_a_server_block_at_top_level_says_it_goes_inside_a_virtual() -> None:
    problem = only_error(server("weight = 1") + "\n")
    assert problem.message == "unknown command"
    assert problem.line == 1
    assert problem.hint is not None and "inside a `virtual`" in problem.hint


def test_a_keepalived_block_is_reported_once_not_per_inner_line() -> None:
    text = (
        "keepalive = 3\n"
        "global_defs {\n"
        "   notification_email_from a@example.com\n"
        "   smtp_server 127.0.0.1\n"
        "   nested {\n"
        "       x y\n"
        "   }\n"
        "}\n"
        "deadtime = 4\n"
    )
    problem = only_error(text)
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (2, 1)
    assert problem.hint is not None and "keepalived" in problem.hint


def test_errors_after_a_keepalived_block_are_still_reported() -> None:
    problems = errors_of("global_defs {\n  a b\n}\nbogus = 1\n")
    assert [(p.message, p.line) for p in problems] == [
        ("unknown command", 1),
        ("unknown command", 4),
    ]


def test_failover_blocks_go_to_failover_services() -> None:
    text = (
        "service = fos\n"
        "failover ftp {\n"
        "    address = 10.0.0.9 eth0:1\n"
        '    start_cmd = "/etc/rc.d/init.d/inet start"\n'
        "}\n"
    )
    config = parse(text)
    assert config.virtual_servers == ()
    (ftp,) = config.failover_services
    assert ftp.name == "ftp"
    assert ftp.start_cmd == "/etc/rc.d/init.d/inet start"


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


# --- meaning: strings and quotes -----------------------------------------------------


def test_a_double_quoted_send_is_stored_without_its_quotes() -> None:
    config = parse(virtual('send = "GET / HTTP/1.0\\r\\n\\r\\n"\nexpect = "HTTP"'))
    web = config.virtual_servers[0]
    assert web.send == "GET / HTTP/1.0\\r\\n\\r\\n"
    assert web.expect == "HTTP"
    assert warnings_of(config) == []


def test_a_single_quoted_send_keeps_its_quotes_and_warns() -> None:
    config = parse(virtual("send = 'x'"))
    assert config.virtual_servers[0].send == "'x'"
    warning = only_warning(config)
    assert (warning.line, warning.column) == (2, 12)
    assert "sent" in warning.message
    assert warning.hint == 'write `send = "x"`'


def test_a_single_quoted_expect_keeps_its_quotes_and_warns_it_never_matches() -> None:
    config = parse(virtual("expect = 'HTTP'"))
    assert config.virtual_servers[0].expect == "'HTTP'"
    assert "never match" in only_warning(config).message


def test_active_cmd_drops_its_quotes() -> None:
    config = parse("active_cmd = \"/bin/x arg\"\ninactive_cmd = '/bin/y arg'\n")
    assert config.active_cmd == "/bin/x arg"
    assert config.inactive_cmd == "/bin/y arg"
    assert warnings_of(config) == []


def test_send_program_with_glued_placeholders_warns_they_are_not_substituted() -> None:
    config = parse(virtual('send_program = "/bin/chk %h:%p"'))
    assert config.virtual_servers[0].send_program == "/bin/chk %h:%p"
    warning = only_warning(config)
    assert "`%h:%p`" in warning.message
    assert warning.line == 2


def test_send_program_with_separate_placeholders_is_silent() -> None:
    config = parse(virtual('send_program = "/bin/chk %h %p"'))
    assert config.virtual_servers[0].send_program == "/bin/chk %h %p"
    assert warnings_of(config) == []


def test_dirs_takes_a_bracketed_list() -> None:
    config = parse(virtual("dirs = [ /a /b ]"))
    assert config.virtual_servers[0].dirs == ("/a", "/b")


@pytest.mark.parametrize("value", ["/a", "[ /a /b", "[/a ]"])
def test_dirs_without_a_bracketed_list_is_list_expected(value: str) -> None:
    problem = only_error(virtual(f"dirs = {value}"))
    assert problem.message == "list expected"
    assert problem.line == 2


# --- meaning: repeats, braces, duplicates ---------------------------------------------


def test_a_repeated_key_keeps_the_last_value_and_warns_naming_the_first_line() -> None:
    config = parse("keepalive = 3\ndeadtime = 9\nkeepalive = 4\n")
    assert config.keepalive == 4
    warning = only_warning(config)
    assert warning.line == 3
    assert "first on line 1" in warning.message


def test_text_after_a_closing_brace_is_ignored_with_a_warning() -> None:
    config = parse("virtual web {\n    port = 443\n} trailing words\nkeepalive = 3\n")
    assert config.virtual_servers[0].port == 443
    assert config.keepalive == 3
    warning = only_warning(config)
    assert (warning.line, warning.column) == (3, 3)
    assert "`trailing words`" in warning.message


def test_an_unterminated_block_is_closed_at_the_end_with_a_warning() -> None:
    config = parse("keepalive = 3\nvirtual web {\n    port = 443\n")
    assert config.virtual_servers[0].port == 443
    warning = only_warning(config)
    assert warning.line == 2
    assert "never closed" in warning.message


def test_duplicate_virtual_names_are_both_kept() -> None:
    config = parse(virtual("port = 1") + virtual("port = 2"))
    assert [(v.name, v.port) for v in config.virtual_servers] == [
        ("web", 1),
        ("web", 2),
    ]


# --- unreadable text -----------------------------------------------------------------


def test_an_empty_text_is_empty_configuration() -> None:
    problem = only_error("")
    assert problem.message.startswith("Empty configuration")
    assert problem.line == 1


def test_a_nul_byte_is_an_error_at_its_position() -> None:
    problem = only_error("keepalive = 3\ndeadtime = 4\0\n")
    assert "NUL" in problem.message
    assert (problem.line, problem.column) == (2, 13)


def test_a_text_of_only_blank_lines_and_comments_is_accepted() -> None:
    config = parse("\n  \n# nothing here\n")
    assert config.virtual_servers == ()
    assert config.comments.above == (" nothing here",)


# --- comments kept -------------------------------------------------------------------

COMMENTED = """\
# header one
# header two

# about keepalive
keepalive = 3
# about web
virtual web {
    # about port
    port = 81
    # about r1
    server r1 {
        # about weight
        weight = 2
        # end of r1
    }
    # end of web
}
# the end
"""


def test_header_comments_before_a_blank_line_go_to_the_file_above() -> None:
    assert parse(COMMENTED).comments.above == (" header one", " header two")


def test_comments_right_above_a_key_attach_to_that_key() -> None:
    config = parse(COMMENTED)
    assert config.comments.for_key("keepalive") == (" about keepalive",)
    web = config.virtual_servers[0]
    assert web.comments.for_key("port") == (" about port",)
    assert web.servers[0].comments.for_key("weight") == (" about weight",)


def test_comments_above_a_block_attach_to_that_block() -> None:
    web = parse(COMMENTED).virtual_servers[0]
    assert web.comments.above == (" about web",)
    assert web.servers[0].comments.above == (" about r1",)


def test_comments_before_a_closing_brace_go_to_the_block_end() -> None:
    web = parse(COMMENTED).virtual_servers[0]
    assert web.comments.end == (" end of web",)
    assert web.servers[0].comments.end == (" end of r1",)


def test_comments_at_the_end_of_the_file_go_to_the_file_end() -> None:
    assert parse(COMMENTED).comments.end == (" the end",)


def test_a_comment_directly_above_the_first_key_is_not_a_header() -> None:
    config = parse("# about keepalive\nkeepalive = 3\n")
    assert config.comments.above == ()
    assert config.comments.for_key("keepalive") == (" about keepalive",)


# --- errors are collected ------------------------------------------------------------


def test_every_bad_line_is_reported_with_its_line_and_column() -> None:
    text = (
        "keepalive = x\nserial_no = 1\nbogus = 2\nvirtual web {\n\tprotocol = TCP\n}\n"
    )
    problems = errors_of(text)
    assert [(p.message, p.line, p.column) for p in problems] == [
        ("integer expected", 1, 13),
        ("unknown command", 3, 1),
        ("invalid argument", 5, 13),
    ]
    assert all(p.is_error for p in problems)


def test_errors_inside_servers_of_several_virtuals_are_all_reported() -> None:
    text = virtual(server("weight = x"), name="a") + virtual(
        server("active = 2"), name="b"
    )
    problems = errors_of(text)
    assert [(p.message, p.line) for p in problems] == [
        ("integer expected", 3),
        ("boolean expected", 8),
    ]


def test_a_problem_formats_as_file_line_column_severity_message_and_hint() -> None:
    problem = only_error("keepalive = 3 # x\n")
    assert problem.format("lvs.cf") == (
        "lvs.cf:1:15: error: unexpected arguments\n"
        "    hint: lvs.cf has no trailing comments: move `# x` to its own line"
    )


# --- messages and hints --------------------------------------------------------------

BAD_LINES = [
    "keepalive = x\n",
    "keepalive = 3 # x\n",
    "keepalive 3\n",
    "keepalive =\n",
    "keepalive = 3 4\n",
    "backup_active = 2\n",
    "network = NAT\n",
    "primary = 0.0.0.0\n",
    "nat_nmask = bogus\n",
    "Keepalive = 3\n",
    "bogus = 1\n",
    "virtual web{\n}\n",
    virtual("port=80"),
    virtual("address = 10.0.0.1"),
    virtual("dirs = /a"),
    virtual(server("port = http")),
    'debug_level = "abc\n',
]


@pytest.mark.parametrize("text", BAD_LINES)
def test_every_error_has_a_message_and_a_hint_written_as_text(text: str) -> None:
    for problem in errors_of(text):
        assert problem.message and problem.message == problem.message.strip()
        assert problem.hint, f"no hint for {text!r}: {problem.format()}"
        assert problem.hint == problem.hint.strip()
        assert problem.hint.count("`") % 2 == 0
        assert problem.line is not None and problem.column is not None


def _suggested(hint: str) -> str:
    match = re.search(r"`([^`]+)`", hint)
    assert match, hint
    return match.group(1)


@pytest.mark.parametrize(
    ("wrap", "bad"),
    [
        ("top", "keepalive 3"),
        ("top", "keepalive = 3 4"),
        ("virtual", "port=80"),
        ("virtual", "port 80"),
        ("virtual", "address= 10.0.0.1 eth0:1"),
        ("virtual", "send = GET / HTTP/1.0"),
        ("top", "virtual web{"),
    ],
)
def test_a_hint_that_shows_a_whole_line_shows_one_that_parses(
    wrap: str, bad: str
) -> None:
    def text_with(line: str) -> str:
        if wrap == "virtual":
            return virtual(line)
        return line + ("\n}\n" if line.endswith("{") else "\n")

    problem = only_error(text_with(bad))
    assert problem.hint is not None
    fixed = _suggested(problem.hint)
    assert fixed != bad
    assert fixed.split()[0] == bad.split("=")[0].split()[0]
    try:
        parse(text_with(fixed))
    except ParseError as exc:
        pytest.fail(f"hint {problem.hint!r} for {bad!r} still fails: {exc}")


# --- others' real files --------------------------------------------------------------


def test_the_piranha_sample_is_accepted(examples_dir: Path) -> None:
    config = parse((examples_dir / "piranha-upstream-1.cf").read_text())
    assert [v.name for v in config.virtual_servers] == ["server1", "server2"]
    assert [f.name for f in config.failover_services] == ["web1", "ftp"]
    server1, server2 = config.virtual_servers
    assert server1.fwmark == 100
    assert server1.port == 80  # `port = http`
    assert [s.port for s in server1.servers] == [80, 80]
    assert [s.port for s in server2.servers] == [21, 21]
    assert server1.send == "GET / HTTP/1.0\\r\\n\\r\\n"
    assert server1.persistent == 60 and server1.pmask is None
    assert (config.primary, config.primary_private) == (
        "207.175.44.150",
        "10.11.12.1",
    )
    assert config.heartbeat_port == 1050
    assert config.failover_services[0].start_cmd == "/etc/rc.d/init.d/httpd start"
    warning = only_warning(config)
    assert warning.line == 51
    assert "`backup_active` is set again (first on line 48)" in warning.message
    assert config.comments.above[0] == (
        " This file is generated by the piranha GUI.  Do not hand edit.  All"
    )
    assert config.comments.for_key("rsh_command")[0].startswith(" All nodes must")
    assert server1.servers[0].comments.above == (" sorry_server = 127.0.0.1",)


def test_the_empty_lvs_cf_the_package_installs_is_rejected(
    examples_dir: Path,
) -> None:
    text = (examples_dir / "piranha-upstream-2.cf").read_text()
    problem = only_error(text)
    assert problem.message.startswith("Empty configuration")


@pytest.mark.parametrize(
    ("name", "virtuals"),
    [("ssocopsacc-1.cf", ["vpn443"]), ("ssocopsacc-2.cf", ["vpn443", "vpn80"])],
)
def test_the_company_fork_configs_are_accepted(
    examples_dir: Path, name: str, virtuals: list[str]
) -> None:
    config = parse((examples_dir / name).read_text())
    assert config.primary is None
    assert config.active_cmd == "/etc/sysconfig/ha/active.sh"
    assert config.inactive_cmd == "/etc/sysconfig/ha/inactive.sh"
    assert config.network == "direct"
    assert [v.name for v in config.virtual_servers] == virtuals
    assert config.virtual_servers[0].port == 443
    assert config.virtual_servers[0].address is None
    assert warnings_of(config) == []


def test_the_keepalived_gui_config_is_rejected_at_line_20(examples_dir: Path) -> None:
    problem = only_error((examples_dir / "keepalivedgui-1.cf").read_text())
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (20, 1)
