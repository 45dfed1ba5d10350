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
        map m_tcp_10_0_0_1_80 { typeof numgen inc mod 3 : ip daddr;
            flags interval; elements = { 0 : 10.0.2.11, 1-2 : 10.0.2.12 } }
        chain s_tcp_10_0_0_1_80 {
            counter name "c_tcp_10_0_0_1_80"
            meta l4proto tcp dnat ip to numgen inc mod 3 map @m_tcp_10_0_0_1_80 : 80 }
    }

A persistent service adds, per real server D, a timed set `p_S_D` of masked
client addresses and a chain `d_S_D` that records the client and DNATs; the
service chain looks the client up in each set before scheduling, and then
schedules with a verdict map onto the `d_S_D` chains.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Mapping
from functools import lru_cache
from math import gcd
from typing import Protocol

from ...lvs import DataplaneError, Endpoint, Entry, ServiceKey, ServiceSpec

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
    if isinstance(address, str) and address.isascii():
        with contextlib.suppress(OSError, ValueError):  # fast path: canonical
            if socket.inet_ntoa(socket.inet_aton(address)) == address:
                return address
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
    divisor = gcd(*[weight for _, weight in live]) or 1
    if divisor == 1:
        return live
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


def map_ports(key: ServiceKey, shares: list[tuple[Endpoint, int]]) -> set[int]:
    """The real servers' ports as the map needs them: port 0 (keep the
    client's port) is the VIP's port when other servers name theirs; a
    firewall-mark service has no one port to put there, so it is refused."""
    ports = {dest[1] for dest, _ in shares}
    if len(ports) > 1 and 0 in ports:
        if key.protocol == "fwm":
            raise DataplaneError(
                f"firewall mark {key.port}: real servers on port 0 (the client's "
                "port) and on given ports cannot share a mark on the nftables "
                "dataplane; give every real server a port, or none"
            )
        ports = {port or key.port for port in ports}
    return ports


def _backends(
    key: ServiceKey, dests: Mapping[Endpoint, int], shares: list[tuple[Endpoint, int]]
) -> tuple[str, str, str, dict[Endpoint, str]]:
    """How a scheduled slot becomes a DNAT target: the map's data type, the
    words before and after the lookup in the rule, and each server's value.

    Real servers sharing one port put only addresses in the map and the port
    in the rule (half the elements nft must parse); port 0 alone keeps the
    client's port; different ports need address . port.
    """
    ports = map_ports(key, shares)
    if len(ports) == 1:
        (port,) = ports
        value = {dest: _ipv4(dest[0]) for dest in dests}
        return "ip daddr", "dnat ip to", f" : {port}" if port else "", value
    value = {dest: f"{_ipv4(dest[0])} . {dest[1] or key.port}" for dest in dests}
    return "ip daddr . th dport", "dnat ip addr . port to", "", value


class Names(Protocol):
    """What the kernel calls a service's map and its persistence sets."""

    def __call__(self, key: ServiceKey) -> str: ...

    def persist(self, key: ServiceKey, dest: Endpoint) -> str: ...


class ReadableNames:
    """m_tcp_10_0_0_1_80, p_tcp_10_0_0_1_80_10_0_2_11_80: names that say
    whose they are, where speed does not matter (tests, docs)."""

    def __call__(self, key: ServiceKey) -> str:
        return f"m_{service_id(key)}"

    def persist(self, key: ServiceKey, dest: Endpoint) -> str:
        return f"p_{service_id(key)}_{dest_id(dest)}"


readable_names = ReadableNames()


class ShortNames:
    """Short, never reused names for the services' maps (m_0, m_1, ...) and
    persistence sets (p_0, p_1, ...).

    The kernel finds a set by walking the table's sets comparing names, on
    every message that names one: with thousands of sets that walk is a
    large part of a build, and short names make each step cheaper. The
    chains, named after the service and real server, say which set is whose.
    """

    def __init__(self) -> None:
        self._names: dict[ServiceKey, str] = {}
        self._sets: dict[tuple[ServiceKey, Endpoint], str] = {}

    def __call__(self, key: ServiceKey) -> str:
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = "m_" + _base36(len(self._names))
        return name

    def persist(self, key: ServiceKey, dest: Endpoint) -> str:
        name = self._sets.get((key, dest))
        if name is None:
            name = self._sets[key, dest] = "p_" + _base36(len(self._sets))
        return name


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


