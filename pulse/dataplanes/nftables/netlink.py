"""nf_tables batches over netlink: framing, sending, and the kernel's answer.

A batch is what `nft -f` sends: BATCH_BEGIN, the messages, BATCH_END, one
atomic transaction the kernel applies whole or not at all. The kernel works
through a batch inside the `sendmsg` call and queues an error message for
every message it refused (no acknowledgement is asked for the others, as nft
does not ask), so after sending, the socket holds every answer there is.

Attributes are type-length-value records aligned to 4 bytes; the numbers are
those of the kernel's uapi header linux/netfilter/nf_tables.h.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterable

NETLINK_NETFILTER = 12
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33
SOL_NETLINK = 270
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_CREATE, NLM_F_APPEND = 0x400, 0x800
NLA_F_NESTED = 0x8000
NLMSGERR_ATTR_MSG = 1
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11
NFPROTO_IPV4 = 2

# message types: NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*
NEWTABLE, DELTABLE, NEWCHAIN, NEWRULE = 0xA00, 0xA02, 0xA03, 0xA06
NEWSET, NEWSETELEM, NEWOBJ = 0xA09, 0xA0C, 0xA12
NAMES = {
    NEWTABLE: "add table",
    DELTABLE: "delete table",
    NEWCHAIN: "add chain",
    NEWRULE: "add rule",
    NEWSET: "add set",
    NEWSETELEM: "add element",
    NEWOBJ: "add counter",
}

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, port id
_NFGEN = struct.Struct("=BBH")  # nfgenmsg: family, version, resource id (BE)
_ATTR = struct.Struct("=HH")
SOCKET_BUFFER = 64 << 20  # a 1,000-service build is ~1.5 MB; one sendmsg takes all


_PAD = (b"", b"\0\0\0", b"\0\0", b"\0")
_pack_header = _ATTR.pack


def attr(kind: int, payload: bytes) -> bytes:
    """One attribute, padded to 4 bytes."""
    size = 4 + len(payload)
    return _pack_header(size, kind) + payload + _PAD[size & 3]


def nest(kind: int, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return _pack_header(4 + len(payload), kind | NLA_F_NESTED) + payload


_NUL_PAD = (b"\0\0\0\0", b"\0\0\0", b"\0\0", b"\0")  # NUL and padding, by length % 4


def name_attr(kind: int, raw: bytes) -> bytes:
    """A NUL-terminated string attribute from bytes (the hot path of a build)."""
    return _pack_header(5 + len(raw), kind) + raw + _NUL_PAD[len(raw) & 3]


def strz(kind: int, text: str) -> bytes:
    return name_attr(kind, text.encode())


def be32(kind: int, value: int) -> bytes:
    return _pack_header(8, kind) + value.to_bytes(4, "big")


def be64(kind: int, value: int) -> bytes:
    return attr(kind, value.to_bytes(8, "big"))


class KernelRefused(Exception):
    """The kernel refused the batch: nothing of it took effect."""

    def __init__(self, code: int, what: str, detail: str = "") -> None:
        self.code, self.what, self.detail = code, what, detail
        reason = os.strerror(code) + (f" ({detail})" if detail else "")
        super().__init__(f"{what}: {reason}")


class Batch:
    """The messages of one transaction, with what each one does (for errors)."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, int, bytes]] = []
        self.labels: list[str] = []

    def add(self, kind: int, flags: int, body: bytes, label: str = "") -> None:
        self.messages.append((kind, flags, body))
        self.labels.append(label)

    def encode(self, first_seq: int = 1, ack_last: bool = False) -> bytes:
        """BATCH_BEGIN, the messages numbered from first_seq + 1, BATCH_END;
        with ack_last, the last message asks to be acknowledged."""
        ip = _NFGEN.pack(NFPROTO_IPV4, 0, 0)
        chunks = [_frame(NFNL_MSG_BATCH_BEGIN, 0, first_seq, _subsys())]
        last = first_seq + len(self.messages)
        for seq, (kind, flags, body) in enumerate(self.messages, first_seq + 1):
            ack = NLM_F_ACK if ack_last and seq == last else 0
            chunks.append(_frame(kind, flags | ack, seq, ip + body))
        chunks.append(_frame(NFNL_MSG_BATCH_END, 0, last + 1, _subsys()))
        return b"".join(chunks)

    def describe(self, seq: int, first_seq: int) -> str:
        index = seq - first_seq - 1
        if 0 <= index < len(self.messages):
            kind = self.messages[index][0]
            label = self.labels[index]
            return f"{NAMES.get(kind, hex(kind))} {label}".strip()
        return "the batch"


