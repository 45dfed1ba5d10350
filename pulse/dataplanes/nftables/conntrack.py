"""Connections per real server, from the kernel's conntrack table.

NAT rules see only a connection's first packet; what happens afterwards is
in conntrack. Each entry names the client's original destination (VIP:port)
and the reply's source (the real server), so counting entries per pair gives
ipvsadm's ActiveConn (TCP ESTABLISHED) and InActConn (every other TCP state,
and all UDP flows, as IPVS counts them). Bytes are there only when
`net.netfilter.nf_conntrack_acct` is 1.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyroute2 import Conntrack
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple

from ...lvs import Endpoint, ServiceKey, Table

# /proc/self would name the process's namespace; a thread may have entered another.
CONNTRACK = Path("/proc/thread-self/net/nf_conntrack")


@dataclass(frozen=True)
class Flow:
    """One conntrack entry, reduced to what the counters need."""

    protocol: str
    state: str  # the TCP state; "" for UDP
    destination: Endpoint  # the original direction's destination: VIP:port
    server: Endpoint  # the reply direction's source: the real server
    bytes_in: int = 0  # client to server (original direction), when accounted
    bytes_out: int = 0
    client: Endpoint = ("", 0)  # the original direction's source


def parse(text: str) -> list[Flow]:
    """The TCP and UDP entries of /proc/net/nf_conntrack text."""
    flows = []
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 6 or tokens[2] not in ("tcp", "udp"):
            continue
        fields: list[dict[str, str]] = []
        for token in tokens[5:]:
            name, _, value = token.partition("=")
            if name == "src":
                fields.append({})
            if value and fields:
                fields[-1][name] = value
        if len(fields) != 2:
            continue
        original, reply = fields
        flows.append(
            Flow(
                protocol=tokens[2],
                state=tokens[5] if tokens[2] == "tcp" else "",
                destination=(original["dst"], int(original["dport"])),
                server=(reply["src"], int(reply["sport"])),
                bytes_in=int(original.get("bytes", 0)),
                bytes_out=int(reply.get("bytes", 0)),
                client=(original["src"], int(original["sport"])),
            )
        )
    return flows


def read() -> list[Flow]:
    """The current namespace's entries; none when conntrack has no /proc file."""
    try:
        return parse(CONNTRACK.read_text())
    except OSError:
        return []


Marked = list[tuple[ServiceKey, set[str]]]  # fwmark services and their VIPs


def _service_of(table: Table, marked: Marked, flow: Flow) -> ServiceKey | None:
    key = ServiceKey(flow.protocol, *flow.destination)
    if key in table:
        return key
    for key, addresses in marked:  # firewall-mark services, by their members
        if flow.destination[0] in addresses and flow.server in table[key].dests:
            return key
    return None


def tally(table: Table, flows: Iterable[Flow]) -> dict[ServiceKey, dict[str, Any]]:
    """Per service: totals and "dests" ("ADDR:PORT" → counters) of NATed flows."""
    zero = {"active": 0, "inactive": 0, "bytes_in": 0, "bytes_out": 0}
    result: dict[ServiceKey, dict[str, Any]] = {
        key: {**zero, "dests": {f"{a}:{p}": dict(zero) for a, p in entry.dests}}
        for key, entry in table.items()
    }
    # Computed once: a router's conntrack holds far more flows than services.
    marked = [
        (key, {address for _, address, _ in entry.spec.listen})
        for key, entry in table.items()
        if key.protocol == "fwm"
    ]
    for flow in flows:
        key = _service_of(table, marked, flow)
        if key is None or flow.server not in table[key].dests:
            continue
        counts = result[key]
        dest = counts["dests"][f"{flow.server[0]}:{flow.server[1]}"]
        kind = "active" if flow.state == "ESTABLISHED" else "inactive"
        for target in (counts, dest):
            target[kind] += 1
            target["bytes_in"] += flow.bytes_in
            target["bytes_out"] += flow.bytes_out
    return result


PROTOCOLS = {"tcp": socket.IPPROTO_TCP, "udp": socket.IPPROTO_UDP}


def unnatted(table: Table, flows: Iterable[Flow]) -> list[Flow]:
    """Flows to a service's VIP:port that no rule translated: they began
    while the table did not hold the service (a router taking over, pulse
    starting), reached the router itself, and would keep doing so — conntrack
    decides NAT on a flow's first packet only — until they time out."""
    vips = {
        (protocol, (address, port))
        for key, entry in table.items()
        for protocol, address, port in (
            entry.spec.listen or ((key.protocol, key.address, key.port),)
        )
    }
    return [
        flow
        for flow in flows
        if flow.server == flow.destination and (flow.protocol, flow.destination) in vips
    ]


def forget(flows: Iterable[Flow]) -> int:
    """Delete these conntrack entries (ctnetlink, via pyroute2); how many went.
    Blocking: run it on a thread in the router's namespace."""
    flows = list(flows)
    if not flows:
        return 0  # the usual case: no socket opened (pyroute2's takes ~20 ms)
    gone = 0
    with contextlib.closing(Conntrack()) as conntrack:
        for flow in flows:
            where = NFCTAttrTuple(
                saddr=flow.client[0],
                daddr=flow.destination[0],
                proto=PROTOCOLS[flow.protocol],
                sport=flow.client[1],
                dport=flow.destination[1],
            )
            try:
                conntrack.entry("del", tuple_orig=where)
            except NetlinkError as exc:
                if exc.code != errno.ENOENT:  # ended meanwhile: fine
                    raise
                continue
            gone += 1
    return gone
