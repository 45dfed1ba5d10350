"""Persistence kept alive by traffic, as IPVS keeps a template while it is used.

A persistent client's set entry is written when a connection is scheduled;
without more, it would expire `persistent` seconds later even while that
connection still runs. The forward hook therefore refreshes it on every
packet the client sends: a verdict map keyed by protocol, the original
destination address (the VIP) and the real server after DNAT jumps to a
chain `u_…` that updates the set of each persistent service behind that key
(told apart by their original port). Firewall-mark services are keyed by the
mark instead of the protocol and VIP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ...lvs import Endpoint, Entry, ServiceKey, Table
from .ruleset import Names, T, _ipv4, dest_id, mask_expr, readable_names, service_id

MAPS = {
    "refresh": "type inet_proto . ipv4_addr . ipv4_addr . inet_service : verdict",
    "refresh_marks": "type mark . ipv4_addr . inet_service : verdict",
}
SKELETON = """\
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct direction original meta l4proto . ct original ip daddr . ip daddr \
. th dport vmap @refresh
        ct direction original meta mark . ip daddr . th dport vmap @refresh_marks
    }"""


@dataclass
class Refresh:
    """One `u_…` chain: where the forward hook finds it and what it updates."""

    map: str
    element: str
    rules: list[str] = field(default_factory=list)
    services: set[ServiceKey] = field(default_factory=set)


def chain_name(key: ServiceKey, dest: Endpoint) -> str:
    """The refresh chain of a persistent service's real server."""
    if key.protocol == "fwm":
        return f"u_{service_id(key)}_{dest_id(dest)}"
    vip = _ipv4(key.address).replace(".", "_")
    return f"u_{key.protocol}_{vip}_{dest_id(dest)}"


def members(table: Table) -> dict[str, list[tuple[ServiceKey, Entry, Endpoint]]]:
    """The refresh chains a table needs, with the real servers each updates."""
    chains: dict[str, list[tuple[ServiceKey, Entry, Endpoint]]] = {}
    for key, entry in table.items():
        if entry.spec.persistent:
            for dest in entry.dests:
                chains.setdefault(chain_name(key, dest), []).append((key, entry, dest))
    return chains


def refresh_chains(table: Table, names: Names = readable_names) -> dict[str, Refresh]:
    """The refresh chains a table needs, by name."""
    chains: dict[str, Refresh] = {}
    for name, uses in members(table).items():
        for key, entry, dest in uses:
            address, port = _ipv4(dest[0]), dest[1]
            set_name = names.persist(key, dest)
            update = f"update @{set_name} {{ {mask_expr(entry.spec)} }}"
            if key.protocol == "fwm":
                where = Refresh("refresh_marks", f"{key.port} . {address} . {port}")
                rule = update
            else:
                vip = _ipv4(key.address)
                # after a DNAT that kept the client's port (0) it is the VIP's
                element = f"{key.protocol} . {vip} . {address} . {port or key.port}"
                where = Refresh("refresh", element)
                rule = f"meta l4proto {key.protocol} ct original proto-dst {key.port} "
                rule += update
            chain = chains.setdefault(name, where)
            chain.rules.append(rule)
            chain.services.add(key)
    return chains


def _dirty(
    name: str,
    old: dict[str, Refresh],
    new: dict[str, Refresh],
    changed: set[ServiceKey],
) -> bool:
    return old[name].rules != new[name].rules or bool(old[name].services & changed)


def retire(
    old: dict[str, Refresh], new: dict[str, Refresh], changed: set[ServiceKey]
) -> Iterable[str]:
    """Empty or delete the chains that change: before their sets may go."""
    for name, chain in old.items():
        if name not in new:
            yield f"delete element {T} {chain.map} {{ {chain.element} }}"
            yield f"flush chain {T} {name}"
            yield f"delete chain {T} {name}"
        elif _dirty(name, old, new, changed):
            yield f"flush chain {T} {name}"


def install(
    old: dict[str, Refresh], new: dict[str, Refresh], changed: set[ServiceKey]
) -> tuple[list[str], dict[str, list[str]]]:
    """The table block's chains, and the new elements of each refresh map."""
    block: list[str] = []
    elements: dict[str, list[str]] = {}
    for name, chain in new.items():
        if name not in old or _dirty(name, old, new, changed):
            block += [
                f"    chain {name} {{",
                *(f"        {r}" for r in chain.rules),
                "    }",
            ]
        if name not in old:
            elements.setdefault(chain.map, []).append(f"{chain.element} : goto {name}")
    return block, elements
