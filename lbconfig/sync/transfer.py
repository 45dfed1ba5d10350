"""Putting files on the backup: every file to a temp file beside its target,
read back and checked, and only when all checked out renamed into place (with
the target's mode and owner and one `.bak`). Any failure leaves the targets as
they were and raises SyncError in the admin's words.
"""

from __future__ import annotations

import errno
import hashlib
import io
import posixpath
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import paramiko

from lbconfig.models import SyncTarget
from lbconfig.sync import errors
from lbconfig.sync.client import connect
from lbconfig.sync.errors import SyncError, ssh_sentence
from lbconfig.sync.extensions import OpenSSHExtensions

CHUNK = 32768  # paramiko's largest SFTP write request
TEMP_MARK = ".piranha-sync-"


@dataclass(frozen=True)
class Upload:
    """One file for the backup: where, what, and its mode if it is new there."""

    path: str
    data: bytes
    mode: int = 0o644


@contextmanager
def session(target: SyncTarget) -> Iterator[tuple[Any, Any]]:
    """An SSH client and its SFTP channel, closed on the way out."""
    client = connect(target)
    try:
        with sftp_errors("opening SFTP", target.remote_path):
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(errors.TIMEOUT)
        yield client, sftp
    finally:
        client.close()


@contextmanager
def sftp_errors(
    what: str, path: str, sftp: Any = None, ext: OpenSSHExtensions | None = None
) -> Iterator[None]:
    """One sentence per way an SFTP step fails; `what` names the step."""
    try:
        yield
    except PermissionError:
        raise SyncError(
            f"Permission denied on the backup while {what} ({path}). "
            "Nothing was changed there."
        ) from None
    except FileNotFoundError:
        raise SyncError(
            f"{posixpath.dirname(path)} does not exist on the backup (while {what})."
        ) from None
    except TimeoutError:
        raise SyncError(
            f"The backup stopped answering while {what}. Nothing was changed there."
        ) from None
    except (EOFError, paramiko.SSHException, ConnectionError) as exc:
        raise SyncError(ssh_sentence(f"the backup (while {what})", exc)) from None
    except OSError as exc:
        raise SyncError(_refused(what, path, sftp, ext, exc)) from None


def _refused(
    what: str, path: str, sftp: Any, ext: OpenSSHExtensions | None, exc: OSError
) -> str:
    if sftp is not None and sftp.get_channel().closed:
        # paramiko says only "Socket is closed" when the link died under a write.
        return ssh_sentence(f"the backup (while {what})", EOFError())
    # sftp-server reports ENOSPC as a bare "Failure": ask the disk how full it is.
    free = None
    if ext is not None:
        with suppress(OSError, EOFError, paramiko.SSHException):
            free = ext.free_bytes(posixpath.dirname(path))
    if exc.errno == errno.ENOSPC or (free is not None and free < 64 * 1024):
        return (
            f"The backup's disk is full ({posixpath.dirname(path)} has "
            f"{free if free is not None else 0} bytes free). Nothing was changed."
        )
    return f"The backup refused {what} ({path}): {exc.strerror or exc}."


def transfer(sftp: Any, uploads: list[Upload]) -> None:
    """Upload and verify every temp file; only then rename them into place."""
    with sftp_errors("opening SFTP", uploads[0].path, sftp):
        transport = sftp.get_channel().get_transport()
        ext = OpenSSHExtensions(transport, errors.TIMEOUT)
    with ext:
        temps = _upload_all(sftp, ext, uploads)
        for upload, temp in zip(uploads, temps, strict=True):
            with sftp_errors("putting the file in place", upload.path, sftp, ext):
                keep_bak(sftp, ext, upload.path)
                sftp.posix_rename(temp, upload.path)


