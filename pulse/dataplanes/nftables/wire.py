"""The full build of the `ip piranha` table as nf_tables netlink messages.

The same transaction `transaction(None, table)` writes as nft text, message
for message as nft itself would send it for that text (tests compare the two
batches byte for byte, see tests/pulse/test_nftables_wire.py), so the kernel
ends up with the same table either way and `nft list` shows the same rules.
Sending it directly skips nft's parser, which dominates a large build.

The order is nft's: the table (added, deleted, added again: it need not
exist), every chain, every counter, every set with its elements, then the
rules chain by chain, an anonymous set just before the rule that uses it.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from ...lvs import Endpoint, Entry, ServiceKey, Table
from . import refresh as refresh_module
from .netlink import (
    DELTABLE,
    NEWCHAIN,
    NEWOBJ,
    NEWRULE,
    NEWSET,
    NEWSETELEM,
    NEWTABLE,
    NLA_F_NESTED,
    NLM_F_APPEND,
    NLM_F_CREATE,
    Batch,
    attr,
    be32,
    be64,
    nest,
    strz,
)
from .ruleset import (
    HASH_SEED,
    TABLE,
    Names,
    _ipv4,
    dest_id,
    readable_names,
    refusal,
    service_id,
    slots,
)
from .transaction import SET_SIZE

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
CREATE, APPEND = NLM_F_CREATE, NLM_F_CREATE | NLM_F_APPEND

T = strz(1, TABLE)  # NFTA_*_TABLE of every message
ID = b"@ID@"  # where new_set puts NFTA_SET_ID
COUNTER_ZERO = be32(3, 1) + nest(4, be64(1, 0), be64(2, 0))  # type counter, 0 0
GOTO_CODE = be32(1, GOTO)
OBJREF_COUNTER = be32(1, 1)  # NFTA_OBJREF_IMM_TYPE: counter
ATTR_MAX = 0xFFFF  # an attribute's length is 16 bits
ANONYMOUS_IDS = 1 << 24  # anonymous sets numbered apart: ids only need be unique


def concat_type(*types: int) -> int:
    value = 0
    for kind in types:
        value = value << 6 | kind
    return value


# -- expressions ---------------------------------------------------------------


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


def objref(counter: str) -> bytes:
    """`counter name "c_…"` (the name without a NUL, as nft sends it)."""
    return nest(
        1, expr_name("objref"), nest(2, OBJREF_COUNTER, attr(2, counter.encode()))
    )


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


# -- set user data (what `nft list` reads back: byte order and typeof) --------


def udata(*items: tuple[int, bytes]) -> bytes:
    return b"".join(bytes((kind, len(data))) + data for kind, data in items)


def u32(number: int) -> bytes:
    return struct.pack("=I", number)


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


# -- the build ----------------------------------------------------------------


class Builder:
    """Collects the messages of one full build in nft's order."""

    def __init__(self) -> None:
        self.chains = Batch()
        self.objects = Batch()
        self.sets = Batch()
        self.rules = Batch()
        self.set_ids: dict[str, int] = {}
        self.next_id = 0
        self.next_anonymous = ANONYMOUS_IDS

    def chain(self, name: str, hook: bytes = b"") -> None:
        self.chains.add(NEWCHAIN, CREATE, T + strz(3, name) + hook, name)

    def counter(self, name: str) -> None:
        self.objects.add(NEWOBJ, CREATE, T + strz(2, name) + COUNTER_ZERO, name)

    def new_set(self, name: str, attrs: bytes, anonymous: bool = False) -> int:
        """NEWSET; its NFTA_SET_ID, which later messages of the batch use."""
        if anonymous:
            self.next_anonymous += 1
            set_id = self.next_anonymous
        else:
            self.next_id += 1
            set_id = self.set_ids[name] = self.next_id
        body = T + strz(2, name) + attrs.replace(ID, be32(10, set_id))
        (self.rules if anonymous else self.sets).add(NEWSET, CREATE, body, name)
        return set_id

    def elements(
        self,
        name: str,
        set_id: int,
        items: list[bytes],
        anonymous: bool = False,
        by_id: bool = True,
    ) -> None:
        """NEWSETELEM messages for numbered items (see `numbered`): as many
        messages as the 64 KiB attribute limit needs.

        A set made in this batch is named by its id alone (`by_id`), where
        nft also sends the name: the kernel tries a name first, walking every
        set of the table, so with a thousand maps the names cost a fifth of
        the kernel's work. The id finds the set among those just made.
        """
        head = T + (b"" if by_id else strz(2, name)) + be32(4, set_id)
        batch = self.rules if anonymous else self.sets
        start, size = 0, 4
        for index, item in enumerate(items):
            if size + len(item) > ATTR_MAX and index > start:
                batch.add(NEWSETELEM, CREATE, head + nest(3, *items[start:index]), name)
                start, size = index, 4
            size += len(item)
        batch.add(NEWSETELEM, CREATE, head + nest(3, *items[start:]), name)

    def rule(self, chain: str, *exprs: bytes) -> None:
        self.rules.add(NEWRULE, APPEND, T + strz(2, chain) + nest(4, *exprs), chain)

    def batch(self) -> Batch:
        whole = Batch()
        whole.add(NEWTABLE, 0, T + be32(2, 0), TABLE)
        whole.add(DELTABLE, 0, T, TABLE)
        whole.add(NEWTABLE, 0, T + be32(2, 0), TABLE)
        for part in (self.chains, self.objects, self.sets, self.rules):
            whole.messages += part.messages
            whole.labels += part.labels
        return whole


