"""nf_tables set attributes, user data and elements, for a full build.

The user data is nft's own bookkeeping (byte order, `typeof`) that `nft
list` reads back, sent byte for byte as nft sends it. A service's map of
slots to real servers is cached by its shape (the shares), with a template
the real servers' addresses are filled into.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from ...lvs import Endpoint, ServiceKey
from .exprs import (
    META_L4PROTO,
    PROTO,
    SET_INTERVAL,
    SET_MAP,
    TYPE_INTEGER,
    TYPE_IPV4,
    TYPE_MARK,
    TYPE_PROTO,
    TYPE_SERVICE,
    addr,
    concat_type,
    port_data,
    slot_key,
    u32,
    value,
)
from .netlink import (
    NLA_F_NESTED,
    attr,
    be32,
    nest,
)


def udata(*items: tuple[int, bytes]) -> bytes:
    return b"".join(bytes((kind, len(data))) + data for kind, data in items)


def typeof_payload(desc: int, field: int) -> bytes:
    """A payload expression in typeof user data: header (ip 12, th 11), field."""
    return udata((0, u32(7)), (1, udata((0, u32(desc)), (1, u32(field)))))


IP_DADDR, TH_DPORT = typeof_payload(12, 12), typeof_payload(11, 2)

ADDR_PORT = udata((0, u32(13)), (1, udata((0, IP_DADDR), (1, TH_DPORT))))


@lru_cache(maxsize=4096)
def numgen_udata(modulus: int, with_port: bool) -> bytes:
    """`typeof numgen inc mod N : ip daddr` (or `: ip daddr . th dport`)."""
    key = udata((0, u32(23)), (1, udata((0, u32(0)), (1, u32(modulus)), (2, u32(0)))))
    data, order = (ADDR_PORT, 0) if with_port else (IP_DADDR, 2)  # 2: big endian
    return udata((0, u32(1)), (1, u32(order)), (3, key), (4, data), (6, u32(0)))


@lru_cache(maxsize=4096)
def verdict_udata(modulus: int) -> bytes:
    """`typeof numgen inc mod N : verdict`."""
    key = udata((0, u32(23)), (1, udata((0, u32(0)), (1, u32(modulus)), (2, u32(0)))))
    verdict = udata((0, u32(1)), (1, b""))
    return udata((0, u32(1)), (1, u32(0)), (3, key), (4, verdict), (6, u32(0)))


CONCAT_UD = udata(
    (0, u32(0)), (1, u32(0)), (3, udata((0, u32(13)), (1, b""))), (6, u32(0))
)

L4_SET_UD = udata(
    (0, u32(1)), (3, udata((0, u32(9)), (1, udata((0, u32(META_L4PROTO))))))
)

ATTR_MAX = 0xFFFF  # an attribute's length is 16 bits

ID = b"@ID@"  # where new_set puts NFTA_SET_ID


def runs(shares: list[tuple[Endpoint, int]]) -> Iterable[tuple[Endpoint, int, int]]:
    """(real server, first slot, last slot) of each run of the modulus."""
    start = 0
    for dest, share in shares:
        yield dest, start, start + share - 1
        start += share


def numbered(bodies: Iterable[bytes]) -> list[bytes]:
    """Set elements as listed in NFTA_SET_ELEM_LIST_ELEMENTS: numbered from 1."""
    return [nest(index, body) for index, body in enumerate(bodies, 1)]


_SLOT = struct.Struct("=HHHHHH4sHHHH")  # a slot and a value of 4 or 8 bytes

_END = struct.Struct("=HHHH4sHHHH4s")  # an interval's end: flags, key

INTERVAL_END_FLAG = (1).to_bytes(4, "big")


def slot_head(index: int, key: bytes, size: int) -> bytes:
    """Element `index`: slot key -> a value of `size` bytes, which follows."""
    return _SLOT.pack(
        24 + size,
        index | NLA_F_NESTED,
        12,
        0x8001,
        8,
        1,
        key,
        8 + size,
        0x8002,
        4 + size,
        1,
    )


def end_item(index: int, key: bytes) -> bytes:
    """Element `index`: the end of an interval (the first slot after it)."""
    return _END.pack(
        24, index | NLA_F_NESTED, 8, 3, INTERVAL_END_FLAG, 12, 0x8001, 8, 1, key
    )


class MapShape(NamedTuple):
    """What a service's map looks like apart from its name and real servers."""

    runs: tuple[tuple[int, int], ...]  # each real server's first and last slot
    modulus: int
    interval: bool
    set_head: bytes  # NEWSET attributes after the name, before NFTA_SET_ID
    set_tail: bytes  # and after it
    elements: bytes | None  # NFTA_SET_ELEM_LIST_ELEMENTS, a %b for each value


