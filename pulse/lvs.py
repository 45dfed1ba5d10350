"""The routing table: what lvsd kept in IPVS, as data, a diff and a manager.

`desired_table()` turns a configuration plus the health of each real server
into the table the dataplane should hold; `diff()` compares two tables and
returns the operations that turn one into the other, so a reload applies a
scheduler or weight change to one service without touching the others.
`TableManager` applies the desired table whenever something changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import lvscf

logger = logging.getLogger(__name__)

FORWARD_FLAGS = {"nat": "m", "direct": "g", "tunnel": "i"}  # ipvsadm -m/-g/-i
SORRY_WEIGHT = 1  # lvsd adds the sorry server with -w 1


@dataclass(frozen=True, order=True)
class ServiceKey:
    """How IPVS names a service: protocol and VIP:port, or a firewall mark."""

    protocol: str  # "tcp", "udp" or "fwm"
    address: str  # the VIP; "" for a firewall-mark service
    port: int  # the virtual port, or the mark

    def ipvsadm(self) -> list[str]:
        """The service selector of an ipvsadm command line."""
        if self.protocol == "fwm":
            return ["-f", str(self.port)]
        flag = "-t" if self.protocol == "tcp" else "-u"
        return [flag, f"{self.address}:{self.port}"]

    def __str__(self) -> str:
        if self.protocol == "fwm":
            return f"FWM {self.port}"
        return f"{self.protocol.upper()} {self.address}:{self.port}"


Endpoint = tuple[str, int]  # (address, port) of a real server


@dataclass(frozen=True)
class ServiceSpec:
    """A service's own settings; `listen` is where the userspace proxy binds."""

    key: ServiceKey
    scheduler: str = "wlc"
    persistent: int = 0
    pmask: str | None = None
    forward: str = "m"
    listen: tuple[tuple[str, str, int], ...] = ()  # (protocol, address, port)
    names: tuple[str, ...] = ()  # the virtual servers that make it

    def flags(self) -> str:
        """The ipvsadm -L flags column: persistence and its netmask."""
        if not self.persistent:
            return ""
        mask = f" mask {self.pmask}" if self.pmask else ""
        return f"persistent {self.persistent}{mask}"


@dataclass(frozen=True)
class Entry:
    """One service in a table: its settings and its real servers' weights."""

    spec: ServiceSpec
    dests: Mapping[Endpoint, int] = field(default_factory=dict)


Table = Mapping[ServiceKey, Entry]


@dataclass(frozen=True)
class Op:
    """One change to a dataplane; kinds mirror ipvsadm -A -E -D -a -e -d."""

    kind: str
    spec: ServiceSpec
    dest: Endpoint | None = None
    weight: int = 0


class Slot(NamedTuple):
    """What the table needs to know about one real server.

    `weight` is the weight to program, None when it must not be in the table;
    `up` is its health (None until its first check), which decides the sorry
    server. A named tuple: the runtime builds one per real server for every
    table update (5,000 of them), and a tuple is several times cheaper to
    make than a frozen dataclass.
    """

    weight: int | None
    up: bool | None


ServerId = tuple[str, str]  # (virtual name, real server name)


def service_key(virtual: lvscf.VirtualServer) -> ServiceKey:
    """The IPVS service a virtual server belongs to."""
    if virtual.fwmark:
        return ServiceKey("fwm", "", virtual.fwmark)
    return ServiceKey(virtual.protocol, virtual.address or "0.0.0.0", virtual.port)


def active_virtuals(config: lvscf.Config) -> list[lvscf.VirtualServer]:
    """The virtual servers lvsd would handle: active ones, in file order."""
    return [v for v in config.virtual_servers if v.active]


def active_servers(virtual: lvscf.VirtualServer) -> list[lvscf.RealServer]:
    """The real servers that get a nanny: active ones."""
    return [s for s in virtual.servers if s.active]


def _spec(virtual: lvscf.VirtualServer, forward: str) -> ServiceSpec:
    listen = ((virtual.protocol, virtual.address or "0.0.0.0", virtual.port),)
    return ServiceSpec(
        key=service_key(virtual),
        scheduler=virtual.scheduler,
        persistent=virtual.persistent,
        pmask=virtual.pmask if virtual.persistent else None,
        forward=forward,
        listen=listen,
        names=(virtual.name,),
    )


def _sorry_needed(virtual: lvscf.VirtualServer, slots: Mapping[ServerId, Slot]) -> bool:
    """lvsd's rule: no real server up; we also wait for every first check."""
    if virtual.sorry_server is None:
        return False
    states = [slots.get((virtual.name, s.name)) for s in active_servers(virtual)]
    if any(s is None or s.up is None for s in states):
        return False  # not all judged yet: do not flash the sorry server
    return not any(s is not None and s.up for s in states)


