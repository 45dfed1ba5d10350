"""Sync of the published lvs.cf to the backup router over SSH (paramiko).

`sync_to_backup(revision)` uploads each file to a temp file beside its target,
reads it back and checks its sha256, and only when every file checked out
renames them over their targets (keeping mode, owner and one `.bak`). So every
failure, which raises `SyncError` worded for the admin, leaves the targets on
the backup as they were. Host keys are never accepted silently: the admin
confirms the fingerprint that `fetch_host_key()` shows, and a changed key is
refused. `sync_state()` compares the backup's file with the last revision.

Modules: errors (SyncError, TIMEOUT), keys (ours and the backup's host key),
client (connecting), extensions (OpenSSH SFTP extensions paramiko lacks),
transfer (temp file, verify, rename, .bak), files (what a sync copies), state
(the sync and the state the panels show).
"""

from __future__ import annotations

from lbconfig.sync.client import fetch_host_key
from lbconfig.sync.errors import SyncError
from lbconfig.sync.files import SYSCTL_PATH, SYSCTL_TEXT, files_for
from lbconfig.sync.keys import (
    HostKey,
    address,
    confirm_host_key,
    generate_key,
    parse_host_key,
    save_new_key,
)
from lbconfig.sync.state import SyncResult, SyncState, sync_state, sync_to_backup
from lbconfig.sync.transfer import Upload, remote_sha256, session

__all__ = [
    "SYSCTL_PATH",
    "SYSCTL_TEXT",
    "HostKey",
    "SyncError",
    "SyncResult",
    "SyncState",
    "Upload",
    "address",
    "confirm_host_key",
    "fetch_host_key",
    "files_for",
    "generate_key",
    "parse_host_key",
    "remote_sha256",
    "save_new_key",
    "session",
    "sync_state",
    "sync_to_backup",
]