def _subsys() -> bytes:
    return _NFGEN.pack(socket.AF_UNSPEC, 0, socket.htons(NFNL_SUBSYS_NFTABLES))


def _frame(kind: int, flags: int, seq: int, payload: bytes) -> bytes:
    return (
        _HEADER.pack(16 + len(payload), kind, flags | NLM_F_REQUEST, seq, 0) + payload
    )


class Channel:
    """A netlink socket to nf_tables, kept open between commits.

    Closing a socket makes the kernel first finish freeing what earlier
    transactions replaced (a thousand-service table takes tens of
    milliseconds); a socket kept open leaves that to the kernel's worker.
    Not thread-safe: one commit at a time.
    """

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._seq = int.from_bytes(os.urandom(3), "big")

    def commit(self, batch: Batch) -> None:
        """Send the batch in one sendmsg; KernelRefused with the first refusal.

        The last message asks for an acknowledgement: the kernel sends it
        only if it worked through the whole batch, so a batch it dropped (it
        does so silently when it cannot find BATCH_END) does not pass for
        applied.
        """
        if not batch.messages:
            return
        if self._seq + len(batch.messages) + 2 > 0xFFFFFFFF:
            self._seq = 0  # sequence numbers are 32 bits: start over
        first_seq = self._seq + 1
        self._seq += len(batch.messages) + 2
        data = batch.encode(first_seq, ack_last=True)
        sock = self._socket(len(data))
        list(_answers(sock))  # anything left from an earlier batch
        try:
            sock.sendall(data)
        except OSError:
            self.close()  # a socket in an unknown state is not reused
            raise
        answers = list(_answers(sock))
        refusals = [answer for answer in answers if answer[0]]
        if refusals:
            code, seq, detail = refusals[0]
            raise KernelRefused(code, batch.describe(seq, first_seq), detail)
        if (0, first_seq + len(batch.messages), "") not in answers:
            raise KernelRefused(errno.EIO, "the batch", "the kernel did not confirm it")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _socket(self, size: int) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
            try:
                for option in (NETLINK_CAP_ACK, NETLINK_EXT_ACK):
                    sock.setsockopt(SOL_NETLINK, option, 1)
                sock.bind((0, 0))
            except OSError:
                sock.close()
                raise
            self._sock = sock
        _size_buffers(self._sock, size)
        return self._sock


def commit(batch: Batch) -> None:
    """Commit one batch on a socket of its own (closed afterwards)."""
    channel = Channel()
    try:
        channel.commit(batch)
    finally:
        channel.close()


def _size_buffers(sock: socket.socket, size: int) -> None:
    """Room for the whole batch in one sendmsg, and for the answers."""
    buffer = min(max(size + 4096, 1 << 20), SOCKET_BUFFER)
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= 2 * buffer:
        return  # the kernel reports twice what was set
    for force, plain in (
        (SO_SNDBUFFORCE, socket.SO_SNDBUF),
        (SO_RCVBUFFORCE, socket.SO_RCVBUF),
    ):
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, buffer)
        except PermissionError:  # without CAP_NET_ADMIN: as much as allowed
            sock.setsockopt(socket.SOL_SOCKET, plain, buffer)


def _answers(sock: socket.socket) -> Iterable[tuple[int, int, str]]:
    """(errno, seq, the kernel's words) of each refusal and acknowledgement
    (errno 0) the kernel queued for us."""
    while True:
        try:
            data = sock.recv(1 << 16, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError as exc:  # ENOBUFS: answers were lost; the batch failed
            yield exc.errno or errno.EIO, 0, "answers lost"
            return
        offset = 0
        while offset + 16 <= len(data):
            size, kind, _, _, _ = _HEADER.unpack_from(data, offset)
            if kind == NLMSG_ERROR and size >= 36:
                (code,) = struct.unpack_from("=i", data, offset + 16)
                seq = _HEADER.unpack_from(data, offset + 20)[3]
                detail = _ext_message(data[offset + 36 : offset + size]) if code else ""
                yield -code, seq, detail
            offset += (size + 3) & ~3 if size else len(data)


def _ext_message(attrs: bytes) -> str:
    """NLMSGERR_ATTR_MSG from the extended acknowledgement, if any."""
    offset = 0
    while offset + 4 <= len(attrs):
        size, kind = _ATTR.unpack_from(attrs, offset)
        if size < 4:
            break
        if kind & ~NLA_F_NESTED == NLMSGERR_ATTR_MSG:
            return (
                attrs[offset + 4 : offset + size].rstrip(b"\0").decode(errors="replace")
            )
        offset += (size + 3) & ~3
    return ""
