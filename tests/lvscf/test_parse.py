"""`parse`: the grammar of lvs.cf — `KEY = VALUE` lines and sections.

Each test pins one rule of the original parser (`lvsconfig.c`) or one promise of
this library on top of it: a warning where the original silently does something
surprising, an error with line, column and a hint where it rejects the text.
What the values mean is in test_parse_meaning.py, strings, repeats and comments
in test_parse_text.py, messages and others' real files in test_parse_messages.py
(piranha.md sections 1, 2, 8).
"""

from __future__ import annotations

import pytest

from lvscf import parse
from tests.lvscf.helpers import errors_of, only_error, server, virtual

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
