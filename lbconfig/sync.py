"""Sync of the published lvs.cf to the backup router over SSH (paramiko).

`sync_to_backup(revision)` uploads each file to a temp file beside its target,
reads it back and checks its sha256, and only when every file checked out
renames them over their targets (keeping mode, owner and one `.bak`). So every
failure, which raises `SyncError` worded for the admin, leaves the targets on
the backup as they were. Host keys are never accepted silently: the admin
confirms the fingerprint that `fetch_host_key()` shows, and a changed key is
refused. `sync_state()` compares the backup's file with the last revision.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import io
import posixpath
import secrets
import shlex
import socket
import stat
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone

from lbconfig.audit import record
from lbconfig.models import Redundancy, Revision, SyncTarget

# A backup router sits on the same LAN: if it has not answered in 5 s it will not.
TIMEOUT = 5.0
# `systemctl reload pulse` returns in about a second; a hung command must not hang us.
RELOAD_TIMEOUT = 30.0
CHUNK = 32768  # paramiko's largest SFTP write request
TEMP_MARK = ".piranha-sync-"
SYSCTL_TEXT = "# Written by piranha-web: LVS routers forward packets.\n"
SYSCTL_TEXT += "net.ipv4.ip_forward = 1\n"
# A drop-in rather than /etc/sysctl.conf, so the backup's other settings survive.
SYSCTL_PATH = "/etc/sysctl.d/90-piranha-lvs.conf"


class SyncError(Exception):
    """The sync did not happen; str() is the sentence to show the admin."""


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


@dataclass(frozen=True)
class HostKey:
    """A server's host key as an OpenSSH line, and its SHA256 fingerprint."""

    line: str
    fingerprint: str


# --- keys ------------------------------------------------------------------------


def generate_key(comment: str = "piranha-web") -> tuple[str, str]:
    """A new ed25519 key: (private key in OpenSSH format, public key line)."""
    # paramiko loads ed25519 keys but cannot make one; cryptography (its own
    # dependency) can, in the OpenSSH format paramiko reads back.
    private = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    pkey = paramiko.Ed25519Key.from_private_key(io.StringIO(private.decode()))
    return private.decode(), f"{pkey.get_name()} {pkey.get_base64()} {comment}"


def save_new_key(user: str) -> str:
    """Generate a key for the sync, store it, and return its public key line."""
    private, public = generate_key(f"piranha-web@{socket.gethostname()}")
    target = SyncTarget.load()
    SyncTarget.objects.filter(pk=target.pk).update(
        private_key=private, public_key=public, version=target.version + 1
    )
    record(user, "sync key", f"new ed25519 key {public.split()[1][-16:]}")
    return public


def _private_key(target: SyncTarget) -> Any:
    if not target.private_key:
        raise SyncError(
            "There is no SSH key yet: generate one, then add its public "
            "key line to authorized_keys on the backup."
        )
    try:
        return paramiko.Ed25519Key.from_private_key(io.StringIO(target.private_key))
    except (paramiko.SSHException, ValueError) as exc:
        raise SyncError(
            f"The stored SSH key is unreadable ({exc}): generate a new one."
        ) from None


def parse_host_key(line: str) -> Any:
    """The key of an OpenSSH line `TYPE BASE64 [comment]`; SyncError if it is not."""
    try:
        kind, data = line.split()[:2]
        return paramiko.PKey.from_type_string(kind, base64.b64decode(data))
    except (ValueError, binascii.Error, paramiko.SSHException) as exc:
        raise SyncError(f"Not a host key line: {exc}") from None


def fetch_host_key(target: SyncTarget) -> HostKey:
    """The host key the backup offers now, for the admin to confirm (first contact)."""
    host = address(target)
    with _reach(host, target.port):
        sock = socket.create_connection((host, target.port), timeout=TIMEOUT)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = TIMEOUT
        try:
            transport.start_client(timeout=TIMEOUT)
            key = transport.get_remote_server_key()
        finally:
            transport.close()
    return HostKey(f"{key.get_name()} {key.get_base64()}", key.fingerprint)


def confirm_host_key(line: str, fingerprint: str, user: str) -> HostKey:
    """Trust the key the admin saw; refuses a line that is not that fingerprint."""
    key = parse_host_key(line)
    if key.fingerprint != fingerprint:
        raise SyncError("The host key does not match the fingerprint you confirmed.")
    target = SyncTarget.load()
    confirmed = HostKey(f"{key.get_name()} {key.get_base64()}", key.fingerprint)
    SyncTarget.objects.filter(pk=target.pk).update(
        host_key=confirmed.line,
        host_key_fingerprint=confirmed.fingerprint,
        version=target.version + 1,
    )
    record(user, "sync host key", f"{address(target)}: {confirmed.fingerprint}")
    return confirmed


