"""The two OpenSSH SFTP extensions the sync uses and paramiko does not offer.

`statvfs@openssh.com` (how much room the backup's disk has, to say "disk full"
when sftp-server reports ENOSPC as a bare "Failure") and `hardlink@openssh.com`
(the `.bak` is a second name of the old file, so the target never goes missing).
paramiko's SFTPClient has no call for either, only its private request
plumbing; so we speak the few SFTP packets they need (draft-ietf-secsh-filexfer
version 3 framing, OpenSSH's PROTOCOL file for the two requests) on an SFTP
channel of our own, through paramiko's public Channel and Message.

The server announces its extensions in its VERSION packet. One it did not
announce is not used, nor any when the server allows one session per
connection (`MaxSessions 1`: no room for our channel): `free_bytes` then
answers None (the disk-full sentence relies on the errno alone) and `hardlink`
False (the caller copies the old file to `.bak` instead, through paramiko's
public SFTP calls).
"""

from __future__ import annotations

import contextlib
import errno
import struct
from types import TracebackType
from typing import Any

import paramiko

FXP_INIT, FXP_VERSION, FXP_STATUS = 1, 2, 101
FXP_EXTENDED, FXP_EXTENDED_REPLY = 200, 201
SFTP_VERSION = 3
STATVFS = "statvfs@openssh.com"
HARDLINK = "hardlink@openssh.com"
# SSH_FX_* status codes as the errno the rest of the sync understands.
_ERRNO = {2: errno.ENOENT, 3: errno.EACCES, 4: errno.EIO, 8: errno.EOPNOTSUPP}
MAX_PACKET = 256 * 1024  # replies here are tiny; anything bigger is a broken server


class OpenSSHExtensions:
    """An SFTP channel beside paramiko's, for statvfs and hardlink (see above)."""

    def __init__(self, transport: Any, timeout: float) -> None:
        self.request_id = 0
        self.supported: dict[str, bytes] = {}
        try:
            self.channel = transport.open_session(timeout=timeout)
        except paramiko.ChannelException:
            self.channel = None  # no second session allowed: no extensions
            return
        self.channel.settimeout(timeout)
        self.channel.invoke_subsystem("sftp")
        self.supported = self._hello()

    def __enter__(self) -> OpenSSHExtensions:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.channel is not None:
            # A connection cut under us must surface as the SyncError already
            # raised, not as a failure to close what is gone.
            with contextlib.suppress(EOFError, OSError, paramiko.SSHException):
                self.channel.close()

    def free_bytes(self, directory: str) -> int | None:
        """Bytes free for us in `directory`; None when the server cannot say."""
        if STATVFS not in self.supported:
            return None
        try:
            reply = self._extended(STATVFS, directory)
            fields = struct.unpack(">11Q", reply.get_remainder()[:88])
        except (OSError, struct.error):
            return None
        return int(fields[1] * fields[4])  # f_frsize * f_bavail

    def hardlink(self, old: str, new: str) -> bool:
        """Give `old` the second name `new`; False when the server cannot."""
        if HARDLINK not in self.supported:
            return False
        self._extended(HARDLINK, old, new)
        return True

    def _hello(self) -> dict[str, bytes]:
        """INIT, then the server's VERSION: the extensions it announces."""
        message = paramiko.Message()
        message.add_int(SFTP_VERSION)
        self._send(FXP_INIT, message)
        kind, reply = self._receive()
        if kind != FXP_VERSION:
            raise OSError(errno.EPROTO, f"SFTP server answered INIT with {kind}")
        reply.get_int()  # the version it speaks; 3 is all we use
        supported: dict[str, bytes] = {}
        while reply.get_remainder():
            name = reply.get_text()
            supported[name] = reply.get_string()
        return supported

    def _extended(self, name: str, *paths: str) -> paramiko.Message:
        """One EXTENDED request; its EXTENDED_REPLY, or OSError for a status."""
        self.request_id += 1
        message = paramiko.Message()
        message.add_int(self.request_id)
        message.add_string(name)
        for path in paths:
            message.add_string(path)
        self._send(FXP_EXTENDED, message)
        kind, reply = self._receive()
        if reply.get_int() != self.request_id:
            raise OSError(errno.EPROTO, "SFTP reply to another request")
        if kind == FXP_STATUS:
            code, text = reply.get_int(), reply.get_text()
            if code != 0:
                raise OSError(_ERRNO.get(code, errno.EIO), text or f"{name} failed")
        elif kind != FXP_EXTENDED_REPLY:
            raise OSError(errno.EPROTO, f"SFTP server answered {name} with {kind}")
        return reply

    def _send(self, kind: int, message: paramiko.Message) -> None:
        body = bytes([kind]) + message.asbytes()
        self.channel.sendall(struct.pack(">I", len(body)) + body)

    def _receive(self) -> tuple[int, paramiko.Message]:
        (length,) = struct.unpack(">I", self._exactly(4))
        if not 1 <= length <= MAX_PACKET:
            raise OSError(errno.EPROTO, f"SFTP packet of {length} bytes")
        body = self._exactly(length)
        return body[0], paramiko.Message(body[1:])

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.channel.recv(size - len(data))
            if not chunk:
                raise EOFError("the SFTP channel closed")
            data += chunk
        return data
