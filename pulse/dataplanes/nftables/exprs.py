"""nf_tables expressions as netlink attributes, for the rules of a full build.

Each function returns the bytes of one expression (or a few) exactly as nft
encodes the same rule text; constant ones are cached. The numbers are the
kernel's (linux/netfilter/nf_tables.h).
"""

from __future__ import annotations

import socket
import struct
from functools import lru_cache

from ...lvs import DataplaneError, Endpoint
from .netlink import (
    attr,
    be32,
    name_attr,
    nest,
    strz,
)
from .ruleset import (
    HASH_SEED,
    _ipv4,
)

# nf_tables numbers (linux/netfilter/nf_tables.h)
SET_ANONYMOUS, SET_CONSTANT, SET_INTERVAL, SET_MAP = 0x1, 0x2, 0x4, 0x8

SET_TIMEOUT, SET_EVAL = 0x10, 0x20

VERDICT_DATA = 0xFFFFFF00

GOTO = 0xFFFFFFFC

TYPE_INTEGER, TYPE_IPV4, TYPE_PROTO, TYPE_SERVICE, TYPE_MARK = 4, 7, 12, 13, 19

META_MARK, META_L4PROTO = 3, 16

CT_DIRECTION, CT_PROTO_DST, CT_DST_IP = 1, 12, 20

BASE_NETWORK, BASE_TRANSPORT = 1, 2

REG_VERDICT, REG_1, REG_2 = 0, 1, 2  # 16-byte registers

REG32_0 = 8  # 4-byte registers: REG32_0..3 overlay REG_1

PROTO = {"tcp": 6, "udp": 17}

GOTO_CODE = be32(1, GOTO)
_OBJREF_NAME, _LOOKUP_NAME = strz(1, "objref"), strz(1, "lookup")
_LOOKUP_REGS = be32(2, 1) + be32(3, 1)  # sreg REG_1, dreg REG_1

OBJREF_COUNTER = be32(1, 1)  # NFTA_OBJREF_IMM_TYPE: counter


def concat_type(*types: int) -> int:
    value = 0
    for kind in types:
        value = value << 6 | kind
    return value


def expr(name: str, *attrs: bytes) -> bytes:
    return nest(1, expr_name(name), nest(2, *attrs))


@lru_cache(maxsize=64)
def expr_name(name: str) -> bytes:
    return strz(1, name)


@lru_cache(maxsize=1 << 16)
def value(data: bytes) -> bytes:
    return nest(1, attr(1, data))  # NFTA_DATA_VALUE in a nest


def goto(chain: str) -> bytes:
    return nest(2, GOTO_CODE, strz(2, chain))  # NFTA_DATA_VERDICT


@lru_cache(maxsize=1 << 16)
def meta(key: int, dreg: int = REG_1) -> bytes:
    return expr("meta", be32(2, key), be32(1, dreg))


@lru_cache(maxsize=1 << 16)
def cmp_eq(data: bytes, sreg: int = REG_1) -> bytes:
    return expr("cmp", be32(1, sreg), be32(2, 0), nest(3, attr(1, data)))


@lru_cache(maxsize=1 << 16)
def payload(base: int, offset: int, length: int, dreg: int = REG_1) -> bytes:
    return expr(
        "payload", be32(1, dreg), be32(2, base), be32(3, offset), be32(4, length)
    )


def lookup(name: str, set_id: int, dreg: int | None = None, sreg: int = REG_1) -> bytes:
    regs = lookup_regs(sreg, dreg)
    return nest(1, expr_name("lookup"), nest(2, regs, strz(1, name), be32(4, set_id)))


@lru_cache(maxsize=64)
def lookup_regs(sreg: int, dreg: int | None) -> bytes:
    return be32(2, sreg) + (be32(3, dreg) if dreg is not None else b"")


def counter_ref(raw: bytes) -> bytes:
    """`objref` for a counter name already encoded (nft sends it without a NUL)."""
    return nest(1, _OBJREF_NAME, nest(2, OBJREF_COUNTER, attr(2, raw)))


def map_lookup(raw: bytes, set_id: int) -> bytes:
    """`lookup` of REG_1 in the map `raw` (by name and id), data into REG_1."""
    return nest(
        1, _LOOKUP_NAME, nest(2, _LOOKUP_REGS, name_attr(1, raw), be32(4, set_id))
    )


def objref(counter: str) -> bytes:
    """`counter name "c_…"` (the name without a NUL, as nft sends it)."""
    return nest(
        1, expr_name("objref"), nest(2, OBJREF_COUNTER, attr(2, counter.encode()))
    )


