"""What one sync copies: the published lvs.cf and, when chosen, the sysctl file
that turns on IP forwarding and the firewall-mark rules file.

The manual tells the admin to copy all three to the backup by hand: lvs.cf
(both routers must have identical files), IP forwarding, and, for virtual
servers with a firewall mark, the iptables rules that set the marks (saved with
`iptables-save`, e.g. /etc/sysconfig/iptables on RHEL).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from django.conf import settings

from lbconfig.models import Revision, SyncTarget
from lbconfig.sync.errors import SyncError
from lbconfig.sync.transfer import Upload

SYSCTL_TEXT = "# Written by piranha-web: LVS routers forward packets.\n"
SYSCTL_TEXT += "net.ipv4.ip_forward = 1\n"
# A drop-in rather than /etc/sysctl.conf, so the backup's other settings survive.
SYSCTL_PATH = "/etc/sysctl.d/90-piranha-lvs.conf"
# An iptables-save file of a router is kilobytes; refuse to load something else.
RULES_MAX_BYTES = 16 * 1024 * 1024


def files_for(target: SyncTarget, revision: Revision) -> list[Upload]:
    """The remote paths and contents that one sync writes (read before connecting)."""
    files = [Upload(target.remote_path, revision.text.encode())]
    if target.copy_sysctl:
        path = getattr(settings, "PIRANHA_SYNC_SYSCTL_PATH", SYSCTL_PATH)
        files.append(Upload(str(path), SYSCTL_TEXT.encode()))
    if target.copy_fwmark_rules:
        files.append(firewall_mark_rules(target))
    return files


def firewall_mark_rules(target: SyncTarget) -> Upload:
    """This router's firewall-mark rules file, for the same place on the backup.

    A new file on the backup gets the local file's mode: rules files are often
    readable by root only.
    """
    local = Path(target.fwmark_rules_path)
    try:
        with local.open("rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read(RULES_MAX_BYTES + 1)
    except OSError as exc:
        raise SyncError(
            f"The firewall-mark rules file {local} cannot be read here "
            f"({exc.strerror or exc}): save the rules first (iptables-save > "
            f"{local}), or stop copying it in the backup sync settings. "
            "Nothing was sent."
        ) from None
    if len(data) > RULES_MAX_BYTES or not stat.S_ISREG(info.st_mode):
        raise SyncError(
            f"{local} is not a firewall-mark rules file (not a regular file of at "
            f"most {RULES_MAX_BYTES // 2**20} MiB). Nothing was sent."
        )
    return Upload(target.fwmark_rules_remote_path, data, stat.S_IMODE(info.st_mode))