# --- connecting --------------------------------------------------------------------


def address(target: SyncTarget) -> str:
    """The backup's address: the sync setting, else the REDUNDANCY panel's."""
    return target.host or (Redundancy.load().backup or "")


@contextmanager
def _reach(host: str, port: int) -> Iterator[None]:
    """Turn network failures into sentences that name the backup."""
    where = f"{host}:{port}"
    if not host:
        raise SyncError("No backup address: set it on the REDUNDANCY page.")
    try:
        yield
    except TimeoutError:
        raise SyncError(
            f"Timed out: {where} did not answer within {TIMEOUT:g} s."
        ) from None
    except socket.gaierror as exc:
        raise SyncError(
            f"Not reachable: cannot resolve {host} ({exc.strerror})."
        ) from None
    except paramiko.ssh_exception.NoValidConnectionsError:
        raise SyncError(
            f"Not reachable: {where} refused the connection "
            "(is sshd running there, on that port?)."
        ) from None
    except OSError as exc:
        raise SyncError(f"Not reachable: {where}: {exc.strerror or exc}.") from None
    except paramiko.SSHException as exc:
        raise SyncError(_ssh_sentence(where, exc)) from None


def _ssh_sentence(where: str, exc: Exception) -> str:
    # start_client() gives up at its own deadline without raising; paramiko then
    # says "No existing session".
    if "banner" in str(exc) or "No existing session" in str(exc):
        return (
            f"Timed out: {where} did not answer as an SSH server within {TIMEOUT:g} s."
        )
    if "dropped" in str(exc) or isinstance(exc, EOFError):
        return f"The connection to {where} dropped. Nothing was changed on the backup."
    return f"SSH to {where} failed: {exc}."


