"""nf_tables netlink batches: read nft's own, split ours, compare the two.

nft prints every netlink message it sends with ``nft --debug=mnl``: libmnl's
printout of the header, the 4-byte nfgenmsg and each attribute's ``|len|flags|
type|`` followed by its data, 4 bytes a line, padding included. `parse_mnl`
rebuilds the exact bytes from it; `split_messages` reads the same `Message`s
from a raw stream (what our own encoder produces); `normalize` and `diff`
compare two batches, naming attributes after linux/netfilter/nf_tables.h.

Facts about nft 1.0.6's batches that shape this module:
- ``nft -c`` prints the batch but never sends BATCH_END (the kernel aborts it),
  and it checks against the caller's own ruleset; so `nft_batch` runs nft for
  real in a fresh namespace, which it always deletes.
- Before the batch nft sends its cache requests (GETGEN, GETTABLE, ...); the
  printout shows no kernel replies, and `parse_mnl` would skip any (replies
  never carry NLM_F_REQUEST).
- The printout shows only four flag bits (REQUEST, MULTI, ACK, ECHO) and so
  loses NLM_F_CREATE/APPEND (NEWCHAIN, NEWSET, NEWSETELEM, NEWOBJ carry
  CREATE; NEWRULE CREATE|APPEND; NEWTABLE and DELTABLE neither); no message
  asks for an ACK. `nft_batch_exact` reads the raw bytes with strace instead.
- libnftnl numbers a set's elements 1, 2, 3... instead of NFTA_LIST_ELEM,
  sends NFTA_OBJREF_IMM_NAME without its NUL, and fills NFTA_SET_USERDATA
  and NFTA_RULE_USERDATA with what `nft list` needs (byte order, typeof,
  comments): `normalize` leaves both alone.
- Netlink does not say which attributes nest except by NLA_F_NESTED, which an
  encoder may leave off (nft 1.0.6 sets it everywhere); `decode` nests by its
  table of nf_tables attributes (`_MESSAGES`) and trusts the flag elsewhere.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.netns.topology import netns_unavailable, run
from tests.pulse.nft_names import _MESSAGES, Policy, Select, _be32

NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 0x1, 0x2, 0x4, 0x8
MNL_FLAGS = 0xF  # the flag bits --debug=mnl shows (R, M, A, E)
ALL_FLAGS = 0xFFFF
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
NLA_TYPE_MASK = 0x3FFF
NFNL_SUBSYS_NFTABLES = 10
BATCH_BEGIN, BATCH_END = 0x10, 0x11  # NFNL_MSG_BATCH_*
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr, host byte order
_NLA = struct.Struct("=HH")
_MSG_NAMES = (
    "NEWTABLE GETTABLE DELTABLE NEWCHAIN GETCHAIN DELCHAIN NEWRULE GETRULE DELRULE "
    "NEWSET GETSET DELSET NEWSETELEM GETSETELEM DELSETELEM NEWGEN GETGEN TRACE "
    "NEWOBJ GETOBJ DELOBJ GETOBJ_RESET NEWFLOWTABLE GETFLOWTABLE DELFLOWTABLE"
).split()


class NftError(RuntimeError):
    """nft rejected a script; the message carries nft's stderr."""


def _align(length: int) -> int:
    return (length + 3) & ~3


@dataclass(frozen=True)
class Message:
    """One netlink message of subsystem nfnetlink: header, nfgenmsg, attributes."""

    type: int  # the full nlmsg_type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_*
    flags: int
    seq: int
    family: int
    res_id: int
    body: bytes  # the attributes after the nfgenmsg, padding included
    version: int = 0
    port_id: int = 0

    @property
    def name(self) -> str:
        return type_name(self.type)

    def to_bytes(self) -> bytes:
        """The message as sent, aligned to 4 bytes so messages concatenate."""
        length = _HEADER.size + 4 + len(self.body)
        head = _HEADER.pack(length, self.type, self.flags, self.seq, self.port_id)
        genmsg = struct.pack(">BBH", self.family, self.version, self.res_id)
        return head + genmsg + self.body + bytes(_align(length) - length)


