"""Files that are not an lvs.cf at all: each ends with a clear error, never a crash.

`python -m lvscf check` must exit non-zero with an error line (never a traceback,
never a hang: every run has a 60 s timeout), `fmt --write` must leave the file as
it was, and `parse()` of the same text must raise LvsCfError or return a Config,
never another exception.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from lvscf import Config, LvsCfError, parse, render, validate
from tests.lvscf.helpers import run_cli

TEN_MB = 10 * 1024 * 1024

VALID = """\
serial_no = 3
primary = 192.168.1.1
service = lvs
network = direct
keepalive = 6
deadtime = 18
debug_level = NONE
virtual web {
     active = 1
     address = 192.168.1.100 eth0:1
     port = 80
     server web1 {
         address = 192.168.1.11
         active = 1
     }
}
"""


def binary() -> bytes:
    # An ELF-like header, then random bytes (a NUL in the header for sure).
    return b"\x7fELF\x02\x01\x01\x00" + random.Random(1986).randbytes(4096)


def nul_inside() -> bytes:
    return VALID.replace("keepalive = 6\n", "keepalive = 6\x00\n").encode()


def one_long_word() -> bytes:
    return b"a" * TEN_MB + b"\n"


def one_long_number() -> bytes:
    return b"serial_no = " + b"1" * TEN_MB + b"\n"


def utf16() -> bytes:
    return VALID.encode("utf-16")  # with a byte order mark


def utf16_without_bom() -> bytes:
    return VALID.encode("utf-16-le")


def latin1() -> bytes:
    return VALID.replace("debug_level = NONE", "debug_level = caf\u00e9").encode(
        "latin-1"
    )


def nested_blocks() -> bytes:
    return b"virtual a {\n" * 100_000


def one_line_of_braces() -> bytes:
    return b"{" * 100_000 + b"\n"


def one_line_of_spaced_braces() -> bytes:
    return b"{ " * 100_000 + b"\n"


def only_comments() -> bytes:
    return b"# lvs.cf\n#\n   # nothing configured yet\n"


def only_whitespace() -> bytes:
    return b"   \n\t\n\n  \t  \n"


# name -> (contents, what the first line of `check` output must match after FILE:)
CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "binary": (binary, r"\d+:\d+: error: byte 0x[0-9a-f]{2} is not UTF-8 text"),
    "nul-inside": (
        nul_inside,
        r"5:14: error: the file contains a NUL byte: it is binary, not an lvs\.cf",
    ),
    "10-MB-word": (one_long_word, r"1:1: error: unknown command"),
    # The original clamps it (strtol) and reads -1: a warning or an error will do.
    "10-MB-number": (one_long_number, r"(1:13:)? (error|warning): .+"),
    "utf-16": (utf16, r"1:1: error: the file is UTF-16 text"),
    "utf-16-le": (utf16_without_bom, r"1:2: error: the file contains a NUL byte.*"),
    "latin-1": (latin1, r"7:18: error: byte 0xe9 is not UTF-8 text"),
    "nested-blocks": (nested_blocks, r"2:1: error: unknown command"),
    "braces": (one_line_of_braces, r"1:1: error: unknown command"),
    "spaced-braces": (one_line_of_spaced_braces, r"1:1: error: unknown command"),
    "only-comments": (
        only_comments,
        r" error: no active virtual server: pulse will not start.*",
    ),
    "only-whitespace": (
        only_whitespace,
        r" error: no active virtual server: pulse will not start.*",
    ),
}
# These parse (the original accepts them too); only validate finds them wrong.
PARSEABLE = ["only-comments", "only-whitespace"]
# The original accepts this one (strtol clamps the number): fmt may rewrite it.
MAY_PARSE = ["10-MB-number"]
UNPARSEABLE = sorted(set(CASES) - set(PARSEABLE) - set(MAY_PARSE))


def write_case(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "lvs.cf"
    path.write_bytes(CASES[name][0]())
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_ends_with_a_clear_error_and_a_non_zero_exit(
    tmp_path: Path, case: str
) -> None:
    path = write_case(tmp_path, case)
    result = run_cli("check", path)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1
    first = result.stdout.splitlines()[0] if result.stdout else ""
    expected = re.escape(f"{path}:") + CASES[case][1]
    assert re.fullmatch(expected, first), first[:300]
    assert any(": error: " in line for line in result.stdout.splitlines())


@pytest.mark.parametrize("case", UNPARSEABLE)
def test_fmt_write_leaves_an_unparseable_file_unchanged(
    tmp_path: Path, case: str
) -> None:
    path = write_case(tmp_path, case)
    before = path.read_bytes()
    result = run_cli("fmt", "--write", path)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1
    assert ": error: " in result.stderr
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lvs.cf"]


@pytest.mark.parametrize("case", PARSEABLE + MAY_PARSE)
def test_fmt_write_of_a_file_that_may_parse_writes_text_that_parses_or_nothing(
    tmp_path: Path, case: str
) -> None:
    path = write_case(tmp_path, case)
    before = path.read_bytes()
    result = run_cli("fmt", "--write", path)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if result.returncode == 0:
        assert path.read_text(encoding="utf-8") == render(parse(before.decode()))
    else:
        assert result.returncode == 1
        assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lvs.cf"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_parse_raises_lvscf_error_or_returns_never_another_exception(
    case: str,
) -> None:
    # As text: undecodable bytes read as Latin-1, so every byte reaches parse().
    text = CASES[case][0]().decode("latin-1")
    try:
        config = parse(text)
    except LvsCfError as exc:
        assert exc.problems
        assert all(p.line is not None and p.line >= 1 for p in exc.problems)
        assert any(p.is_error for p in exc.problems)
    else:
        assert isinstance(config, Config)


def test_a_nul_byte_is_reported_at_its_line_and_column() -> None:
    with pytest.raises(LvsCfError) as caught:
        parse(nul_inside().decode())
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (5, 14)
    assert "NUL byte" in problem.message


@pytest.mark.parametrize("make", [only_comments, only_whitespace])
def test_a_file_without_statements_parses_but_has_no_active_virtual_server(
    make: Callable[[], bytes],
) -> None:
    problems = validate(parse(make().decode()))
    errors = [p for p in problems if p.is_error]
    assert len(errors) == 1
    assert "no active virtual server" in errors[0].message


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("serial_no = {}", id="int"),
        pytest.param("serial_no = -{}", id="negative-int"),
        pytest.param("serial_no = 0{}", id="octal-int"),
        pytest.param("heartbeat = {}", id="boolean"),
        pytest.param("heartbeat_port = {}", id="port"),
        pytest.param("primary = {}", id="address"),
        pytest.param("primary = 10.{}", id="address-part"),
        pytest.param("nat_nmask = {}", id="netmask"),
        pytest.param("virtual v {{\n     fwmark = -{}\n}}", id="fwmark"),
        pytest.param("virtual v {{\n     sorry_server = {}\n}}", id="sorry-server"),
        pytest.param("virtual v {{\n     pmask = {}\n}}", id="pmask"),
        pytest.param(
            "virtual v {{\n     server r {{\n         weight = {}\n     }}\n}}",
            id="weight",
        ),
    ],
)
def test_a_number_of_5000_digits_is_an_error_or_a_value_never_a_crash(
    line: str,
) -> None:
    # Python refuses int() of more than 4300 decimal digits with a ValueError.
    text = line.format("7" * 5000) + "\n"
    try:
        config = parse(text)
    except LvsCfError as exc:
        assert exc.problems[0].line in (1, 2, 3)
    else:
        assert isinstance(config, Config)