def _client(target: SyncTarget) -> Any:
    """A connected, authenticated client that trusts only the confirmed host key."""
    if not target.host_key:
        raise SyncError(
            "The backup's host key is not confirmed yet: check its "
            "fingerprint on the backup sync settings page and confirm it."
        )
    host, key, pkey = (
        address(target),
        parse_host_key(target.host_key),
        _private_key(target),
    )
    client = paramiko.SSHClient()
    name = host if target.port == 22 else f"[{host}]:{target.port}"
    client.get_host_keys().add(name, key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        with _reach(host, target.port), _auth_errors(target):
            client.connect(
                host,
                target.port,
                target.user,
                pkey=pkey,
                look_for_keys=False,
                allow_agent=False,
                timeout=TIMEOUT,
                banner_timeout=TIMEOUT,
                auth_timeout=TIMEOUT,
                channel_timeout=TIMEOUT,
            )
    except BaseException:
        client.close()
        raise
    return client


@contextmanager
def _auth_errors(target: SyncTarget) -> Iterator[None]:
    try:
        yield
    except paramiko.BadHostKeyException as exc:
        raise SyncError(_changed(target, exc.key.fingerprint)) from None
    except paramiko.AuthenticationException:
        raise SyncError(
            f"The backup refused our key for user {target.user}: add the public key "
            f"line to ~{target.user}/.ssh/authorized_keys on the backup."
        ) from None
    except paramiko.SSHException as exc:
        if "not found in known_hosts" in str(exc):  # it now offers another key type
            raise SyncError(_changed(target, "a key of another type")) from None
        raise


def _changed(target: SyncTarget, now: str) -> str:
    return (
        f"The backup's host key has CHANGED: it is now {now}, but you confirmed "
        f"{target.host_key_fingerprint}. Someone may be impersonating the backup, "
        "or it was reinstalled. Nothing was sent. If you know why it changed, "
        "confirm the new key on the backup sync settings page."
    )


@contextmanager
def session(target: SyncTarget) -> Iterator[tuple[Any, Any]]:
    """An SSH client and its SFTP channel, closed on the way out."""
    client = _client(target)
    try:
        with _sftp_errors("opening SFTP", target.remote_path, None):
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(TIMEOUT)
        yield client, sftp
    finally:
        client.close()


# --- SFTP ----------------------------------------------------------------------------


@contextmanager
def _sftp_errors(what: str, path: str, sftp: Any) -> Iterator[None]:
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
        raise SyncError(_ssh_sentence(f"the backup (while {what})", exc)) from None
    except OSError as exc:
        raise SyncError(_refused(what, path, sftp, exc)) from None


def _refused(what: str, path: str, sftp: Any, exc: OSError) -> str:
    if sftp is not None and sftp.get_channel().closed:
        # paramiko says only "Socket is closed" when the link died under a write.
        return _ssh_sentence(f"the backup (while {what})", EOFError())
    # sftp-server reports ENOSPC as a bare "Failure": ask the disk how full it is.
    free = _free_bytes(sftp, posixpath.dirname(path)) if sftp else None
    if exc.errno == errno.ENOSPC or (free is not None and free < 64 * 1024):
        return (
            f"The backup's disk is full ({posixpath.dirname(path)} has "
            f"{free if free is not None else 0} bytes free). Nothing was changed."
        )
    return f"The backup refused {what} ({path}): {exc.strerror or exc}."


def _free_bytes(sftp: Any, directory: str) -> int | None:
    """Bytes free for us in directory (statvfs@openssh.com), None if unknown."""
    try:
        # paramiko has no call for this OpenSSH extension; its request plumbing does.
        kind, msg = sftp._request(
            paramiko.sftp.CMD_EXTENDED, "statvfs@openssh.com", directory
        )
        fields = struct.unpack(">11Q", msg.get_remainder()[:88])
    except (OSError, paramiko.SSHException, EOFError, struct.error):
        return None
    return int(fields[1] * fields[4])  # f_frsize * f_bavail


def _stat(sftp: Any, path: str) -> Any:
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


def _upload(sftp: Any, path: str, temp: str, data: bytes) -> None:
    """Write data to a new temp file beside path, with path's mode and owner."""
    old = _stat(sftp, path)
    with sftp.open(temp, "wbx") as handle:
        # Pipelined: the writes go out back to back; close() collects the replies.
        handle.set_pipelined(True)
        for start in range(0, len(data), CHUNK):
            handle.write(data[start : start + CHUNK])
    _check_written(sftp, handle, temp, len(data))
    mode = stat.S_IMODE(old.st_mode) if old else 0o644
    sftp.chmod(temp, mode)
    if old and (old.st_uid, old.st_gid) != _owner(sftp.stat(temp)):
        sftp.chown(temp, old.st_uid, old.st_gid)


def _check_written(sftp: Any, handle: Any, temp: str, size: int) -> None:
    # paramiko keeps the error of a pipelined write for the file's next call,
    # and close() is not one: look for it, then at the size (ENOSPC lands here).
    saved = getattr(handle, "_saved_exception", None)
    if isinstance(saved, OSError):
        raise saved
    if sftp.stat(temp).st_size != size:
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


def _keep_bak(sftp: Any, path: str) -> None:
    """Make path.bak the current file by a hard link, so path never goes missing."""
    if _stat(sftp, path) is None:
        return
    with suppress(FileNotFoundError):
        sftp.remove(f"{path}.bak")
    sftp._request(
        paramiko.sftp.CMD_EXTENDED, "hardlink@openssh.com", path, f"{path}.bak"
    )


# --- the sync ------------------------------------------------------------------------


def files_for(target: SyncTarget, revision: Revision) -> list[tuple[str, bytes]]:
    """The remote paths and contents that one sync writes."""
    files = [(target.remote_path, revision.text.encode())]
    if target.copy_sysctl:
        path = getattr(settings, "PIRANHA_SYNC_SYSCTL_PATH", SYSCTL_PATH)
        files.append((str(path), SYSCTL_TEXT.encode()))
    return files


def sync_to_backup(revision: Revision, user: str = "") -> SyncResult:
    """Copy revision to the backup, verify it there, then put it in place."""
    target, started = SyncTarget.load(), time.monotonic()
    try:
        with session(target) as (client, sftp):
            _transfer(sftp, files_for(target, revision))
            problem = _reload(client, target.reload_command)
    except SyncError as exc:
        _remember(f"sync of revision {revision.pk} failed: {exc}")
        record(user, "sync failed", f"revision {revision.pk}: {exc}")
        raise
    result = SyncResult(
        revision.pk,
        revision.sha256,
        tuple(p for p, _ in files_for(target, revision)),
        time.monotonic() - started,
        problem,
    )
    _remember(f"in sync (revision {revision.pk})")
    record(user, "sync", f"revision {revision.pk} to {address(target)}: {result}")
    return result


def _transfer(sftp: Any, files: list[tuple[str, bytes]]) -> None:
    """Upload and verify every temp file; only then rename them into place."""
    temps: list[str] = []
    try:
        for path, data in files:
            with _sftp_errors("uploading", path, sftp):
                _clear_leftovers(sftp, path)
                temps.append(_temp_name(path))
                _upload(sftp, path, temps[-1], data)
                _verify(sftp, temps[-1], data)
    except SyncError:
        _remove_quietly(sftp, temps)
        raise
    for (path, _), temp in zip(files, temps, strict=True):
        with _sftp_errors("putting the file in place", path, sftp):
            _keep_bak(sftp, path)
            sftp.posix_rename(temp, path)


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


# --- state ---------------------------------------------------------------------------


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
            with _sftp_errors("reading lvs.cf", target.remote_path, sftp):
                found = _stat(sftp, target.remote_path)
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
