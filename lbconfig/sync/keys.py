"""Our SSH key (ed25519) and the backup's host key, which the admin confirms."""

from __future__ import annotations

import base64
import binascii
import io
import socket
from dataclasses import dataclass
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lbconfig.audit import record
from lbconfig.models import Redundancy, SyncTarget
from lbconfig.sync.errors import SyncError


@dataclass(frozen=True)
class HostKey:
    """A server's host key as an OpenSSH line, and its SHA256 fingerprint."""

    line: str
    fingerprint: str


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


def private_key(target: SyncTarget) -> Any:
    """Our stored key, loaded; SyncError when there is none or it is unreadable."""
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


def address(target: SyncTarget) -> str:
    """The backup's address: the sync setting, else the REDUNDANCY panel's."""
    return target.host or (Redundancy.load().backup or "")
