"""The lbconfig app config, and the system checks that ``manage.py check`` runs.

The checks catch a misconfigured host before a user does: they show up in
``manage.py check``, at every ``migrate`` and in CI.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class LbconfigConfig(AppConfig):
    name = "lbconfig"
    verbose_name = "Piranha configuration"

    def ready(self) -> None:
        checks.register(check_var_dir, checks.Tags.files)
        checks.register(check_lvs_cf_dir, checks.Tags.files)
        checks.register(check_pulse, checks.Tags.files)


def why_not_writable(directory: Path) -> str | None:
    """Return why no file can be created in directory, or None if one can.

    It creates a file rather than asking os.access(), which says yes to root even on a
    read-only file system.
    """
    try:
        with tempfile.TemporaryFile(dir=directory):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def check_var_dir(**kwargs: Any) -> list[checks.CheckMessage]:
    var_dir = Path(settings.PIRANHA_VAR_DIR)
    return _writable(
        var_dir,
        f"The state directory {var_dir} is not writable",
        hint="It holds the database and the secret key. Create it, make it "
        "writable by the user that runs piranha-web, or set PIRANHA_VAR_DIR.",
        id="lbconfig.E001",
    )


def check_lvs_cf_dir(**kwargs: Any) -> list[checks.CheckMessage]:
    lvs_cf = Path(settings.PIRANHA_LVS_CF)
    return _writable(
        lvs_cf.parent,
        f"The directory of lvs.cf, {lvs_cf.parent}, is not writable",
        hint="lvs.cf is replaced atomically (a temporary file renamed over it), "
        "so its directory must be writable. Fix it or set PIRANHA_LVS_CF.",
        id="lbconfig.E002",
    )


def _writable(
    directory: Path, problem: str, *, hint: str, id: str
) -> list[checks.CheckMessage]:
    """No message if `directory` is writable, else the error `problem: reason.`"""
    reason = why_not_writable(directory)
    if reason is None:
        return []
    return [checks.Error(f"{problem}: {reason}.", hint=hint, id=id)]


SUN_PATH_MAX = 107  # bytes of a Unix socket path (sun_path holds 108 with the NUL)


def check_pulse(**kwargs: Any) -> list[checks.CheckMessage]:
    """The pulse mode is known, and the control socket path can work."""
    from lbconfig import control

    mode = control.mode()
    if mode not in control.MODES:
        return [
            checks.Error(
                f"PIRANHA_PULSE_MODE={mode!r} is not one of "
                f"{', '.join(control.MODES)}.",
                hint="embedded: the web runs pulse itself (make run); systemd: a "
                "router, see docs/router-install.md.",
                id="lbconfig.E003",
            )
        ]
    path = control.socket_path()
    if len(str(path).encode()) > SUN_PATH_MAX:
        return [
            checks.Error(
                f"The pulse control socket path {path} is longer than "
                f"{SUN_PATH_MAX} bytes, the limit of a Unix socket address.",
                hint="Set PIRANHA_PULSE_SOCKET to a shorter path.",
                id="lbconfig.E004",
            )
        ]
    return _check_pulse_mode(mode, path)


def _check_pulse_mode(mode: str, path: Path) -> list[checks.CheckMessage]:
    if mode == "embedded":
        return _writable(
            path.parent,
            f"pulse cannot create its control socket in {path.parent}",
            hint="In the embedded mode the web starts pulse as its own user; "
            "make the directory writable or set PIRANHA_PULSE_SOCKET.",
            id="lbconfig.E005",
        )
    if shutil.which("sudo") is None:
        return [
            checks.Warning(
                "PIRANHA_PULSE_MODE=systemd, but sudo is not installed: START, "
                "STOP, RESTART and RELOAD will fail.",
                hint="Install sudo and packaging/sudoers.d/piranha-web "
                "(docs/router-install.md).",
                id="lbconfig.W006",
            )
        ]
    return []