def type_name(msg_type: int) -> str:
    """NEWSET, BATCH_BEGIN, ... or the number in hex."""
    names = {BATCH_BEGIN: "BATCH_BEGIN", BATCH_END: "BATCH_END", 2: "ERROR", 3: "DONE"}
    if msg_type >> 8 == NFNL_SUBSYS_NFTABLES and (msg_type & 0xFF) < len(_MSG_NAMES):
        return _MSG_NAMES[msg_type & 0xFF]
    return names.get(msg_type, f"0x{msg_type:04x}")


def _message(msg_type: int, flags: int, seq: int, pid: int, payload: bytes) -> Message:
    if len(payload) < 4:
        raise ValueError(f"{type_name(msg_type)} message {seq}: no nfgenmsg header")
    family, version, res_id = struct.unpack(">BBH", payload[:4])
    return Message(msg_type, flags, seq, family, res_id, payload[4:], version, pid)


def split_messages(data: bytes) -> list[Message]:
    """The messages of a raw netlink stream (nlmsghdr-framed, 4-byte aligned)."""
    messages, offset = [], 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            raise ValueError(f"{len(data) - offset} stray bytes at offset {offset}")
        length, msg_type, flags, seq, pid = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size or offset + length > len(data):
            raise ValueError(f"bad nlmsg_len {length} at offset {offset}")
        payload = data[offset + _HEADER.size : offset + length]
        messages.append(_message(msg_type, flags, seq, pid, payload))
        offset += _align(length)
    return messages


# libmnl's printout, one pattern per line kind (after the colour escapes go).
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LINES = {
    "length": re.compile(r"\|  (\d{10})  \|\t\| message length \|"),
    "type": re.compile(r"\| (\d{5}) \| ([R-])([M-])([A-])([E-]) \|\t\|  type \| flags"),
    "seq": re.compile(r"\|  (\d{10})  \|\t\| sequence number\|"),
    "pid": re.compile(r"\|  (\d{10})  \|\t\|     port ID    \|"),
    "word": re.compile(r"\| ([0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2})  \|\t\|"),
    "attr": re.compile(r"\|(\d{5})\|([N-])([B-])\|(\d{5})\|\t\|len \|flags\| type\|"),
}


