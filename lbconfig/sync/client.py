"""Connecting to the backup: network failures in plain words, only the confirmed
host key, our key only (no agent, no ~/.ssh)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paramiko

from lbconfig.models import SyncTarget
from lbconfig.sync import errors
from lbconfig.sync.errors import SyncError, ssh_sentence
from lbconfig.sync.keys import HostKey, address, parse_host_key, private_key


@contextmanager
def reach(host: str, port: int) -> Iterator[None]:
    """Turn network failures into sentences that name the backup."""
    where = f"{host}:{port}"
    if not host:
        raise SyncError("No backup address: set it on the REDUNDANCY page.")
    try:
        yield
    except TimeoutError:
        raise SyncError(
            f"Timed out: {where} did not answer within {errors.TIMEOUT:g} s."
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
        raise SyncError(ssh_sentence(where, exc)) from None


def fetch_host_key(target: SyncTarget) -> HostKey:
    """The host key the backup offers now, for the admin to confirm (first contact)."""
    host, timeout = address(target), errors.TIMEOUT
    with reach(host, target.port):
        sock = socket.create_connection((host, target.port), timeout=timeout)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = timeout
        try:
            transport.start_client(timeout=timeout)
            key = transport.get_remote_server_key()
        finally:
            transport.close()
    return HostKey(f"{key.get_name()} {key.get_base64()}", key.fingerprint)


def connect(target: SyncTarget) -> Any:
    """A connected, authenticated client that trusts only the confirmed host key."""
    if not target.host_key:
        raise SyncError(
            "The backup's host key is not confirmed yet: check its "
            "fingerprint on the backup sync settings page and confirm it."
        )
    host, key = address(target), parse_host_key(target.host_key)
    pkey, timeout = private_key(target), errors.TIMEOUT
    client = paramiko.SSHClient()
    name = host if target.port == 22 else f"[{host}]:{target.port}"
    client.get_host_keys().add(name, key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        with reach(host, target.port), _auth_errors(target):
            client.connect(
                host,
                target.port,
                target.user,
                pkey=pkey,
                look_for_keys=False,
                allow_agent=False,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
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