def desired_table(config: lvscf.Config, slots: Mapping[ServerId, Slot]) -> Table:
    """The table the dataplane should hold, services in file order.

    Virtual servers sharing a firewall mark form one service: the first one's
    scheduler and persistence, every member's listen address, the union of
    their real servers (the first entry for an address:port wins).
    """
    forward = FORWARD_FLAGS.get(config.network, "m")
    specs: dict[ServiceKey, ServiceSpec] = {}
    dests: dict[ServiceKey, dict[Endpoint, int]] = {}
    for virtual in active_virtuals(config):
        spec = _spec(virtual, forward)
        if spec.key in specs:
            first = specs[spec.key]
            spec = replace(
                first,
                listen=first.listen + spec.listen,
                names=first.names + spec.names,
            )
        specs[spec.key] = spec
        pool = dests.setdefault(spec.key, {})
        _add_servers(pool, virtual, slots)
        if _sorry_needed(virtual, slots):
            assert virtual.sorry_server is not None
            pool.setdefault((virtual.sorry_server, virtual.port), SORRY_WEIGHT)
    return {key: Entry(spec, dests[key]) for key, spec in specs.items()}


def _add_servers(
    pool: dict[Endpoint, int],
    virtual: lvscf.VirtualServer,
    slots: Mapping[ServerId, Slot],
) -> None:
    """The virtual's real servers that have a weight; the first entry wins.

    The runtime's hot loop on every health change (5,000 real servers): the
    keys and endpoints come precomputed from `_plan`, the lookups run in C.
    """
    keys, endpoints, unique = _plan(virtual)
    found = map(slots.get, keys)
    if unique and not pool:
        pool.update(
            {
                e: s[0]
                for e, s in zip(endpoints, found, strict=True)
                if s is not None and s[0] is not None
            }
        )
        return
    for endpoint, slot in zip(endpoints, found, strict=True):
        if slot is not None and slot[0] is not None:
            pool.setdefault(endpoint, slot[0])


Plan = tuple[tuple[ServerId, ...], tuple[Endpoint, ...], bool]
# Per virtual server (by identity): its active servers' keys and endpoints,
# and whether the endpoints are distinct. A memo of a pure function: an entry
# is used only for the very object it was made from, and the memo is emptied
# when it grows past a few reloads' worth.
_PLANS: dict[int, tuple[lvscf.VirtualServer, Plan]] = {}
PLANS_KEPT = 20_000


def _plan(virtual: lvscf.VirtualServer) -> Plan:
    cached = _PLANS.get(id(virtual))
    if cached is not None and cached[0] is virtual:
        return cached[1]
    if len(_PLANS) >= PLANS_KEPT:
        _PLANS.clear()
    servers = active_servers(virtual)
    keys = tuple((virtual.name, s.name) for s in servers)
    endpoints = tuple((s.address, s.port) for s in servers)
    plan = (keys, endpoints, len(set(endpoints)) == len(endpoints))
    _PLANS[id(virtual)] = (virtual, plan)
    return plan


def _service_changed(old: ServiceSpec, new: ServiceSpec) -> bool:
    return (old.scheduler, old.persistent, old.pmask, old.listen) != (
        new.scheduler,
        new.persistent,
        new.pmask,
        new.listen,
    )


def _dest_ops(have: Entry | None, want: Entry) -> Iterable[Op]:
    old = have.dests if have is not None else {}
    refresh = have is not None and have.spec.forward != want.spec.forward
    # Additions first: a real server coming back replaces the sorry server
    # without a moment in which the service has neither.
    for dest, weight in want.dests.items():
        if dest not in old:
            yield Op("add-dest", want.spec, dest, weight)
        elif old[dest] != weight or refresh:
            yield Op("edit-dest", want.spec, dest, weight)
    for dest in old:
        if dest not in want.dests:
            yield Op("del-dest", want.spec, dest)


def diff(current: Table, desired: Table) -> list[Op]:
    """The operations that turn `current` into `desired`, unchanged parts untouched.

    Services are added before their real servers and removed after them, as
    lvsd and its nannies did (`-A`, `-a`…; `-d`…, `-D`).
    """
    ops: list[Op] = []
    for key, want in desired.items():
        have = current.get(key)
        if have is None:
            ops.append(Op("add-service", want.spec))
        elif _service_changed(have.spec, want.spec):
            ops.append(Op("edit-service", want.spec))
        ops.extend(_dest_ops(have, want))
    for key, have in current.items():
        if key not in desired:
            ops.extend(Op("del-dest", have.spec, dest) for dest in have.dests)
            ops.append(Op("del-service", have.spec))
    return ops


def apply_op(table: dict[ServiceKey, Entry], op: Op) -> None:
    """Record in `table` that `op` succeeded (dataplanes track what they hold)."""
    key = op.spec.key
    if op.kind in ("add-service", "edit-service"):
        old = table.get(key)
        table[key] = Entry(op.spec, dict(old.dests) if old else {})
    elif op.kind == "del-service":
        table.pop(key, None)
    elif op.dest is not None and key in table:
        dests = dict(table[key].dests)
        if op.kind == "del-dest":
            dests.pop(op.dest, None)
        else:
            dests[op.dest] = op.weight
        table[key] = Entry(table[key].spec, dests)


class DataplaneError(Exception):
    """A dataplane could not apply an operation."""


RETRY_DELAY = 1.0  # seconds between attempts after a dataplane failure
STEP_DOWN_AFTER = (
    3  # hard_shutdown = 1: consecutive failed attempts before stepping down
)
COALESCE = 0.01  # seconds: batch the health changes that arrive together
