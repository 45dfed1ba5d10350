"""The lexical rules of lvs.cf (reference piranha.md section 1 and section 8).

Lines, comments, tokens, quoting, the 99-token limit, C integers (`strtol`) and
`inet_aton` addresses, checked both on the lexer helpers and through `parse`.
"""

from __future__ import annotations

import re

import pytest

from lvscf import parse
from lvscf.lexer import (
    QuoteError,
    c_strtol,
    inet_aton,
    split_lines,
    token_columns,
    tokenize,
)
from tests.lvscf.helpers import (
    only_error,
    virtual,
    warnings_of,
)

# --- helpers -------------------------------------------------------------------------


# --- line splitting ------------------------------------------------------------------


def test_it_splits_lf_lines() -> None:
    assert split_lines("keepalive = 3\ndeadtime = 4\n") == (
        ["keepalive = 3", "deadtime = 4", ""],
        [],
    )


def test_it_splits_crlf_lines_without_joining_any() -> None:
    lines, joined = split_lines("keepalive = 3\r\ndeadtime = 4\r\n")
    assert lines == ["keepalive = 3", "deadtime = 4"]
    assert joined == []


def test_it_splits_cr_only_lines() -> None:
    lines, joined = split_lines("keepalive = 3\rdeadtime = 4\r")
    assert lines == ["keepalive = 3", "deadtime = 4"]
    assert joined == []


def test_it_reports_the_lf_lines_a_late_lone_cr_joins() -> None:
    lines, joined = split_lines("keepalive = 3\ndeadtime = 4\nnetwork = nat\r\n")
    assert lines[:3] == ["keepalive = 3", "deadtime = 4", "network = nat"]
    assert joined == [(1, 3)]


@pytest.mark.parametrize(
    "text",
    [
        "keepalive = 3\ndeadtime = 4\n",
        "keepalive = 3\r\ndeadtime = 4\r\n",
        "keepalive = 3\rdeadtime = 4\r",
        "keepalive = 3\ndeadtime = 4",
    ],
    ids=["lf", "crlf", "cr-only", "no-final-newline"],
)
def test_it_reads_every_kind_of_line_end_the_original_reads(text: str) -> None:
    config = parse(text)
    assert (config.keepalive, config.deadtime) == (3, 4)


def test_it_rejects_a_lone_cr_late_in_an_lf_file_naming_the_joined_lines() -> None:
    problem = only_error("keepalive = 3\ndeadtime = 4\nnetwork = nat\r\n")
    assert problem.line == 1
    assert re.search(r"lines 1\D3 are read as one line", problem.message)
    assert "carriage return" in problem.message
    assert problem.hint is not None and "line end" in problem.hint


def test_a_stray_cr_mid_file_joins_only_the_lines_before_it() -> None:
    text = "keepalive = 3\ndeadtime = 4\r\nnetwork = nat\n"
    problem = only_error(text)
    assert re.search(r"lines 1\D2 are read as one line", problem.message)


# --- comments ------------------------------------------------------------------------


def test_a_whole_line_comment_is_ignored_even_when_indented() -> None:
    config = parse("# first\n   \t# indented\nkeepalive = 3\n")
    assert config.keepalive == 3


def test_a_hash_inside_a_value_token_is_not_a_comment() -> None:
    assert parse("debug_level = a#b\n").debug_level == "a#b"


def test_a_trailing_comment_is_unexpected_arguments_with_a_hint() -> None:
    problem = only_error("keepalive = 3 # x\n")
    assert problem.message == "unexpected arguments"
    assert (problem.line, problem.column) == (1, 15)
    assert problem.hint is not None
    assert "no trailing comments" in problem.hint
    assert "`# x`" in problem.hint


def test_a_trailing_comment_glued_to_the_hash_is_named_whole() -> None:
    problem = only_error("keepalive = 3  #note here\n")
    assert problem.message == "unexpected arguments"
    assert problem.column == 16
    assert problem.hint is not None and "`#note here`" in problem.hint


# --- token separators ----------------------------------------------------------------


def test_tabs_separate_tokens_like_spaces() -> None:
    config = parse("keepalive\t=\t3\n\tdeadtime  =   4\n")
    assert (config.keepalive, config.deadtime) == (3, 4)