HOOKS = {  # chain: (type, hook number, priority)
    "prerouting": ("nat", 0, -100),
    "output": ("nat", 3, -100),
    "forward": ("filter", 2, 0),
}
CONCAT_UD = udata(
    (0, u32(0)), (1, u32(0)), (3, udata((0, u32(13)), (1, b""))), (6, u32(0))
)
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
L4_SET_UD = udata(
    (0, u32(1)), (3, udata((0, u32(9)), (1, udata((0, u32(META_L4PROTO))))))
)
VMAP_UD = udata(
    (0, u32(1)), (1, u32(0)), (4, udata((0, u32(1)), (1, b""))), (6, u32(0))
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
    return port.to_bytes(2, "big")


@lru_cache(maxsize=1 << 16)
def slot_key(slot: int, interval: bool) -> bytes:
    """A numgen/jhash result as a map key: big-endian where the map is an
    interval tree (the rule converts with byteorder), host order otherwise."""
    return slot.to_bytes(4, "big") if interval else u32(slot)


def dispatch_key(key: ServiceKey) -> tuple[str, bytes]:
    if key.protocol == "fwm":
        return "marks", u32(key.port)
    proto = bytes((PROTO[key.protocol], 0, 0, 0))
    return "services", proto + addr(key.address) + port_data(key.port) + b"\0\0"


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
    set_attrs: bytes  # NEWSET attributes after the name (ID to fill in)
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
    shape = MapShape(tuple(bounds), modulus, interval, set_attrs, None)
    size = 8 if with_port else 4
    heads = list(slot_heads(shape, size))
    total = 4 + sum(len(head) for head, _ in heads) + size * len(shares)
    if total > ATTR_MAX:
        return shape  # split over several messages by `elements`
    escaped = (
        head.replace(b"%", b"%%") + (b"%b" if value else b"") for head, value in heads
    )
    header = struct.pack("=HH", total, 3 | NLA_F_NESTED)
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
    for head, value in slot_heads(shape, len(values[0])):
        yield head + next(remaining) if value else head


def element(key: bytes, data: bytes = b"") -> bytes:
    """An element's attributes: its key, and its data (a value or verdict)."""
    return value(key) + (nest(2, data) if data else b"")


def interval_end(key: bytes) -> bytes:
    return be32(3, 1) + value(key)


def dynset(name: str, set_id: int) -> bytes:
    return expr("dynset", be32(4, REG_1), be32(3, 1), strz(1, name), be32(2, set_id))


class FullBuild(Builder):
    """`transaction(None, table)` as messages."""

    def __init__(self, table: Table, names: Names) -> None:
        super().__init__()
        self.table, self.names = table, names
        self.packed: dict[str, bytes] = {}  # addresses, packed once per build
        self.skeleton()
        members = refresh_module.members(table)
        for entry in table.values():
            self.service(entry)
        for name in members:
            self.chain(name)
        for name, uses in members.items():
            for key, entry, dest in uses:
                self.rule(name, *self.refresh_rule(key, entry, dest))
        self.dispatch(members)

    def skeleton(self) -> None:
        for name, (kind, hook, priority) in HOOKS.items():
            hook_attrs = nest(4, be32(1, hook), be32(2, priority & 0xFFFFFFFF))
            self.chain(name, strz(7, kind) + be32(5, 1) + hook_attrs)
        for name in DISPATCH:
            self.dispatch_map(name)
        marks = [meta(META_MARK), lookup("marks", self.set_ids["marks"], REG_VERDICT)]
        services = [
            meta(META_L4PROTO),
            payload(BASE_NETWORK, 16, 4, REG32_0 + 1),
            payload(BASE_TRANSPORT, 2, 2, REG32_0 + 2),
            lookup("services", self.set_ids["services"], REG_VERDICT),
        ]
        for chain in ("prerouting", "output"):
            self.rule(chain, *marks)
            self.rule(chain, *services)
        original = [
            expr("ct", be32(2, CT_DIRECTION), be32(1, REG_1)),
            cmp_eq(b"\0"),
        ]
        self.rule(
            "forward",
            *original,
            meta(META_L4PROTO),
            expr("ct", be32(2, CT_DST_IP), be32(1, REG32_0 + 1), attr(3, b"\0")),
            payload(BASE_NETWORK, 16, 4, REG32_0 + 2),
            payload(BASE_TRANSPORT, 2, 2, REG32_0 + 3),
            lookup("refresh", self.set_ids["refresh"], REG_VERDICT),
        )
        self.rule(
            "forward",
            *original,
            meta(META_MARK),
            payload(BASE_NETWORK, 16, 4, REG32_0 + 1),
            payload(BASE_TRANSPORT, 2, 2, REG32_0 + 2),
            lookup("refresh_marks", self.set_ids["refresh_marks"], REG_VERDICT),
        )

    def dispatch_map(self, name: str) -> int:
        key_type, key_len, user = DISPATCH[name]
        attrs = (
            be32(3, SET_MAP)
            + be32(4, key_type)
            + be32(5, key_len)
            + be32(6, VERDICT_DATA)
            + be32(7, 0)
            + ID
            + attr(13, user)
        )
        return self.new_set(name, attrs)

    def dispatch(
        self, members: dict[str, list[tuple[ServiceKey, Entry, Endpoint]]]
    ) -> None:
        items: dict[str, list[bytes]] = {name: [] for name in DISPATCH}
        for key in self.table:
            name, element_key = dispatch_key(key)
            items[name].append(element(element_key, goto(f"s_{service_id(key)}")))
        for chain, uses in members.items():
            key, _, dest = uses[0]
            name, element_key = refresh_key(key, dest)
            items[name].append(element(element_key, goto(chain)))
        for name, elements in items.items():
            if elements:
                set_id = self.dispatch_map(name)  # found at once: made first
                self.elements(name, set_id, numbered(elements), by_id=False)

    # -- one service ---------------------------------------------------------

    def service(self, entry: Entry) -> None:
        """Counter, map or persistence sets, chains and rules of one service."""
        spec = entry.spec
        sid = service_id(spec.key)
        self.counter(f"c_{sid}")
        count = objref(f"c_{sid}")
        if spec.persistent:
            self.persistent(entry, sid, count)
            return
        self.chain(f"s_{sid}")
        shares = slots(spec, entry.dests)
        if len(shares) == 1:
            self.rule(f"s_{sid}", count, *self.l4(spec.key), *to(shares[0][0]))
        elif shares:
            l4 = self.l4(spec.key)
            self.rule(f"s_{sid}", count, *l4, *self.scheduled(entry, shares))
        else:
            self.rule(f"s_{sid}", count)

    def scheduled(
        self, entry: Entry, shares: list[tuple[Endpoint, int]]
    ) -> list[bytes]:
        """The named map of slots to real servers, and the DNAT through it."""
        ports = {dest[1] for dest, _ in shares}
        with_port = len(ports) > 1 and 0 not in ports
        shape = map_shape(tuple([share for _, share in shares]), with_port)
        name = self.names(entry.spec.key)
        set_id = self.new_set(name, shape.set_attrs)
        packed = self.packed
        addresses = [
            packed.get(d[0]) or packed.setdefault(d[0], addr(d[0])) for d, _ in shares
        ]
        if with_port:
            ports_data = [port_data(d[1]) + b"\0\0" for d, _ in shares]
            values = tuple([a + p for a, p in zip(addresses, ports_data, strict=True)])
        else:
            values = tuple(addresses)
        if shape.elements is None:  # too many real servers for one message
            items = list(slot_items(shape, values))
            self.elements(name, set_id, items)
        else:
            head = T + be32(4, set_id)  # by id, see `elements`
            self.sets.add(NEWSETELEM, CREATE, head + shape.elements % values, name)
        pick = selector_exprs(entry.spec.scheduler, shape.modulus, shape.interval)
        (port,) = ports if len(ports) == 1 else (0,)
        return [*pick, lookup(name, set_id, REG_1), dnat_tail(with_port, port)]

    def persistent(self, entry: Entry, sid: str, count: bytes) -> None:
        """Per real server: a timed set of clients and a chain that records
        the client and DNATs; the service chain looks clients up first."""
        spec = entry.spec
        for dest in entry.dests:
            name = f"p_{sid}_{dest_id(dest)}"
            attrs = (
                be32(3, SET_TIMEOUT | SET_EVAL)
                + be32(4, TYPE_IPV4)
                + be32(5, 4)
                + ID
                + nest(9, be32(1, SET_SIZE))
                + be64(11, spec.persistent * 1000)
                + attr(13, udata((0, u32(2))))
            )
            self.new_set(name, attrs)
        for dest in entry.dests:
            chain, set_name = f"d_{sid}_{dest_id(dest)}", f"p_{sid}_{dest_id(dest)}"
            self.chain(chain)
            self.rule(
                chain,
                *masked_saddr(spec.pmask),
                dynset(set_name, self.set_ids[set_name]),
            )
            self.rule(chain, *self.l4(spec.key), *to(dest))
        self.chain(f"s_{sid}")
        self.rule(f"s_{sid}", count)
        for dest in entry.dests:
            set_name = f"p_{sid}_{dest_id(dest)}"
            self.rule(
                f"s_{sid}",
                *masked_saddr(spec.pmask),
                lookup(set_name, self.set_ids[set_name]),
                jump(f"d_{sid}_{dest_id(dest)}"),
            )
        shares = slots(spec, entry.dests)
        if shares:
            self.rule(f"s_{sid}", *self.sticky_schedule(spec.scheduler, sid, shares))

    def sticky_schedule(
        self, scheduler: str, sid: str, shares: list[tuple[Endpoint, int]]
    ) -> list[bytes]:
        """`<selector> vmap { slots : goto d_… }`, an anonymous verdict map."""
        modulus = sum(share for _, share in shares)
        interval = modulus > len(shares)
        items = [
            element(slot_key(first, interval), goto(f"d_{sid}_{dest_id(dest)}"))
            for dest, first, _ in runs(shares)
        ]
        if interval:
            items.append(interval_end(slot_key(modulus, interval)))
        flags = (
            SET_ANONYMOUS | SET_CONSTANT | SET_MAP | (SET_INTERVAL if interval else 0)
        )
        size = 2 * len(shares) if interval else len(shares)
        set_id = self.anonymous(
            "__map%d",
            be32(3, flags)
            + be32(4, TYPE_INTEGER)
            + be32(5, 4)
            + be32(6, VERDICT_DATA)
            + be32(7, 0)
            + ID
            + nest(9, be32(1, size))
            + attr(13, VMAP_UD),
            items,
        )
        pick = selector_exprs(scheduler, modulus, interval)
        return [*pick, lookup("__map%d", set_id, REG_VERDICT)]

    def anonymous(self, name: str, attrs: bytes, items: list[bytes]) -> int:
        set_id = self.new_set(name, attrs, anonymous=True)
        self.elements(name, set_id, numbered(items), anonymous=True)
        return set_id

    def l4(self, key: ServiceKey) -> list[bytes]:
        """`meta l4proto tcp`, or `meta l4proto { tcp, udp }` for a mark."""
        if key.protocol != "fwm":
            return [meta(META_L4PROTO), cmp_eq(bytes((PROTO[key.protocol],)))]
        set_id = self.anonymous(
            "__set%d",
            be32(3, SET_ANONYMOUS | SET_CONSTANT)
            + be32(4, TYPE_PROTO)
            + be32(5, 1)
            + ID
            + nest(9, be32(1, 2))
            + attr(13, L4_SET_UD),
            [element(b"\x06"), element(b"\x11")],
        )
        return [meta(META_L4PROTO), lookup("__set%d", set_id)]

    def refresh_rule(
        self, key: ServiceKey, entry: Entry, dest: Endpoint
    ) -> list[bytes]:
        set_name = f"p_{service_id(key)}_{dest_id(dest)}"
        update = [
            *masked_saddr(entry.spec.pmask),
            dynset(set_name, self.set_ids[set_name]),
        ]
        if key.protocol == "fwm":
            return update
        return [
            meta(META_L4PROTO),
            cmp_eq(bytes((PROTO[key.protocol],))),
            expr("ct", be32(2, CT_PROTO_DST), be32(1, REG_1), attr(3, b"\0")),
            cmp_eq(port_data(key.port)),
            *update,
        ]


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


def refresh_key(key: ServiceKey, dest: Endpoint) -> tuple[str, bytes]:
    """The refresh map a persistent real server is found in, and its key."""
    where = addr(dest[0]) + port_data(dest[1]) + b"\0\0"
    if key.protocol == "fwm":
        return "refresh_marks", u32(key.port) + where
    proto = bytes((PROTO[key.protocol], 0, 0, 0))
    return "refresh", proto + addr(key.address) + where


def full_build(table: Table, names: Names = readable_names) -> Batch:
    """The messages that delete the table and build it holding `table`."""
    from ...lvs import DataplaneError

    for entry in table.values():
        problem = refusal(entry.spec)
        if problem:
            raise DataplaneError(problem)
    return FullBuild(table, names).batch()