def _upload_all(sftp: Any, ext: OpenSSHExtensions, uploads: list[Upload]) -> list[str]:
    temps: list[str] = []
    try:
        for upload in uploads:
            with sftp_errors("uploading", upload.path, sftp, ext):
                for leftover in (upload.path, f"{upload.path}.bak"):
                    _clear_leftovers(sftp, leftover)
                temps.append(_temp_name(upload.path))
                _upload(sftp, upload, temps[-1])
                _verify(sftp, temps[-1], upload.data)
    except SyncError:
        _remove_quietly(sftp, temps)
        raise
    return temps


def stat_or_none(sftp: Any, path: str) -> Any:
    try:
        return sftp.stat(path)
    except FileNotFoundError:
        return None


def _temp_name(path: str) -> str:
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}{TEMP_MARK}{secrets.token_hex(6)}")


def _clear_leftovers(sftp: Any, path: str) -> None:
    """Remove temp files that an earlier, interrupted sync left beside path."""
    head, tail = posixpath.split(path)
    with suppress(OSError):
        for name in sftp.listdir(head):
            if name.startswith(f".{tail}{TEMP_MARK}"):
                sftp.remove(posixpath.join(head, name))


def _upload(sftp: Any, upload: Upload, temp: str) -> None:
    """Write the data to a new temp file, with the target's mode and owner."""
    old = stat_or_none(sftp, upload.path)
    _write(sftp, temp, upload.data)
    mode = stat.S_IMODE(old.st_mode) if old else upload.mode
    sftp.chmod(temp, mode)
    if old and (old.st_uid, old.st_gid) != _owner(sftp.stat(temp)):
        sftp.chown(temp, old.st_uid, old.st_gid)


def _write(sftp: Any, path: str, data: bytes) -> None:
    with sftp.open(path, "wbx") as handle:
        # Pipelined: the writes go out back to back; close() collects the replies.
        handle.set_pipelined(True)
        for start in range(0, len(data), CHUNK):
            handle.write(data[start : start + CHUNK])
    # A pipelined write's error may never be raised (paramiko drops the replies
    # of writes it no longer waits for): the size shows a short file (ENOSPC),
    # and the sha256 check that follows anything else.
    if sftp.stat(path).st_size != len(data):
        raise OSError(errno.EIO, "the file came out short")


def _owner(attrs: Any) -> tuple[int, int]:
    return int(attrs.st_uid), int(attrs.st_gid)


def remote_sha256(sftp: Any, path: str) -> str:
    """The sha256 of a remote file, read back over SFTP and hashed here."""
    digest = hashlib.sha256()
    with sftp.open(path, "rb") as handle:
        handle.prefetch(handle.stat().st_size)
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def keep_bak(sftp: Any, ext: OpenSSHExtensions, path: str) -> None:
    """Make path.bak the current file, so that path never goes missing."""
    old = stat_or_none(sftp, path)
    if old is None:
        return
    with suppress(FileNotFoundError):
        sftp.remove(f"{path}.bak")
    if ext.hardlink(path, f"{path}.bak"):
        return
    # No hardlink extension: a copy, written beside and renamed in like the rest.
    data = io.BytesIO()
    sftp.getfo(path, data)
    temp = _temp_name(f"{path}.bak")
    _write(sftp, temp, data.getvalue())
    sftp.chmod(temp, stat.S_IMODE(old.st_mode))
    with suppress(OSError):  # only root may give a file away; the copy is ours
        sftp.chown(temp, old.st_uid, old.st_gid)
    sftp.posix_rename(temp, f"{path}.bak")


def _verify(sftp: Any, temp: str, data: bytes) -> None:
    found = remote_sha256(sftp, temp)
    if found != hashlib.sha256(data).hexdigest():
        raise SyncError(
            f"The copy on the backup is corrupt (sha256 {found[:12]}…); "
            "nothing was replaced."
        )


def _remove_quietly(sftp: Any, temps: list[str]) -> None:
    # Best effort: after a dropped connection the next sync clears them instead.
    for temp in temps:
        with suppress(OSError, paramiko.SSHException, EOFError):
            sftp.remove(temp)
