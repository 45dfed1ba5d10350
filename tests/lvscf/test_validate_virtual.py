"""validate(): one virtual server — sorry server, health checks, enumerations."""

from __future__ import annotations

import pytest

from lvscf import Config, ParseError, parse, validate
from tests.lvscf.validate_cases import (
    GOOD,
    WEB,
    assert_one,
    built,
    edit,
    only,
    problems_of,
    where,
)

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
