"""The nft text of the `ip piranha` table: pure functions over routing tables.

Shape (one chain per service, found through verdict maps; see
docs/dataplane-nftables.md)::

    table ip piranha {
        map services { type inet_proto . ipv4_addr . inet_service : verdict; }
        map marks { type mark : verdict; }
        chain prerouting { type nat hook prerouting priority dstnat; ...
            meta mark vmap @marks
            meta l4proto . ip daddr . th dport vmap @services }
        chain output { type nat hook output priority -100; ... the same two rules }
        counter c_tcp_10_0_0_1_80 { }
        chain s_tcp_10_0_0_1_80 {
            counter name "c_tcp_10_0_0_1_80"
            meta l4proto tcp dnat ip addr . port to numgen inc mod 3 map {
                0 : 10.0.2.11 . 80, 1-2 : 10.0.2.12 . 80 } }
    }

A persistent service adds, per real server D, a timed set `p_S_D` of masked
client addresses and a chain `d_S_D` that records the client and DNATs; the
service chain looks the client up in each set before scheduling, and then
schedules with a verdict map onto the `d_S_D` chains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache, reduce
from math import gcd

from ...lvs import DataplaneError, Endpoint, Entry, ServiceKey, ServiceSpec, Table

FAMILY, TABLE = "ip", "piranha"
T = f"{FAMILY} {TABLE}"  # how every command names our table
NATIVE = ("rr", "wrr", "sh", "dh")
# Each needs per-connection state at scheduling time, which nftables lacks.
REFUSED = ("lc", "wlc", "lblc", "lblcr", "sed", "nq")
HASH_SEED = 0x70697261  # any fixed value: a restart keeps sh/dh's mapping
MARK_MAX = 0xFFFFFFFF


def refusal(spec: ServiceSpec) -> str | None:
    """Why this dataplane cannot serve the service, or None."""
    names = ", ".join(spec.names) or str(spec.key)
    if spec.scheduler not in NATIVE:
        return (
            f"virtual server {names}: scheduler {spec.scheduler} cannot be expressed "
            "in nftables (it needs per-connection state when scheduling); use "
            "--dataplane userspace or ipvs, which support " + ", ".join(REFUSED)
        )
    if spec.forward != "m":
        return (
            f"virtual server {names}: the nftables dataplane forwards by NAT only "
            "(network = nat); use --dataplane ipvs for direct routing or tunnelling"
        )
    return None


_DOTTED = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")


@lru_cache(maxsize=1 << 16)  # ipaddress is slow, and a big table repeats addresses
def _ipv4(address: str) -> str:
    """The dotted quad, canonical; DataplaneError for anything else."""
    match = _DOTTED.fullmatch(address) if isinstance(address, str) else None
    if match is None or any(int(part) > 255 for part in match.groups()):
        raise DataplaneError(f"not an IPv4 address: {address!r}")
    return ".".join(str(int(part)) for part in match.groups())


def _port(port: int, what: str = "port") -> int:
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise DataplaneError(f"{what} out of range 0-65535: {port!r}")
    return port


@lru_cache(maxsize=1 << 16)
def service_id(key: ServiceKey) -> str:
    """A name part that identifies the service: tcp_10_0_0_1_80, fwm_5."""
    if key.protocol == "fwm":
        if not isinstance(key.port, int) or not 1 <= key.port <= MARK_MAX:
            raise DataplaneError(f"firewall mark out of range: {key.port!r}")
        return f"fwm_{key.port}"
    if key.protocol not in ("tcp", "udp"):
        raise DataplaneError(f"protocol must be tcp or udp: {key.protocol!r}")
    address = _ipv4(key.address).replace(".", "_")
    return f"{key.protocol}_{address}_{_port(key.port)}"


@lru_cache(maxsize=1 << 16)
def dest_id(dest: Endpoint) -> str:
    return f"{_ipv4(dest[0]).replace('.', '_')}_{_port(dest[1])}"


def slots(
    spec: ServiceSpec, dests: Mapping[Endpoint, int]
) -> list[tuple[Endpoint, int]]:
    """The schedulable real servers and their share: weight 0 takes none.

    rr gives every one the same share; the others split by weight, reduced
    by the weights' greatest common divisor to keep the modulus small.
    """
    live = [(dest, weight) for dest, weight in dests.items() if weight > 0]
    if spec.scheduler == "rr":
        return [(dest, 1) for dest, _ in live]
    divisor = reduce(gcd, (weight for _, weight in live), 0) or 1
    return [(dest, weight // divisor) for dest, weight in live]


def _ranges(shares: list[tuple[Endpoint, int]], value: dict[Endpoint, str]) -> str:
    """`0-2 : A, 3 : B` — each real server owns a run of the modulus."""
    parts, start = [], 0
    for dest, share in shares:
        end = start + share - 1
        span = f"{start}-{end}" if end > start else str(start)
        parts.append(f"{span} : {value[dest]}")
        start = end + 1
    return ", ".join(parts)


def selector(scheduler: str, modulus: int) -> str:
    """The expression that picks a slot in [0, modulus)."""
    if scheduler in ("sh", "dh"):
        field = "saddr" if scheduler == "sh" else "daddr"
        return f"jhash ip {field} mod {modulus} seed {HASH_SEED:#x}"
    return f"numgen inc mod {modulus}"


def l4(key: ServiceKey) -> str:
    """The protocol match NAT with a port needs; a mark may select both."""
    return (
        "meta l4proto { tcp, udp }"
        if key.protocol == "fwm"
        else f"meta l4proto {key.protocol}"
    )


def target(dest: Endpoint) -> str:
    """`dnat`'s target: port 0 keeps the client's port, as IPVS does."""
    address, port = _ipv4(dest[0]), _port(dest[1])
    return f"{address}:{port}" if port else address


def mask_expr(spec: ServiceSpec) -> str:
    """The client address as persistence sees it (masked by pmask)."""
    if spec.pmask is None:
        return "ip saddr"
    return f"ip saddr & {_ipv4(spec.pmask)}"


def schedule_rule(entry: Entry) -> str | None:
    """A non-persistent service's one DNAT rule; None without a real server."""
    spec, key = entry.spec, entry.spec.key
    shares = slots(spec, entry.dests)
    if not shares:
        return None  # the packet reaches the router's own stack: reset / unreachable
    if len(shares) == 1:
        return f"{l4(key)} dnat ip to {target(shares[0][0])}"
    if any(dest[1] == 0 for dest, _ in shares):  # map values: address only
        value = {dest: _ipv4(dest[0]) for dest, _ in shares}
        head = "dnat ip to"
    else:
        value = {dest: f"{_ipv4(dest[0])} . {dest[1]}" for dest, _ in shares}
        head = "dnat ip addr . port to"
    modulus = sum(share for _, share in shares)
    pick = selector(spec.scheduler, modulus)
    return f"{l4(key)} {head} {pick} map {{ {_ranges(shares, value)} }}"