@lru_cache(maxsize=4096)
def map_shape(shares: tuple[int, ...], with_port: bool) -> MapShape:
    """The map of real servers holding `shares` slots each (cached: a large
    table repeats a handful of weight patterns)."""
    modulus = sum(shares)
    interval = modulus > len(shares)
    bounds, first = [], 0
    for share in shares:
        bounds.append((first, first + share - 1))
        first += share
    set_attrs = (
        be32(3, SET_MAP | (SET_INTERVAL if interval else 0))
        + be32(4, TYPE_INTEGER)
        + be32(5, 4)
        + be32(6, concat_type(TYPE_IPV4, TYPE_SERVICE) if with_port else TYPE_IPV4)
        + be32(7, 8 if with_port else 4)
        + ID
        + attr(13, numgen_udata(modulus, with_port))
    )
    head, _, tail = set_attrs.partition(ID)
    shape = MapShape(tuple(bounds), modulus, interval, head, tail, None)
    size = 8 if with_port else 4
    heads = list(slot_heads(shape, size))
    total = 4 + sum(len(head) for head, _ in heads) + size * len(shares)
    if total > ATTR_MAX:
        return shape  # split over several messages by `elements`
    escaped = (
        head.replace(b"%", b"%%") + (b"%b" if value else b"") for head, value in heads
    )
    header = struct.pack("=HH", total, 3 | NLA_F_NESTED).replace(b"%", b"%%")
    return shape._replace(elements=header + b"".join(escaped))


def slot_heads(shape: MapShape, size: int) -> Iterable[tuple[bytes, bool]]:
    """Each element of the map but the values: a slot's head, whose value of
    `size` bytes follows (True), or an interval's end, complete (False)."""
    index = 0
    for first, last in shape.runs:
        index += 1
        yield slot_head(index, slot_key(first, shape.interval), size), True
        if shape.interval:
            index += 1
            yield end_item(index, slot_key(last + 1, shape.interval)), False


def slot_items(shape: MapShape, values: tuple[bytes, ...]) -> Iterable[bytes]:
    """The map's numbered elements with the real servers' values."""
    remaining = iter(values)
    for head, takes_value in slot_heads(shape, len(values[0])):
        yield head + next(remaining) if takes_value else head


def element(key: bytes, data: bytes = b"") -> bytes:
    """An element's attributes: its key, and its data (a value or verdict)."""
    return value(key) + (nest(2, data) if data else b"")


def interval_end(key: bytes) -> bytes:
    return be32(3, 1) + value(key)


HOOKS = {  # chain: (type, hook number, priority)
    "prerouting": ("nat", 0, -100),
    "output": ("nat", 3, -100),
    "forward": ("filter", 2, 0),
}

DISPATCH = {  # map: (key type, key length, user data)
    "services": (concat_type(TYPE_PROTO, TYPE_IPV4, TYPE_SERVICE), 12, CONCAT_UD),
    "marks": (TYPE_MARK, 4, udata((0, u32(1)), (1, u32(0)), (6, u32(0)))),
    "refresh": (
        concat_type(TYPE_PROTO, TYPE_IPV4, TYPE_IPV4, TYPE_SERVICE),
        16,
        CONCAT_UD,
    ),
    "refresh_marks": (concat_type(TYPE_MARK, TYPE_IPV4, TYPE_SERVICE), 12, CONCAT_UD),
}


def dispatch_key(key: ServiceKey) -> tuple[str, bytes]:
    if key.protocol == "fwm":
        return "marks", u32(key.port)
    proto = bytes((PROTO[key.protocol], 0, 0, 0))
    return "services", proto + addr(key.address) + port_data(key.port) + b"\0\0"


def refresh_key(key: ServiceKey, dest: Endpoint) -> tuple[str, bytes]:
    """The refresh map a persistent real server is found in, and its key (a
    real server on port 0 is seen on the VIP's port, which DNAT kept)."""
    if key.protocol == "fwm":
        where = addr(dest[0]) + port_data(dest[1]) + b"\0\0"
        return "refresh_marks", u32(key.port) + where
    where = addr(dest[0]) + port_data(dest[1] or key.port) + b"\0\0"
    proto = bytes((PROTO[key.protocol], 0, 0, 0))
    return "refresh", proto + addr(key.address) + where