def test_tokenize_gives_one_based_columns() -> None:
    tokens, truncated = tokenize("  port\t=  80")
    assert [(t.text, t.quote, t.column) for t in tokens] == [
        ("port", "", 3),
        ("=", "", 8),
        ("80", "", 11),
    ]
    assert truncated is False


def test_a_no_break_space_does_not_separate_tokens() -> None:
    tokens, _ = tokenize("debug_level = a\xa0b")
    assert [t.text for t in tokens] == ["debug_level", "=", "a\xa0b"]


def test_a_no_break_space_inside_a_value_is_accepted_with_a_warning() -> None:
    config = parse("debug_level = a\xa0b\n")
    assert config.debug_level == "a\xa0b"
    (warning,) = warnings_of(config)
    assert warning.severity == "warning"
    assert "U+00A0" in warning.message
    assert "one token" in warning.message
    assert (warning.line, warning.column) == (1, 16)


def test_a_no_break_space_before_the_equal_sign_is_an_error_that_names_it() -> None:
    # `keepalive\xa0=` is one token: the original says "unknown command". The
    # error must say why, since the line looks right on screen.
    problem = only_error("keepalive\xa0= 3\n")
    assert problem.message == "unknown command"
    assert (problem.line, problem.column) == (1, 1)
    assert problem.hint is not None
    assert "no-break space" in problem.hint or "U+00A0" in problem.hint


def test_a_no_break_space_after_the_equal_sign_is_an_error_that_names_it() -> None:
    problem = only_error("keepalive =\xa03\n")
    assert problem.message == "equal (=) expected after command"
    assert problem.column == 11
    assert problem.hint is not None
    assert "no-break space" in problem.hint or "U+00A0" in problem.hint


# --- quoting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"a b"', "a b"),
        ("'a b'", "a b"),
        ('""', ""),
        ('"a # b"', "a # b"),
        ('"#"', "#"),
        ("'say \"hi\"'", 'say "hi"'),
        ('a"b', 'a"b'),
        ("x'y'", "x'y'"),
    ],
    ids=[
        "double",
        "single",
        "empty",
        "hash-inside",
        "only-hash",
        "other-quote-inside",
        "quote-mid-token",
        "single-mid-token",
    ],
)
def test_it_reads_quoted_values(value: str, expected: str) -> None:
    assert parse(f"debug_level = {value}\n").debug_level == expected


def test_tokenize_records_the_quote_char_and_strips_it() -> None:
    tokens, _ = tokenize("send = 'a b'")
    assert (tokens[2].text, tokens[2].quote, tokens[2].column) == ("a b", "'", 8)


def test_a_quote_not_at_token_start_makes_two_value_tokens() -> None:
    problem = only_error(virtual('send_program = /bin/chk "%h"'))
    assert problem.message == "unexpected arguments"
    assert (problem.line, problem.column) == (2, 29)


@pytest.mark.parametrize(
    "line",
    ['debug_level = "abc', "debug_level = 'a b", "debug_level = \"a b' c"],
    ids=["double", "single", "other-quote"],
)
def test_an_unterminated_quote_is_a_quotation_mismatch(line: str) -> None:
    problem = only_error(line + "\n")
    assert problem.message == "quotation mismatch"
    assert (problem.line, problem.column) == (1, 15)
    assert problem.hint is not None and "close the quote" in problem.hint


def test_tokenize_raises_on_an_unterminated_quote() -> None:
    with pytest.raises(QuoteError) as info:
        tokenize('send = "GET /')
    assert info.value.column == 8
    assert [t.text for t in info.value.tokens] == ["send", "="]


def test_blanks_after_a_quoted_value_without_spaces_are_a_quotation_mismatch() -> None:
    # The C tokenizer looks for the closing quote from the first blank on.
    problem = only_error('debug_level = "abc"  \n')
    assert problem.message == "quotation mismatch"
    assert problem.column == 15
    assert problem.hint is not None and "remove the blanks" in problem.hint


def test_blanks_after_a_quoted_value_with_a_space_inside_are_fine() -> None:
    assert parse('debug_level = "a bc"  \n').debug_level == "a bc"


def test_text_after_a_closing_quote_is_a_quotation_mismatch() -> None:
    problem = only_error('debug_level = "abc" x\n')
    assert problem.message == "quotation mismatch"
    assert problem.column == 15