L4_MATCH = {  # `meta l4proto tcp` / `udp`
    name: meta(META_L4PROTO) + cmp_eq(bytes((number,)))
    for name, number in PROTO.items()
}


@lru_cache(maxsize=1 << 16)
def immediate(dreg: int, data: bytes) -> bytes:
    return expr("immediate", be32(1, dreg), nest(2, attr(1, data)))


def jump(chain: str) -> bytes:
    return expr("immediate", be32(1, REG_VERDICT), nest(2, goto(chain)))


@lru_cache(maxsize=1 << 16)
def dnat(port: bool, proto_reg: int = REG_2) -> bytes:
    """dnat to the address in REG_1 (and the port in proto_reg)."""
    if not port:
        return expr("nat", be32(1, 1), be32(2, 2), be32(3, REG_1))
    return expr(
        "nat", be32(1, 1), be32(2, 2), be32(3, REG_1), be32(5, proto_reg), be32(7, 2)
    )


@lru_cache(maxsize=1 << 16)
def hton() -> bytes:
    return expr(
        "byteorder", be32(1, REG_1), be32(2, REG_1), be32(3, 1), be32(4, 4), be32(5, 4)
    )


@lru_cache(maxsize=1024)
def masked_saddr(pmask: str | None, dreg: int = REG_1) -> tuple[bytes, ...]:
    """`ip saddr` or `ip saddr & MASK` into dreg."""
    load = payload(BASE_NETWORK, 12, 4, dreg)
    if pmask is None:
        return (load,)
    mask = socket.inet_aton(_ipv4(pmask))
    return (
        load,
        expr(
            "bitwise",
            be32(1, dreg),
            be32(2, dreg),
            be32(6, 0),
            be32(3, 4),
            nest(4, attr(1, mask)),
            nest(5, attr(1, bytes(4))),
        ),
    )


def addr(address: str) -> bytes:
    """A dotted quad as 4 bytes; DataplaneError for anything else."""
    try:
        packed = socket.inet_aton(address)
        if socket.inet_ntoa(packed) == address:
            return packed
    except (OSError, TypeError, ValueError):
        pass
    return socket.inet_aton(_ipv4(address))  # the canonical form, or the error


@lru_cache(maxsize=1 << 16)
def port_data(port: int) -> bytes:
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise DataplaneError(f"port out of range 0-65535: {port!r}")
    return port.to_bytes(2, "big")


@lru_cache(maxsize=1 << 16)
def slot_key(slot: int, interval: bool) -> bytes:
    """A numgen/jhash result as a map key: big-endian where the map is an
    interval tree (the rule converts with byteorder), host order otherwise."""
    return slot.to_bytes(4, "big") if interval else u32(slot)


@lru_cache(maxsize=4096)
def selector_exprs(scheduler: str, modulus: int, interval: bool) -> tuple[bytes, ...]:
    """numgen (rr, wrr) or jhash of the source (sh) or destination (dh)."""
    if scheduler in ("sh", "dh"):
        offset = 12 if scheduler == "sh" else 16
        picked = [
            payload(BASE_NETWORK, offset, 4, REG_2),
            expr(
                "hash",
                be32(1, REG_2),
                be32(2, REG_1),
                be32(3, 4),
                be32(4, modulus),
                be32(5, HASH_SEED),
                be32(6, 0),
                be32(7, 0),
            ),
        ]
    else:
        picked = [
            expr("numgen", be32(1, REG_1), be32(2, modulus), be32(3, 0), be32(4, 0))
        ]
    return (*picked, *((hton(),) if interval else ()))


def dynset(name: str, set_id: int) -> bytes:
    return expr("dynset", be32(4, REG_1), be32(3, 1), strz(1, name), be32(2, set_id))


@lru_cache(maxsize=1 << 16)
@lru_cache(maxsize=1 << 16)
def dnat_tail(with_port: bool, port: int) -> bytes:
    """After the map lookup: DNAT to the address (and port) it found."""
    if with_port:
        return expr("nat", be32(1, 1), be32(2, 2), be32(3, REG_1), be32(5, REG32_0 + 1))
    if not port:
        return dnat(False)
    return immediate(REG_2, port_data(port)) + dnat(True)


def to(dest: Endpoint) -> tuple[bytes, ...]:
    """DNAT to one real server; port 0 keeps the client's port."""
    address = immediate(REG_1, addr(dest[0]))
    if not dest[1]:
        return (address, dnat(False))
    return (address, immediate(REG_2, port_data(dest[1])), dnat(True))


def u32(number: int) -> bytes:
    return struct.pack("=I", number)