def backend_map_names(entry: Entry, names: Names = readable_names) -> list[str]:
    """The named map a service's chain looks up: `schedule`'s (none for one
    real server), or a persistent service's verdict map (none without a
    real server of weight > 0)."""
    live = sum(w > 0 for w in entry.dests.values())
    if live < (1 if entry.spec.persistent else 2):
        return []
    return [names(entry.spec.key)]


def schedule(
    entry: Entry, names: Names = readable_names
) -> tuple[str | None, dict[str, str]]:
    """A non-persistent service's DNAT rule and the named map it looks up.

    The rule is None without a real server of weight > 0: the packet reaches
    the router's own stack (reset / unreachable). The map is named, not
    anonymous: the kernel binds each anonymous set by walking the whole
    transaction, which made a large build quadratic. `typeof numgen` suits
    jhash keys too (both plain integers; nft 1.0.6 crashes listing a
    `typeof jhash` map); `flags interval` only where a server owns a run.
    """
    spec, key = entry.spec, entry.spec.key
    shares = slots(spec, entry.dests)
    if not shares:
        return None, {}
    if len(shares) == 1:
        return f"{l4(key)} dnat ip to {target(shares[0][0])}", {}
    data, head, tail, value = _backends(key, entry.dests, shares)
    modulus = sum(share for _, share in shares)
    name = names(key)
    flags = "flags interval; " if modulus > len(shares) else ""
    body = (
        f"typeof numgen inc mod {modulus} : {data}; {flags}"
        f"elements = {{ {_ranges(shares, value)} }}"
    )
    rule = f"{l4(key)} {head} {selector(spec.scheduler, modulus)} map @{name}{tail}"
    return rule, {name: body}


def persistent_rules(
    entry: Entry, names: Names = readable_names
) -> tuple[list[str], dict[str, str]]:
    """Look the client up in each real server's set, else schedule onto one
    through a named verdict map (named, not inline: the kernel binds an
    anonymous set by walking the whole transaction)."""
    spec = entry.spec
    sid, who = service_id(spec.key), mask_expr(spec)
    rules = [
        f"{who} @{names.persist(spec.key, d)} goto d_{sid}_{dest_id(d)}"
        for d in entry.dests
    ]
    shares = slots(spec, entry.dests)
    if not shares:
        return rules, {}
    value = {d: f"goto d_{sid}_{dest_id(d)}" for d, _ in shares}
    modulus = sum(share for _, share in shares)
    name = names(spec.key)
    flags = "flags interval; " if modulus > len(shares) else ""
    body = (
        f"typeof numgen inc mod {modulus} : verdict; {flags}"
        f"elements = {{ {_ranges(shares, value)} }}"
    )
    rules.append(f"{selector(spec.scheduler, modulus)} vmap @{name}")
    return rules, {name: body}


def dest_chain_rules(
    entry: Entry, dest: Endpoint, names: Names = readable_names
) -> list[str]:
    """A persistent service's real server: remember the client, then DNAT."""
    spec = entry.spec
    set_name = names.persist(spec.key, dest)
    return [
        f"update @{set_name} {{ {mask_expr(spec)} }}",
        f"{l4(spec.key)} dnat ip to {target(dest)}",
    ]


def service_chain(
    entry: Entry, names: Names = readable_names
) -> tuple[list[str], dict[str, str]]:
    """The service chain (count the new connection, then schedule it), and
    the named maps its rules look up. Counting and scheduling are one rule
    where they can be (a rule fewer for the kernel to build)."""
    counter = f'counter name "c_{service_id(entry.spec.key)}"'
    if entry.spec.persistent:
        rules, maps = persistent_rules(entry, names)
        return [counter, *rules], maps
    rule, maps = schedule(entry, names)
    return [f"{counter} {rule}" if rule else counter], maps


def dest_sets(entry: Entry, names: Names = readable_names) -> dict[str, int]:
    """A persistent service's set names and their timeout in seconds."""
    if not entry.spec.persistent:
        return {}
    key = entry.spec.key
    return {names.persist(key, d): entry.spec.persistent for d in entry.dests}


def dest_chains(entry: Entry, names: Names = readable_names) -> dict[str, list[str]]:
    if not entry.spec.persistent:
        return {}
    sid = service_id(entry.spec.key)
    return {
        f"d_{sid}_{dest_id(d)}": dest_chain_rules(entry, d, names) for d in entry.dests
    }
