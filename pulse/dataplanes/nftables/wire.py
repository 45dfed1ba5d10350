"""The full build of the `ip piranha` table as nf_tables netlink messages.

The same transaction `transaction(None, table)` writes as nft text, message
for message as nft itself would send it for that text (tests compare the two
batches byte for byte, see tests/pulse/test_nftables_wire.py), so the kernel
ends up with the same table either way and `nft list` shows the same rules.
Sending it directly skips nft's parser, which dominates a large build.

One difference on purpose: elements of a set made in the same batch name the
set by its id only (see builder.Builder.elements). Message order: see
builder.py; expressions: exprs.py; set attributes and elements: sets.py.
"""

from __future__ import annotations

from ...lvs import DataplaneError, Endpoint, Entry, ServiceKey, Table
from . import refresh as refresh_module
from .builder import APPEND, COUNTER_ZERO, CREATE, Builder, T
from .exprs import (
    BASE_NETWORK,
    BASE_TRANSPORT,
    CT_DIRECTION,
    CT_DST_IP,
    CT_PROTO_DST,
    GOTO_CODE,
    L4_MATCH,
    META_L4PROTO,
    META_MARK,
    PROTO,
    REG32_0,
    REG_1,
    REG_VERDICT,
    SET_ANONYMOUS,
    SET_CONSTANT,
    SET_EVAL,
    SET_INTERVAL,
    SET_MAP,
    SET_TIMEOUT,
    TYPE_INTEGER,
    TYPE_IPV4,
    TYPE_PROTO,
    VERDICT_DATA,
    addr,
    cmp_eq,
    counter_ref,
    dnat_tail,
    dynset,
    expr,
    goto,
    jump,
    lookup,
    map_lookup,
    masked_saddr,
    meta,
    objref,
    payload,
    port_data,
    selector_exprs,
    slot_key,
    to,
    u32,
    value,
)
from .netlink import (
    NEWCHAIN,
    NEWOBJ,
    NEWRULE,
    NEWSET,
    NEWSETELEM,
    Batch,
    attr,
    be32,
    be64,
    name_attr,
    nest,
    strz,
)
from .ruleset import (
    Names,
    dest_id,
    map_ports,
    readable_names,
    refusal,
    service_id,
    slots,
)
from .sets import (
    DISPATCH,
    HOOKS,
    ID,
    L4_SET_UD,
    dispatch_key,
    element,
    interval_end,
    map_shape,
    numbered,
    refresh_key,
    runs,
    slot_items,
    udata,
    verdict_udata,
)
from .transaction import SET_SIZE