def _tokens(text: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    for line in _ANSI.sub("", text).splitlines():
        for kind, pattern in _LINES.items():
            if match := pattern.match(line):
                yield kind, match.groups()
                break


def _payload(groups: list[tuple[str, tuple[str, ...]]]) -> bytes:
    data = bytearray()
    for kind, values in groups:
        if kind == "word":
            data += bytes.fromhex(values[0])
        elif kind == "attr":
            nested = NLA_F_NESTED if values[1] == "N" else 0
            order = NLA_F_NET_BYTEORDER if values[2] == "B" else 0
            data += _NLA.pack(int(values[0]), int(values[3]) | nested | order)
        else:
            raise ValueError(f"unexpected {kind} line inside a message")
    return bytes(data)


def parse_mnl(text: str) -> list[Message]:
    """The messages nft sent, in order, from its ``--debug=mnl`` output.

    Bodies are byte-exact; flags hold only the bits in MNL_FLAGS.
    """
    tokens = list(_tokens(text))
    starts = [i for i, (kind, _) in enumerate(tokens) if kind == "length"]
    messages = []
    for start, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
        head = tokens[start : start + 4]
        if [kind for kind, _ in head] != ["length", "type", "seq", "pid"]:
            raise ValueError(f"a message header is cut short: {head}")
        (length,), (number, *bits), (seq,), (pid,) = (values for _, values in head)
        msg_type = int(number)
        flags = sum(1 << i for i, bit in enumerate(bits) if bit != "-")
        payload = _payload(tokens[start + 4 : end])
        if len(payload) + 16 != int(length):
            raise ValueError(
                f"{type_name(msg_type)} seq {int(seq)}: the printout holds "
                f"{len(payload) + 16} of {int(length)} bytes (libmnl prints no "
                "attribute of type 0)"
            )
        if flags & NLM_F_REQUEST:  # the kernel's replies never carry it
            messages.append(_message(msg_type, flags, int(seq), int(pid), payload))
    return messages


@dataclass(frozen=True)
class Attr:
    """One attribute: a leaf with data, or nested with children."""

    type: int  # the flag bits masked off
    flags: int  # NLA_F_NESTED and NLA_F_NET_BYTEORDER as sent
    data: bytes = b""  # a leaf's payload, without padding
    children: tuple[Attr, ...] | None = None
    name: str = field(default="", compare=False)


def _split(data: bytes) -> list[tuple[int, bytes]] | None:
    """(nla_type, payload) of each attribute, or None unless data is exactly that."""
    found, offset = [], 0
    while offset < len(data):
        if len(data) - offset < _NLA.size:
            return None
        length, nla_type = _NLA.unpack_from(data, offset)
        if length < _NLA.size or offset + length > len(data):
            return None
        found.append((nla_type, data[offset + _NLA.size : offset + length]))
        offset += _align(length)
    return found if offset == len(data) else None


def _decode(data: bytes, policy: Policy) -> tuple[Attr, ...] | None:
    raw = _split(data)
    return None if raw is None else tuple(_attr(*one, policy, raw) for one in raw)


def _attr(
    nla_type: int, payload: bytes, policy: Policy, siblings: list[tuple[int, bytes]]
) -> Attr:
    number, flags = nla_type & NLA_TYPE_MASK, nla_type & ~NLA_TYPE_MASK
    known = policy.get(number, policy.get(0))
    inner = known.children if known else None
    if isinstance(inner, Select):
        chosen = inner.sibling
        key = next((p for t, p in siblings if t & NLA_TYPE_MASK == chosen), b"")
        inner = inner.policies.get(key, {})
    if inner is None and flags & NLA_F_NESTED:
        inner = {}
    children = None if inner is None else _decode(payload, inner)
    name = known.name if known else f"attr {number}"
    if children is None:  # a leaf, or a nested one that does not parse
        return Attr(number, flags, payload, None, name)
    return Attr(number, flags, b"", children, name)


def decode(body: bytes, msg_type: int | None = None) -> list[Attr]:
    """The attribute tree of a message body, named and nested by its type.

    Which attributes nest comes from the table of nf_tables attributes for the
    message type (nft leaves NLA_F_NESTED off some), else from NLA_F_NESTED.
    """
    policy: Policy = {}
    if msg_type is not None and msg_type >> 8 == NFNL_SUBSYS_NFTABLES:
        policy = _MESSAGES.get(msg_type & 0xFF, {})
    attrs = _decode(body, policy)
    if attrs is None:
        raise ValueError(f"not a sequence of netlink attributes: {body.hex(' ')}")
    return list(attrs)


def encode(attrs: Iterable[Attr]) -> bytes:
    """The bytes of an attribute tree, each attribute padded to 4 bytes."""
    out = bytearray()
    for attr in attrs:
        payload = attr.data if attr.children is None else encode(attr.children)
        out += _NLA.pack(_NLA.size + len(payload), attr.type | attr.flags) + payload
        out += bytes(_align(len(payload)) - len(payload))
    return bytes(out)


def rewrite(attrs: Iterable[Attr], change: Callable[[Attr], Attr]) -> list[Attr]:
    """The tree with `change` applied to every attribute, children first."""
    done = []
    for attr in attrs:
        if attr.children is not None:
            attr = replace(attr, children=tuple(rewrite(attr.children, change)))
        done.append(change(attr))
    return done


def _printable(data: bytes) -> bool:
    return data.isascii() and data.decode().isprintable()


def _text(data: bytes) -> str | None:
    if len(data) > 1 and data.endswith(b"\0") and _printable(data[:-1]):
        return f'"{data[:-1].decode()}"'
    if len(data) > 2 and len(data) not in (4, 8) and _printable(data):
        return f'"{data.decode()}" (no NUL)'  # nft sends some names so
    return None


def _show(data: bytes) -> str:
    if text := _text(data):
        return text
    if len(data) in (1, 2, 4, 8):
        return f"{data.hex(' ')} (= {int.from_bytes(data, 'big')})"
    return data.hex(" ")


def _udata(data: bytes) -> str | None:
    """nftnl's userdata as [type] value items (1-byte type and length), or None."""
    items, offset = [], 0
    while offset + 2 <= len(data):
        kind, length = data[offset], data[offset + 1]
        value = data[offset + 2 : offset + 2 + length]
        items.append(f"[{kind}] {_text(value) or value.hex(' ')}")  # host order
        offset += 2 + length
    return " ".join(items) if offset == len(data) else None


def _lines(attrs: Iterable[Attr], depth: int = 1) -> Iterator[str]:
    for attr in attrs:
        bits = "N" * bool(attr.flags & NLA_F_NESTED)
        bits += "B" * bool(attr.flags & NLA_F_NET_BYTEORDER)
        head = f"{'  ' * depth}{attr.name} ({attr.type}){' ' + bits if bits else ''}"
        udata = _udata(attr.data) if attr.name.endswith("USERDATA") else None
        if attr.children is None:
            yield f"{head}: {udata or _show(attr.data)}"
        else:
            yield head
            yield from _lines(attr.children, depth + 1)


def render(message: Message) -> str:
    """A message as readable text: its header, then its attribute tree."""
    head = (
        f"{message.name} family {message.family} res_id {message.res_id} "
        f"flags 0x{message.flags:04x} seq {message.seq}"
    )
    return "\n".join([head, *_lines(decode(message.body, message.type))])


# Ids nft numbers itself, each kind its own namespace, and the anonymous set
# names whose %d the kernel fills in.
_IDS = {
    **dict.fromkeys(
        "NFTA_SET_ID NFTA_SET_ELEM_LIST_SET_ID NFTA_LOOKUP_SET_ID NFTA_DYNSET_SET_ID "
        "NFTA_OBJREF_SET_ID NFTA_NG_SET_ID NFTA_HASH_SET_ID".split(),
        "set",
    ),
    **dict.fromkeys("NFTA_RULE_ID NFTA_RULE_POSITION_ID".split(), "rule"),
    **dict.fromkeys(
        "NFTA_CHAIN_ID NFTA_RULE_CHAIN_ID NFTA_VERDICT_CHAIN_ID".split(), "chain"
    ),
}
_ANONYMOUS = re.compile(rb"__(set|map)(%d|\d+)\0")


def normalize(
    messages: Iterable[Message], flags_mask: int = MNL_FLAGS
) -> list[Message]:
    """The messages with what two encoders may choose differently masked.

    Sequence numbers become 0; set, rule and chain ids are renumbered in the
    order they first appear (so an id must stay consistent to compare equal);
    ``__set7`` becomes ``__set%d``; flags keep only ``flags_mask`` (the default
    keeps the bits --debug=mnl shows; pass ALL_FLAGS to compare exact batches).
    Userdata is compared as is: it holds the typeof and byte order `nft list`
    needs. Bodies are re-encoded from the tree, so compare raw bodies too if
    padding bytes matter.
    """
    ids: dict[str, dict[bytes, int]] = {}

    def mask(attr: Attr) -> Attr:
        kind = _IDS.get(attr.name)
        if kind and len(attr.data) == 4:  # a malformed id stays visible
            seen = ids.setdefault(kind, {})
            return replace(attr, data=_be32(seen.setdefault(attr.data, len(seen) + 1)))
        if _ANONYMOUS.fullmatch(attr.data):
            return replace(attr, data=_ANONYMOUS.sub(rb"__\1%d\0", attr.data))
        return attr

    return [
        replace(
            message,
            flags=message.flags & flags_mask,
            seq=0,
            body=encode(rewrite(decode(message.body, message.type), mask)),
        )
        for message in messages
    ]


def diff(
    ours: Iterable[Message], nfts: Iterable[Message], flags_mask: int = MNL_FLAGS
) -> str:
    """Empty when the normalized batches are equal, else their first difference.

    The differing message shows as a unified diff of the two decoded trees
    (``-`` ours, ``+`` nft's), with full context.
    """
    mine, theirs = normalize(ours, flags_mask), normalize(nfts, flags_mask)
    if mine == theirs:
        return ""
    pairs = zip(mine, theirs, strict=False)
    index = next(
        (i for i, (a, b) in enumerate(pairs) if a != b), min(len(mine), len(theirs))
    )
    lines = [
        f"ours has {len(mine)} messages, nft {len(theirs)}; message {index} differs"
    ]
    if len(mine) != len(theirs):
        lines.append("ours: " + " ".join(m.name for m in mine))
        lines.append("nft:  " + " ".join(m.name for m in theirs))
    left, right = (
        render(batch[index]).splitlines() if index < len(batch) else []
        for batch in (mine, theirs)
    )
    lines += difflib.unified_diff(left, right, "ours", "nft", n=10**6, lineterm="")
    return "\n".join(lines)


def batch(messages: list[Message]) -> list[Message]:
    """The batch among the messages: BATCH_BEGIN through BATCH_END."""
    types = [message.type for message in messages]
    if BATCH_BEGIN not in types or BATCH_END not in types:
        raise ValueError(f"no whole batch in {[m.name for m in messages]}")
    return messages[types.index(BATCH_BEGIN) : types.index(BATCH_END) + 1]


def nft_unavailable(strace: bool = False) -> str | None:
    """Why nft's batches cannot be read here, or None when they can."""
    for program in ["nft", "strace"] if strace else ["nft"]:
        if shutil.which(program) is None:
            return f"{program} is not installed"
    return netns_unavailable()


_sequence = itertools.count(1)


def _in_namespace(argv: list[str], script: str) -> str:
    """Run nft (or strace nft) with the script on stdin in a namespace of its own."""
    name = f"pw{os.getpid()}-{next(_sequence)}-mnl"  # swept as stale if we die
    run(["ip", "netns", "add", name])
    try:
        done = subprocess.run(
            ["ip", "netns", "exec", name, *argv],
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        run(["ip", "netns", "delete", name], check=False)
    if done.returncode != 0:
        raise NftError(
            f"nft rejected the script (exit {done.returncode}):\n{done.stderr}"
        )
    return done.stdout


def nft_batch(script: str, nft: str = "nft") -> list[Message]:
    """The batch nft sends for the script, from ``--debug=mnl`` (flags: MNL_FLAGS)."""
    return batch(parse_mnl(_in_namespace([nft, "--debug=mnl", "-f", "-"], script)))


def nft_batch_exact(script: str, nft: str = "nft") -> list[Message]:
    """The batch nft sends for the script, byte for byte, read by strace."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace"
        argv = ["strace", "-qq", "-o", str(trace), "-e", "trace=sendmsg"]
        _in_namespace([*argv, "-e", "write=all", nft, "-f", "-"], script)
        dump = trace.read_text()
    # strace's hex dump lines: " | 00010  xx xx ... xx  xx ... xx  ascii |"
    words = [
        line[10:59].split() for line in dump.splitlines() if line.startswith(" | ")
    ]
    return batch(split_messages(bytes.fromhex("".join(itertools.chain(*words)))))
