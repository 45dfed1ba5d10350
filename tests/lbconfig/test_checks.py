"""System checks: manage.py check reports a state or lvs.cf dir it cannot write."""

from __future__ import annotations

from lbconfig.apps import check_lvs_cf_dir, check_pulse, check_var_dir

# Tests run as root, who may write into a mode-0500 directory; a path below a regular
# file is unwritable for everyone.


def test_var_dir_check_passes_for_a_writable_directory(var_dir):
    assert check_var_dir() == []


def test_var_dir_check_reports_a_directory_it_cannot_write(tmp_path, settings):
    (tmp_path / "file").write_text("")
    settings.PIRANHA_VAR_DIR = tmp_path / "file" / "var"

    [error] = check_var_dir()

    assert error.id == "lbconfig.E001"
    assert str(tmp_path / "file" / "var") in error.msg
    assert "PIRANHA_VAR_DIR" in str(error.hint)


def test_lvs_cf_check_passes_when_its_directory_is_writable(var_dir):
    assert check_lvs_cf_dir() == []


def test_lvs_cf_check_reports_a_directory_it_cannot_write(tmp_path, settings):
    (tmp_path / "file").write_text("")
    settings.PIRANHA_LVS_CF = tmp_path / "file" / "lvs.cf"

    [error] = check_lvs_cf_dir()

    assert error.id == "lbconfig.E002"
    assert "PIRANHA_LVS_CF" in str(error.hint)


def test_manage_py_check_runs_the_lbconfig_checks(tmp_path, settings):
    from django.core import checks

    (tmp_path / "file").write_text("")
    settings.PIRANHA_VAR_DIR = tmp_path / "file" / "var"

    ids = {message.id for message in checks.run_checks()}

    assert "lbconfig.E001" in ids


def test_pulse_check_passes_for_the_embedded_default(var_dir, settings):
    settings.PIRANHA_PULSE_SOCKET = ""
    assert check_pulse() == []


def test_pulse_check_reports_an_unknown_mode(settings):
    settings.PIRANHA_PULSE_MODE = "docker"

    [error] = check_pulse()

    assert error.id == "lbconfig.E003"
    assert "'docker' is not one of embedded, systemd" in error.msg


def test_pulse_check_reports_a_socket_path_too_long_for_unix_sockets(settings):
    settings.PIRANHA_PULSE_SOCKET = "/tmp/" + "x" * 110

    [error] = check_pulse()

    assert error.id == "lbconfig.E004"
    assert "PIRANHA_PULSE_SOCKET" in str(error.hint)


def test_pulse_check_reports_a_socket_directory_it_cannot_write(tmp_path, settings):
    (tmp_path / "file").write_text("")
    settings.PIRANHA_PULSE_SOCKET = str(tmp_path / "file" / "pulse.sock")

    [error] = check_pulse()

    assert error.id == "lbconfig.E005"


def test_pulse_check_warns_when_systemd_mode_has_no_sudo(
    settings, monkeypatch, tmp_path
):
    settings.PIRANHA_PULSE_MODE = "systemd"
    settings.PIRANHA_PULSE_SOCKET = "/run/pulse/pulse.sock"
    monkeypatch.setenv("PATH", str(tmp_path))

    [warning] = check_pulse()

    assert warning.id == "lbconfig.W006"