class FullBuild(Builder):
    """`transaction(None, table)` as messages."""

    def __init__(self, table: Table, names: Names) -> None:
        super().__init__()
        self.table, self.names = table, names
        self.packed: dict[str, bytes] = {}  # addresses, packed once per build
        self.dispatched: list[tuple[str, bytes]] = []  # (map, element) by service
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
        for name, item in self.dispatched:
            items[name].append(item)
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
        shares = slots(spec, entry.dests)
        chain_raw = ("s_" + sid).encode()
        name, element_key = dispatch_key(spec.key)
        verdict = nest(2, nest(2, GOTO_CODE, name_attr(2, chain_raw)))
        self.dispatched.append((name, value(element_key) + verdict))
        if not spec.persistent and len(shares) > 1 and spec.key.protocol != "fwm":
            self.common(entry, sid, shares, chain_raw)
            return
        self.counter(f"c_{sid}")
        count = objref(f"c_{sid}")
        if spec.persistent:
            self.persistent(entry, sid, count)
            return
        self.chain(f"s_{sid}")
        if len(shares) == 1:
            self.rule(f"s_{sid}", count, *self.l4(spec.key), *to(shares[0][0]))
        elif shares:
            l4 = self.l4(spec.key)
            self.rule(f"s_{sid}", count, *l4, *self.scheduled(entry, shares))
        else:
            self.rule(f"s_{sid}", count)

    def common(
        self,
        entry: Entry,
        sid: str,
        shares: list[tuple[Endpoint, int]],
        chain_raw: bytes,
    ) -> None:
        """`service` for the usual case, a TCP or UDP VIP:port scheduled over
        real servers through a map: the same messages, put together with
        fewer steps (a large table is mostly these; see docs)."""
        key = entry.spec.key
        counter_raw = b"c_" + sid.encode()
        self.chains.add(NEWCHAIN, CREATE, T + name_attr(3, chain_raw), sid)
        self.objects.add(
            NEWOBJ, CREATE, T + name_attr(2, counter_raw) + COUNTER_ZERO, sid
        )
        l4 = L4_MATCH[key.protocol]
        rule_head = T + name_attr(2, chain_raw)
        found = self.scheduled(entry, shares)
        self.rules.add(
            NEWRULE,
            APPEND,
            rule_head + nest(4, counter_ref(counter_raw), l4, *found),
            sid,
        )

    def scheduled(
        self, entry: Entry, shares: list[tuple[Endpoint, int]]
    ) -> list[bytes]:
        """The named map of slots to real servers, and the DNAT through it."""
        key = entry.spec.key
        ports = map_ports(key, shares)
        with_port = len(ports) > 1
        shape = map_shape(tuple([share for _, share in shares]), with_port)
        name = self.names(entry.spec.key)
        raw = name.encode()
        self.next_id += 1
        set_id = self.set_ids[name] = self.next_id
        body = (
            T + name_attr(2, raw) + shape.set_head + be32(10, set_id) + shape.set_tail
        )
        self.sets.add(NEWSET, CREATE, body, name)
        packed = self.packed
        addresses = [
            packed.get(d[0]) or packed.setdefault(d[0], addr(d[0])) for d, _ in shares
        ]
        if with_port:
            ports_data = [port_data(d[1] or key.port) + b"\0\0" for d, _ in shares]
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
        port = next(iter(ports)) if len(ports) == 1 else 0
        return [*pick, map_lookup(raw, set_id), dnat_tail(with_port, port)]

    def persistent(self, entry: Entry, sid: str, count: bytes) -> None:
        """Per real server: a timed set of clients and a chain that records
        the client and DNATs; the service chain looks clients up first."""
        spec = entry.spec
        shares = slots(spec, entry.dests)
        sticky = self.sticky_map(entry, sid, shares) if shares else []
        for dest in entry.dests:
            name = self.names.persist(spec.key, dest)
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
            chain = f"d_{sid}_{dest_id(dest)}"
            set_name = self.names.persist(spec.key, dest)
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
            set_name = self.names.persist(spec.key, dest)
            self.rule(
                f"s_{sid}",
                *masked_saddr(spec.pmask),
                lookup(set_name, self.set_ids[set_name]),
                jump(f"d_{sid}_{dest_id(dest)}"),
            )
        if sticky:
            self.rule(f"s_{sid}", *sticky)

    def sticky_map(
        self, entry: Entry, sid: str, shares: list[tuple[Endpoint, int]]
    ) -> list[bytes]:
        """The named verdict map of slots to the real servers' `d_` chains;
        the expressions of the rule that schedules through it."""
        modulus = sum(share for _, share in shares)
        interval = modulus > len(shares)
        name = self.names(entry.spec.key)
        attrs = (
            be32(3, SET_MAP | (SET_INTERVAL if interval else 0))
            + be32(4, TYPE_INTEGER)
            + be32(5, 4)
            + be32(6, VERDICT_DATA)
            + be32(7, 0)
            + ID
            + attr(13, verdict_udata(modulus))
        )
        set_id = self.new_set(name, attrs)
        items = []
        for dest, first, last in runs(shares):
            verdict = goto(f"d_{sid}_{dest_id(dest)}")
            items.append(element(slot_key(first, interval), verdict))
            if interval:
                items.append(interval_end(slot_key(last + 1, interval)))
        self.elements(name, set_id, numbered(items))
        pick = selector_exprs(entry.spec.scheduler, modulus, interval)
        return [*pick, lookup(name, set_id, REG_VERDICT)]

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
        set_name = self.names.persist(key, dest)
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


def full_build(table: Table, names: Names = readable_names) -> Batch:
    """The messages that delete the table and build it holding `table`."""

    for entry in table.values():
        problem = refusal(entry.spec)
        if problem:
            raise DataplaneError(problem)
    return FullBuild(table, names).batch()
