"""The lbconfig app config, and the system checks that ``manage.py check`` runs.

The checks catch a misconfigured host before a user does: they show up in
``manage.py check``, at every ``migrate`` and in CI.
"""

from __future__ import annotations

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
    reason = why_not_writable(var_dir)
    if reason is None:
        return []
    return [
        checks.Error(
            f"The state directory {var_dir} is not writable: {reason}.",
            hint="It holds the database and the secret key. Create it, make it "
            "writable by the user that runs piranha-web, or set PIRANHA_VAR_DIR.",
            id="lbconfig.E001",
        )
    ]


def check_lvs_cf_dir(**kwargs: Any) -> list[checks.CheckMessage]:
    lvs_cf = Path(settings.PIRANHA_LVS_CF)
    reason = why_not_writable(lvs_cf.parent)
    if reason is None:
        return []
    return [
        checks.Error(
            f"The directory of lvs.cf, {lvs_cf.parent}, is not writable: {reason}.",
            hint="lvs.cf is replaced atomically (a temporary file renamed over it), "
            "so its directory must be writable. Fix it or set PIRANHA_LVS_CF.",
            id="lbconfig.E002",
        )
    ]
