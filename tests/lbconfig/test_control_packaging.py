"""The router packaging agrees with the code: units, sudoers and the web's commands."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from lbconfig import control
from pulse.cli import build_parser

PACKAGING = Path(__file__).parents[2] / "packaging"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(PACKAGING / name)
    return parser


def pulse_args(command: str) -> list[str]:
    argv = shlex.split(command)
    assert argv[1:3] == ["-m", "pulse"]
    return argv[3:]


def test_pulse_unit_runs_as_root_with_a_command_line_pulse_accepts():
    service = unit("pulse.service")["Service"]

    args = build_parser().parse_args(pulse_args(service["ExecStart"]))

    assert service["User"] == "root"
    assert (args.command, args.dataplane, args.foreground) == ("run", "ipvs", True)
    assert args.run_socket == "/run/pulse/pulse.sock"
    reload = build_parser().parse_args(pulse_args(service["ExecReload"]))
    assert (reload.command, reload.control_socket) == ("reload", args.run_socket)
    assert "3" in service["RestartPreventExitStatus"].split()


def test_web_unit_runs_unprivileged_in_systemd_mode_on_3636():
    service = unit("piranha-web.service")["Service"]

    environment = service["Environment"]  # configparser keeps the last one
    assert service["User"] == "piranha" and service["Group"] == "piranha"
    assert "--bind 0.0.0.0:3636" in service["ExecStart"]
    assert environment == "PIRANHA_PULSE_SOCKET=/run/pulse/pulse.sock"
    text = (PACKAGING / "piranha-web.service").read_text()
    assert "Environment=PIRANHA_PULSE_MODE=systemd\n" in text
    assert "\nNoNewPrivileges" not in text  # sudo must work


def test_sudoers_allows_exactly_the_commands_the_web_runs():
    text = (PACKAGING / "sudoers.d/piranha-web").read_text()
    rule = next(line for line in text.splitlines() if line.startswith("Cmnd_Alias"))

    allowed = {c.strip() for c in rule.split("=", 1)[1].split(",")}

    expected = {
        f"{prefix}/systemctl {verb} {control.UNIT}"
        for prefix in ("/usr/bin", "/bin")
        for verb in control.VERBS
    }
    assert allowed == expected
    assert "piranha ALL=(root) NOPASSWD: PIRANHA_PULSE\n" in text


@pytest.mark.skipif(shutil.which("visudo") is None, reason="visudo (sudo) is absent")
def test_sudoers_file_parses():
    path = PACKAGING / "sudoers.d/piranha-web"
    subprocess.run(["visudo", "-cf", str(path)], check=True, capture_output=True)
