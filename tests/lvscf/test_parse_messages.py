"""`parse`: unreadable text, errors collected, messages and hints, real files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lvscf import ParseError, parse
from tests.lvscf.helpers import (
    errors_of,
    only_error,
    only_warning,
    server,
    virtual,
    warnings_of,
)

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