def persistent_rules(entry: Entry) -> list[str]:
    """Look the client up in each real server's set, else schedule onto one."""
    spec = entry.spec
    sid, who = service_id(spec.key), mask_expr(spec)
    rules = [
        f"{who} @p_{sid}_{dest_id(d)} goto d_{sid}_{dest_id(d)}" for d in entry.dests
    ]
    shares = slots(spec, entry.dests)
    if shares:
        value = {d: f"goto d_{sid}_{dest_id(d)}" for d, _ in shares}
        modulus = sum(share for _, share in shares)
        pick = selector(spec.scheduler, modulus)
        rules.append(f"{pick} vmap {{ {_ranges(shares, value)} }}")
    return rules


def dest_chain_rules(entry: Entry, dest: Endpoint) -> list[str]:
    """A persistent service's real server: remember the client, then DNAT."""
    spec = entry.spec
    set_name = f"p_{service_id(spec.key)}_{dest_id(dest)}"
    return [
        f"update @{set_name} {{ {mask_expr(spec)} }}",
        f"{l4(spec.key)} dnat ip to {target(dest)}",
    ]


def service_rules(entry: Entry) -> list[str]:
    """The service chain: count the new connection, then schedule it."""
    counter = f'counter name "c_{service_id(entry.spec.key)}"'
    if entry.spec.persistent:
        return [counter, *persistent_rules(entry)]
    rule = schedule_rule(entry)
    return [counter] + ([rule] if rule else [])


def dest_sets(entry: Entry) -> dict[str, int]:
    """A persistent service's set names and their timeout in seconds."""
    if not entry.spec.persistent:
        return {}
    sid = service_id(entry.spec.key)
    return {f"p_{sid}_{dest_id(d)}": entry.spec.persistent for d in entry.dests}


