"""The sync itself, and the state the panels show: is the backup's lvs.cf the
published revision?"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from typing import Any

import paramiko
from django.utils import timezone

from lbconfig.audit import record
from lbconfig.models import Revision, SyncTarget
from lbconfig.sync.errors import SyncError
from lbconfig.sync.files import files_for
from lbconfig.sync.keys import address
from lbconfig.sync.transfer import (
    remote_sha256,
    session,
    sftp_errors,
    stat_or_none,
    transfer,
)

# `systemctl reload pulse` returns in about a second; a hung command must not hang us.
RELOAD_TIMEOUT = 30.0


@dataclass(frozen=True)
class SyncResult:
    """A verified copy of one revision on the backup."""

    revision: int
    sha256: str
    files: tuple[str, ...]
    seconds: float
    reload_problem: str | None = None

    def __str__(self) -> str:
        return (
            f"Backup in sync: revision {self.revision} copied to "
            f"{', '.join(self.files)} and verified (sha256 {self.sha256[:12]}…) "
            f"in {self.seconds:.2f} s."
        )


@dataclass(frozen=True)
class SyncState:
    """How the backup's lvs.cf compares with the last published revision."""

    status: str  # "in_sync", "differs", "unreachable" or "unset"
    message: str


def sync_to_backup(revision: Revision, user: str = "") -> SyncResult:
    """Copy revision to the backup, verify it there, then put it in place."""
    target, started = SyncTarget.load(), time.monotonic()
    try:
        uploads = files_for(target, revision)
        with session(target) as (client, sftp):
            transfer(sftp, uploads)
            problem = _reload(client, target.reload_command)
    except SyncError as exc:
        _remember(f"sync of revision {revision.pk} failed: {exc}")
        record(user, "sync failed", f"revision {revision.pk}: {exc}")
        raise
    result = SyncResult(
        revision.pk,
        revision.sha256,
        tuple(upload.path for upload in uploads),
        time.monotonic() - started,
        problem,
    )
    _remember(f"in sync (revision {revision.pk})")
    record(user, "sync", f"revision {revision.pk} to {address(target)}: {result}")
    return result


def _reload(client: Any, command: str) -> str | None:
    """Run the reload command, if any; a sentence when it failed."""
    if not command:
        return None
    # SSH hands a command line to the remote login shell; quoting every word
    # means that shell runs the program with these arguments and expands nothing.
    line = shlex.join(shlex.split(command))
    try:
        _, out, err = client.exec_command(line, timeout=RELOAD_TIMEOUT)
        status = out.channel.recv_exit_status()
        text = (err.read() + out.read()).decode(errors="replace").strip()
    except (OSError, paramiko.SSHException, EOFError) as exc:
        return f"the reload command did not finish: {exc}"
    if status != 0:
        return f"the reload command exited with {status}: {text[-300:]}"
    return None


def sync_state(revision: Revision | None = None) -> SyncState:
    """Compare the backup's lvs.cf with the published revision, and remember it."""
    revision = revision or Revision.objects.first()
    target = SyncTarget.load()
    if revision is None:
        state = SyncState("unset", "nothing published yet")
    elif not (address(target) and target.private_key and target.host_key):
        state = SyncState("unset", "backup sync not set up")
    else:
        state = _compare(target, revision)
    _remember(state.message)
    return state


def _compare(target: SyncTarget, revision: Revision) -> SyncState:
    try:
        with session(target) as (_, sftp):
            with sftp_errors("reading lvs.cf", target.remote_path, sftp):
                found = stat_or_none(sftp, target.remote_path)
                sha = remote_sha256(sftp, target.remote_path) if found else None
    except SyncError as exc:
        return SyncState("unreachable", f"not reachable ({exc})")
    if sha == revision.sha256:
        return SyncState("in_sync", f"in sync (revision {revision.pk})")
    has = f"sha {sha[:12]}…" if sha else f"no {target.remote_path}"
    return SyncState(
        "differs",
        f"backup differs (published revision {revision.pk}, backup has {has})",
    )


def _remember(text: str) -> None:
    # An update, not save(): a sync must not overwrite settings edited meanwhile.
    SyncTarget.objects.filter(pk=SyncTarget.load().pk).update(
        last_result=text[:500], last_checked=timezone.now()
    )
