"""The `nft -f` script of one apply: what changed between two routing tables.

Services that did not change are not mentioned, so they keep their chains,
persistence sets and counters; a first apply deletes the table and builds it
afresh.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...lvs import DataplaneError, Entry, ServiceKey, Table
from . import refresh
from .ruleset import (
    Names,
    T,
    _ipv4,
    backend_map_names,
    dest_chains,
    dest_sets,
    readable_names,
    refusal,
    service_chain,
    service_id,
)

SET_SIZE = 262144  # persistence templates per real server (conntrack's default max)
MAPS = {  # the verdict maps that find a service's chain, and refresh.MAPS
    "services": "type inet_proto . ipv4_addr . inet_service : verdict",
    "marks": "type mark : verdict",
    **refresh.MAPS,
}
SKELETON = """\
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


def _objects(entry: Entry, names: Names) -> tuple[dict[str, int], dict[str, list[str]]]:
    return dest_sets(entry, names), dest_chains(entry, names)


def _retire(old: Entry, new: Entry | None, names: Names) -> Iterable[str]:
    """Empty an old service's chains; delete what the new one no longer has."""
    sid = service_id(old.spec.key)
    old_sets, old_chains = _objects(old, names)
    new_sets, new_chains = _objects(new, names) if new else ({}, {})
    yield f"flush chain {T} s_{sid}"
    for name in backend_map_names(
        old, names
    ):  # unused once the chain is flushed; remade
        yield f"delete map {T} {name}"
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


def _install(entry: Entry, names: Names) -> Iterable[str]:
    """A service's objects, in the table block (adding what exists is a no-op)."""
    sid = service_id(entry.spec.key)
    sets, chains = _objects(entry, names)
    service, maps = service_chain(entry, names)
    yield f"    counter c_{sid} {{ }}"
    for name, body in maps.items():
        yield f"    map {name} {{ {body} }}"
    for name, timeout in sets.items():
        yield (
            f"    set {name} {{ type ipv4_addr; size {SET_SIZE}; "
            f"flags dynamic, timeout; timeout {timeout}s; }}"
        )
    for chain, rules in [*chains.items(), (f"s_{sid}", service)]:
        yield f"    chain {chain} {{"
        yield from (f"        {rule}" for rule in rules)
        yield "    }"


def _element(key: ServiceKey) -> tuple[str, str]:
    """The dispatch map a service is found in, and its key there."""
    if key.protocol == "fwm":
        return "marks", str(key.port)
    return "services", f"{key.protocol} . {_ipv4(key.address)} . {key.port}"


def _dispatch(keys: Iterable[ServiceKey]) -> dict[str, list[str]]:
    """Point new VIP:ports and marks at their service chains."""
    elements: dict[str, list[str]] = {"services": [], "marks": []}
    for key in keys:
        name, element = _element(key)
        elements[name].append(f"{element} : goto s_{service_id(key)}")
    return elements


def _maps(elements: dict[str, list[str]], declare: bool) -> Iterable[str]:
    """The verdict maps, declared in the table block with their new elements.

    In the block, not `add element` commands: those make nft 1.0.6 first
    fetch the elements of every interval map in the table (the per-service
    maps), which cost a rebuild over an existing table ~80 ms.
    """
    for name, kind in MAPS.items():
        items = elements.get(name)
        if items:
            yield f"    map {name} {{ {kind}; elements = {{ {', '.join(items)} }} }}"
        elif declare:
            yield f"    map {name} {{ {kind}; }}"


def transaction(old: Table | None, new: Table, names: Names = readable_names) -> str:
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
    block = [*_maps({}, True), SKELETON, refresh.SKELETON] if old is None else []
    old = old or {}
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    old_refresh = refresh.refresh_chains(old, names)
    new_refresh = refresh.refresh_chains(new, names)
    for key in old.keys() - new.keys():
        name, element = _element(key)
        head.append(f"delete element {T} {name} {{ {element} }}")
    head += refresh.retire(old_refresh, new_refresh, changed)
    for key, have in old.items():
        if key in changed:
            head += _retire(have, new.get(key), names)
    for key, want in new.items():
        if key in changed:
            block += _install(want, names)
    chains, elements = refresh.install(old_refresh, new_refresh, changed)
    added = [key for key in new if key not in old]
    elements.update(_dispatch(added))
    lines = [*head, f"table {T} {{", *block, *chains, *_maps(elements, False), "}"]
    return "\n".join(lines) + "\n"


def teardown() -> str:
    """Delete our table, whether or not it exists."""
    return f"table {T}\ndelete table {T}\n"