def dest_chains(entry: Entry) -> dict[str, list[str]]:
    if not entry.spec.persistent:
        return {}
    sid = service_id(entry.spec.key)
    return {f"d_{sid}_{dest_id(d)}": dest_chain_rules(entry, d) for d in entry.dests}


SET_SIZE = 262144  # persistence templates per real server (conntrack's default max)
SKELETON = """\
    map services { type inet_proto . ipv4_addr . inet_service : verdict; }
    map marks { type mark : verdict; }
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        meta mark vmap @marks
        meta l4proto . ip daddr . th dport vmap @services
    }
    chain output {
        type nat hook output priority -100; policy accept;
        meta mark vmap @marks
        meta l4proto . ip daddr . th dport vmap @services
    }"""  # IPVS looks firewall-mark services up first, then VIP:port


def _objects(entry: Entry) -> tuple[dict[str, int], dict[str, list[str]]]:
    return dest_sets(entry), dest_chains(entry)


def _retire(old: Entry, new: Entry | None) -> Iterable[str]:
    """Empty an old service's chains; delete what the new one no longer has."""
    sid = service_id(old.spec.key)
    old_sets, old_chains = _objects(old)
    new_sets, new_chains = _objects(new) if new else ({}, {})
    yield f"flush chain {T} s_{sid}"
    for chain in old_chains:
        yield f"flush chain {T} {chain}"
    for chain in old_chains.keys() - new_chains.keys():
        yield f"delete chain {T} {chain}"
    for name, timeout in old_sets.items():
        if new_sets.get(name) != timeout or (new and new.spec.pmask != old.spec.pmask):
            yield f"delete set {T} {name}"  # gone, or its timeout or mask changed
    if new is None:
        yield f"delete chain {T} s_{sid}"
        yield f"delete counter {T} c_{sid}"


def _install(entry: Entry) -> Iterable[str]:
    """A service's objects, in the table block (adding what exists is a no-op)."""
    sid = service_id(entry.spec.key)
    sets, chains = _objects(entry)
    yield f"    counter c_{sid} {{ }}"
    for name, timeout in sets.items():
        yield (
            f"    set {name} {{ type ipv4_addr; size {SET_SIZE}; "
            f"flags dynamic, timeout; timeout {timeout}s; }}"
        )
    for chain, rules in [*chains.items(), (f"s_{sid}", service_rules(entry))]:
        yield f"    chain {chain} {{"
        yield from (f"        {rule}" for rule in rules)
        yield "    }"


def _element(key: ServiceKey) -> tuple[str, str]:
    """The dispatch map a service is found in, and its key there."""
    if key.protocol == "fwm":
        return "marks", str(key.port)
    return "services", f"{key.protocol} . {_ipv4(key.address)} . {key.port}"


def _dispatch(keys: Iterable[ServiceKey]) -> Iterable[str]:
    """Point new VIP:ports and marks at their service chains."""
    elements: dict[str, list[str]] = {"services": [], "marks": []}
    for key in keys:
        name, element = _element(key)
        elements[name].append(f"{element} : goto s_{service_id(key)}")
    for name, items in elements.items():
        if items:
            yield f"add element {T} {name} {{ {', '.join(items)} }}"


def transaction(old: Table | None, new: Table) -> str:
    """One `nft -f` script that turns the table holding `old` into `new`.

    Only services that changed are touched: the others keep their chains,
    sets (the persistence templates) and counters. With `old` None the table
    is deleted and built afresh (start-up, or after a failure left its state
    unknown).
    """
    for entry in new.values():
        problem = refusal(entry.spec)
        if problem:
            raise DataplaneError(problem)
    head = [f"table {T}", f"delete table {T}"] if old is None else []
    block = [SKELETON] if old is None else []
    old = old or {}
    for key in old.keys() - new.keys():
        name, element = _element(key)
        head.append(f"delete element {T} {name} {{ {element} }}")
    for key, have in old.items():
        if new.get(key) != have:
            head += _retire(have, new.get(key))
    for key, want in new.items():
        if old.get(key) != want:
            block += _install(want)
    added = [key for key in new if key not in old]
    lines = [*head, f"table {T} {{", *block, "}", *_dispatch(added)]
    return "\n".join(lines) + "\n"


def teardown() -> str:
    """Delete our table, whether or not it exists."""
    return f"table {T}\ndelete table {T}\n"
