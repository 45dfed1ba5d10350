"""`parse`: value rules and limits that test_parse.py leaves out.

The error cap, a `master` of 0.0.0.0, text after a `dirs` list, a non-blank
space where `=` should be, kernel schedulers lvs.cf cannot name, a leading zero
that changes nothing, and how a problem without a column is printed.
"""

from __future__ import annotations

import pytest

from lvscf import parse
from tests.lvscf.helpers import errors_of, only_error, only_warning, virtual


def test_a_file_full_of_errors_reports_the_first_fifty_only() -> None:
    problems = errors_of("keepalive = 1\n" + "bogus = 1\n" * 60)
    assert len(problems) == 50
    assert [p.line for p in problems] == list(range(2, 52))
    assert all(p.message == "unknown command" for p in problems)


def test_a_master_of_zero_means_no_master() -> None:
    config = parse(virtual("master = 0.0.0.0"))
    assert config.virtual_servers[0].master is None
    assert config.source is not None and config.source.warnings == ()


def test_a_master_in_inet_aton_shorthand_is_read_as_its_dotted_quad() -> None:
    config = parse(virtual("master = 10.1"))
    assert config.virtual_servers[0].master == "10.0.0.1"
    warning = only_warning(config)
    assert warning.message == "`10.1` is read as 10.0.0.1"
    assert warning.hint == "write `10.0.0.1`"


def test_text_after_the_closing_bracket_of_dirs_is_ignored_with_a_warning() -> None:
    config = parse(virtual("dirs = [ /a /b ] extra"))
    assert config.virtual_servers[0].dirs == ("/a", "/b")
    warning = only_warning(config)
    assert warning.message == "text after `]` is ignored"
    assert (warning.line, warning.column) == (2, 22)
    assert warning.path == ("virtual", "web", "dirs")


def test_a_no_break_space_after_the_equal_sign_is_named_in_the_hint() -> None:
    problem = only_error("keepalive =\xa06\n")
    assert problem.message == "equal (=) expected after command"
    assert (problem.line, problem.column) == (1, 11)
    assert problem.hint is not None and "U+00A0" in problem.hint


@pytest.mark.parametrize("name", ["sed", "nq", "mh"])
def test_a_kernel_scheduler_lvs_cf_cannot_name_is_explained(name: str) -> None:
    problem = only_error(virtual(f"scheduler = {name}"))
    assert problem.message == "invalid argument"
    assert (problem.line, problem.column) == (2, 17)
    assert problem.hint is not None
    assert f"`{name}` is a kernel scheduler that lvs.cf cannot name" in problem.hint


def test_an_unknown_scheduler_lists_the_ones_lvs_cf_knows() -> None:
    problem = only_error(virtual("scheduler = fastest"))
    assert problem.hint == (
        "the scheduler must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh"
    )


def test_a_leading_zero_that_does_not_change_the_value_is_not_a_warning() -> None:
    config = parse(virtual("timeout = 06"))
    assert config.virtual_servers[0].timeout == 6
    assert config.source is not None and config.source.warnings == ()


def test_a_leading_zero_that_changes_the_value_is_a_warning() -> None:
    config = parse(virtual("timeout = 010"))
    assert config.virtual_servers[0].timeout == 8
    assert only_warning(config).message == (
        "`010` starts with 0, so it is octal: it is read as 8"
    )


def test_a_warning_for_a_whole_line_prints_without_a_column() -> None:
    text = "primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_private = 10.1.0.2\n"
    warning = only_warning(parse(text))
    assert (warning.line, warning.column) == (3, None)
    assert warning.format("lvs.cf").startswith(
        "lvs.cf:3: warning: backup_private is replaced by backup"
    )


def test_an_equal_sign_glued_to_the_value_is_equal_expected_with_the_fix() -> None:
    problem = only_error("keepalive =6\n")
    assert problem.message == "equal (=) expected after command"
    assert problem.hint == "write `keepalive = 6`, with spaces around `=`"
