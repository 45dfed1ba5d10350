"""The command line, run as an admin runs it: ``python -m lvscf check|fmt|dump``.

Every test starts a real subprocess from the repository root and looks at the
exit status, stdout and stderr; files live in pytest's tmp_path.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from lvscf import parse, render
from tests.lvscf.helpers import run_cli

# Valid, but not in the canonical layout: tabs, keys out of order, a comment.
CLEAN = """\
# router in rack 4
serial_no = 3
primary = 192.168.1.1
service = lvs
network = direct
virtual web {
\tactive = 1
\taddress = 192.168.1.100 eth0:1
\tport = 80
\tsend = "GET / HTTP/1.0\\r\\n\\r\\n"
\texpect = "HTTP"
\ttimeout = 6
\treentry = 15
\tserver web1 {
\t\taddress = 192.168.1.11
\t\tweight = 3
\t\tactive = 1
\t}
}
"""
# Line 5 only draws a warning: `010` is octal (so 8).
WARNS = CLEAN.replace("network = direct\n", "network = direct\nkeepalive = 010\n")
# Line 13: the original parser rejects a trailing comment.
PARSE_ERROR = CLEAN.replace("\treentry = 15\n", "\treentry = 15 # seconds\n")
# Line 12: the parser accepts it, validate does not.
INVALID = CLEAN.replace("\ttimeout = 6\n", "\ttimeout = 0\n")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- check -----------------------------------------------------------------------


def test_check_is_silent_and_exits_0_for_a_clean_file(tmp_path: Path) -> None:
    result = run_cli("check", write(tmp_path, "lvs.cf", CLEAN))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_check_prints_file_line_column_and_message_of_a_parse_error(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "lvs.cf", PARSE_ERROR)
    result = run_cli("check", path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}:13:15: error: unexpected arguments"
    assert lines[1].startswith("    hint: lvs.cf has no trailing comments")
    assert len(lines) == 2
    assert result.stderr == ""


def test_check_prints_a_validation_error_with_its_place_and_exits_1(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "lvs.cf", INVALID)
    result = run_cli("check", path)
    assert result.returncode == 1
    assert result.stdout == f"{path}:12:12: error: timeout must be at least 1 second\n"


def test_check_prints_warnings_but_exits_0_without_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "lvs.cf", WARNS)
    result = run_cli("check", path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{path}:6:13: warning: `010` starts with 0, so it is octal: it is read as 8"
    )
    assert all(line.startswith("    hint: ") for line in lines[1:])


@pytest.mark.parametrize("flag", ["-q", "--quiet"])
def test_check_quiet_hides_warnings(tmp_path: Path, flag: str) -> None:
    result = run_cli("check", flag, write(tmp_path, "lvs.cf", WARNS))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_check_quiet_still_prints_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lvs.cf",
        INVALID.replace("network = direct\n", "network = direct\nkeepalive = 010\n"),
    )
    result = run_cli("check", "-q", path)
    assert result.returncode == 1
    assert result.stdout == f"{path}:13:12: error: timeout must be at least 1 second\n"


def test_check_of_a_missing_file_exits_2_with_a_message_on_stderr(
    tmp_path: Path,
) -> None:
    path = tmp_path / "absent.cf"
    result = run_cli("check", path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"{path}: cannot read: No such file or directory\n"


def test_check_of_a_directory_exits_2_with_a_message_on_stderr(
    tmp_path: Path,
) -> None:
    result = run_cli("check", tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"{tmp_path}: cannot read: Is a directory\n"


@pytest.mark.parametrize(
    ("names", "status"),
    [
        (["clean", "warns"], 0),
        (["clean", "invalid"], 1),
        (["parse_error", "clean"], 1),
        (["invalid", "missing", "clean"], 2),
        (["missing", "parse_error"], 2),
    ],
)
def test_check_of_several_files_exits_with_the_worst_status(
    tmp_path: Path, names: list[str], status: int
) -> None:
    texts = {
        "clean": CLEAN,
        "warns": WARNS,
        "invalid": INVALID,
        "parse_error": PARSE_ERROR,
    }
    paths = [
        tmp_path / f"{name}.cf"
        if name == "missing"
        else write(tmp_path, f"{name}.cf", texts[name])
        for name in names
    ]
    result = run_cli("check", *paths)
    assert result.returncode == status
    for name, path in zip(names, paths, strict=True):
        reported = f"{path}:" in result.stdout + result.stderr
        assert reported == (name != "clean"), name
    assert "Traceback" not in result.stderr


# --- fmt -------------------------------------------------------------------------


def test_fmt_prints_the_canonical_text_and_leaves_the_file_alone(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "lvs.cf", CLEAN)
    result = run_cli("fmt", path)
    assert result.returncode == 0
    assert result.stdout == render(parse(CLEAN))
    assert result.stdout != CLEAN
    assert "     server web1 {\n         address = 192.168.1.11\n" in result.stdout
    assert path.read_text(encoding="utf-8") == CLEAN


def test_fmt_of_canonical_text_prints_it_unchanged(tmp_path: Path) -> None:
    canonical = render(parse(CLEAN))
    result = run_cli("fmt", write(tmp_path, "lvs.cf", canonical))
    assert (result.returncode, result.stdout) == (0, canonical)


def test_fmt_write_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    path = write(tmp_path, "lvs.cf", CLEAN)
    path.chmod(0o640)
    result = run_cli("fmt", "--write", path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert path.read_text(encoding="utf-8") == render(parse(CLEAN))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["lvs.cf"]


def test_fmt_short_write_flag_works_too(tmp_path: Path) -> None:
    path = write(tmp_path, "lvs.cf", CLEAN)
    assert run_cli("fmt", "-w", path).returncode == 0
    assert path.read_text(encoding="utf-8") == render(parse(CLEAN))


@pytest.mark.parametrize("text", [PARSE_ERROR, "\0"], ids=["parse-error", "nul"])
def test_fmt_write_leaves_a_file_with_errors_byte_for_byte_unchanged(
    tmp_path: Path, text: str
) -> None:
    path = write(tmp_path, "lvs.cf", text)
    path.chmod(0o640)
    before = path.read_bytes()
    result = run_cli("fmt", "--write", path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{path}:" in result.stderr and ": error: " in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["lvs.cf"]


def test_fmt_of_a_file_with_errors_prints_them_on_stderr_and_exits_1(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "lvs.cf", PARSE_ERROR)
    result = run_cli("fmt", path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == f"{path}:13:15: error: unexpected arguments"


def test_fmt_write_of_a_missing_file_exits_2_and_creates_nothing(
    tmp_path: Path,
) -> None:
    result = run_cli("fmt", "--write", tmp_path / "absent.cf")
    assert result.returncode == 2
    assert "cannot read: No such file or directory" in result.stderr
    assert os.listdir(tmp_path) == []


def test_fmt_write_through_a_symlink_rewrites_the_target_and_keeps_the_link(
    tmp_path: Path,
) -> None:
    # /etc/sysconfig/ha/lvs.cf is often a link into a config-managed tree.
    target = write(tmp_path, "real.cf", CLEAN)
    link = tmp_path / "lvs.cf"
    link.symlink_to(target.name)
    result = run_cli("fmt", "--write", link)
    assert result.returncode == 0
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == render(parse(CLEAN))


# --- dump ------------------------------------------------------------------------


def test_dump_prints_json_keyed_by_the_lvs_cf_keywords(tmp_path: Path) -> None:
    result = run_cli("dump", write(tmp_path, "lvs.cf", CLEAN))
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["serial_no"] == 3
    assert data["network"] == "direct"
    assert data["primary_private"] is None  # not in the file: dump shows the file
    web = data["virtual_servers"][0]
    assert (web["name"], web["address"], web["device"]) == (
        "web",
        "192.168.1.100",
        "eth0:1",
    )
    assert web["send"] == "GET / HTTP/1.0\\r\\n\\r\\n"
    assert (web["timeout"], web["reentry"], web["active"]) == (6, 15, True)
    server = web["servers"][0]
    assert server == {
        "name": "web1",
        "address": "192.168.1.11",
        "active": True,
        "port": 80,
        "weight": 3,
        "comments": {"above": [], "keys": [], "end": []},
    }
    # No blank line below it: the comment belongs to the first key, not the file.
    assert data["comments"]["keys"] == [["serial_no", [" router in rack 4"]]]
    assert "source" not in data


def test_dump_of_a_file_with_errors_prints_them_on_stderr_and_exits_1(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "lvs.cf", PARSE_ERROR)
    result = run_cli("dump", path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == f"{path}:13:15: error: unexpected arguments"


def test_dump_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("dump", tmp_path / "absent.cf")
    assert (result.returncode, result.stdout) == (2, "")
    assert "cannot read" in result.stderr