# --- token limit ---------------------------------------------------------------------


def test_tokenize_keeps_at_most_99_tokens_and_says_it_cut() -> None:
    tokens, truncated = tokenize(" ".join(["t"] * 120))
    assert len(tokens) == 99
    assert truncated is True


def test_tokenize_takes_99_tokens_without_cutting() -> None:
    tokens, truncated = tokenize(" ".join(["t"] * 99))
    assert len(tokens) == 99
    assert truncated is False


def test_a_line_over_99_tokens_is_an_error() -> None:
    problem = only_error("debug_level = " + " ".join(["x"] * 100) + "\n")
    assert problem.message == "unexpected arguments"
    assert problem.line == 1


# --- C integers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("80", 80),
        ("0", 0),
        ("0x50", 80),
        ("0X1f", 31),
        ("010", 8),
        ("00", 0),
        ("08", None),
        ("09", None),
        ("-1", -1),
        ("+5", 5),
        ("", 0),
        ("2147483647", 2147483647),
        ("2147483648", -2147483648),
        ("4294967295", -1),
        ("4294967296", 0),
        ("4294967297", 1),
        ("99999999999999999999", -1),
        ("-2147483649", 2147483647),
        ("0x", None),
        ("5x", None),
        ("abc", None),
        ("1.5", None),
        ("- 1", None),
    ],
)
def test_c_strtol_reads_like_strtol_base_0_cast_to_int(
    token: str, expected: int | None
) -> None:
    assert c_strtol(token) == expected


def test_a_leading_zero_number_is_octal_with_a_warning() -> None:
    config = parse("keepalive = 010\n")
    assert config.keepalive == 8
    (warning,) = warnings_of(config)
    assert "octal" in warning.message
    assert (warning.line, warning.column) == (1, 13)


def test_a_hex_number_is_read_as_hex() -> None:
    assert parse("keepalive = 0x50\n").keepalive == 80


def test_08_is_integer_expected_with_a_hint_to_drop_the_zero() -> None:
    problem = only_error("keepalive = 08\n")
    assert problem.message == "integer expected"
    assert (problem.line, problem.column) == (1, 13)
    assert problem.hint is not None and "write `8`" in problem.hint


def test_a_negative_number_is_accepted() -> None:
    assert parse("keepalive = -1\n").keepalive == -1


def test_an_empty_quoted_number_is_zero_with_a_warning() -> None:
    config = parse('keepalive = ""\n')
    assert config.keepalive == 0
    (warning,) = warnings_of(config)
    assert "empty" in warning.message


def test_a_number_past_32_bits_wraps_with_a_warning() -> None:
    config = parse("keepalive = 4294967297\n")
    assert config.keepalive == 1
    (warning,) = warnings_of(config)
    assert "32-bit" in warning.message


# --- inet_aton -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("192.168.1.10", "192.168.1.10"),
        ("10.1", "10.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("0x7f.1", "127.0.0.1"),
        ("010.0.0.1", "8.0.0.1"),
        ("0x7f.0.0.010", "127.0.0.8"),
        ("256", "0.0.1.0"),
        ("4294967295", "255.255.255.255"),
        ("1.2.65535", "1.2.255.255"),
        ("1.2.3.4.", None),
        ("1.2.3.256", None),
        ("256.1.1.1", None),
        ("1.2.65536", None),
        ("4294967296", None),
        ("08.1.1.1", None),
        ("1..2", None),
        ("", None),
        ("host.example.com", None),
        ("0x.1", None),
    ],
)
def test_inet_aton_reads_like_glibc(token: str, expected: str | None) -> None:
    assert inet_aton(token) == expected


def test_a_shorthand_address_is_normalised_with_a_warning() -> None:
    config = parse(virtual("address = 10.1 eth0:1"))
    assert config.virtual_servers[0].address == "10.0.0.1"
    (warning,) = warnings_of(config)
    assert "10.0.0.1" in warning.message
    assert (warning.line, warning.column) == (2, 15)


def test_token_columns_of_a_line_with_an_unclosed_quote_end_at_the_quote() -> None:
    assert token_columns('send = "abc') == [1, 6, 8]
    assert token_columns("a  b") == [1, 4]
