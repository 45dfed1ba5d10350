"""validate(): whole configurations, and the one rule per test layout of its siblings.

Parsed cases start from GOOD (tests/lvscf/validate_cases.py), a realistic NAT
router with one virtual server and two real servers that has no problem at all,
and change one or two lines; each test then checks the severity, a substring of
the message, the path of the field and the line and column the problem points
at. The rules are tested per block, as lvscf/validate/ holds them:
test_validate_fields.py, _settings.py, _virtual.py, _servers.py, _across.py.
"""

from __future__ import annotations

from lvscf import parse, validate
from tests.lvscf.validate_cases import BASE, GOOD, edit, only, problems_of

# --- whole configs ---------------------------------------------------------------


def test_a_good_realistic_config_has_no_problems() -> None:
    assert problems_of(GOOD) == []


def test_the_constructed_base_config_has_no_problems() -> None:
    assert validate(BASE) == []


def test_problems_are_sorted_by_line() -> None:
    text = edit(
        GOOD,
        ("weight = 2", "weight = 70000"),
        ("timeout = 6", "timeout = 0"),
        ("keepalive = 6", "keepalive = 0"),
        ("vip_nmask = 255.255.255.0", "vip_nmask = 255.0.255.0"),
    )
    problems = problems_of(text)
    assert [p.line for p in problems] == [8, 19, 27, 39]
    assert [p.path[-1] for p in problems] == [
        "keepalive",
        "vip_nmask",
        "timeout",
        "weight",
    ]


def test_parse_time_warnings_appear_in_the_result_in_line_order() -> None:
    text = edit(GOOD, ("heartbeat_port = 539", "heartbeat_port = 01033"))
    text = edit(text, ("timeout = 6", "timeout = 0"))
    config = parse(text)
    assert config.source is not None
    assert len(config.source.warnings) == 1
    problems = validate(config)
    assert [(p.severity, p.line, p.column) for p in problems] == [
        ("warning", 7, 18),
        ("error", 27, 16),
    ]
    assert "`01033` starts with 0, so it is octal: it is read as 539" in (
        problems[0].message
    )
    assert problems[0] == config.source.warnings[0]


def test_a_parse_time_warning_names_the_field_it_is_about() -> None:
    text = edit(GOOD, ("heartbeat_port = 539", "heartbeat_port = 01033"))
    assert only(problems_of(text)).path == ("heartbeat_port",)


def test_a_repeated_key_warning_comes_from_the_parser_with_its_path() -> None:
    text = edit(GOOD, ("keepalive = 6", "keepalive = 6\nkeepalive = 6"))
    problem = only(problems_of(text))
    assert problem.severity == "warning"
    assert "`keepalive` is set again (first on line 8)" in problem.message
    assert problem.path == ("keepalive",)
    assert (problem.line, problem.column) == (9, 1)
