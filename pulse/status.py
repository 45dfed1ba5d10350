"""What the control socket's "status" answers, and its `ipvsadm -L -n` layout.

`status` is polled by the web every second or more often. `status_json` is
the same answer serialized, from parts kept between polls (`status_cache`):
a real server's part is rebuilt only after its next check, a service's only
after its dataplane reports a change, so a poll at 1,000 × 16 real servers
mostly joins strings. `format_status` prints a status the way `ipvsadm -L -n`
prints a table, with each real server's health beside it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .lvs import Entry, ServiceKey

if TYPE_CHECKING:
    from .daemon import Daemon

FORWARD_NAMES = {"m": "Masq", "g": "Route", "i": "Tunnel"}


def status(daemon: Daemon) -> dict[str, Any]:
    """Everything the status view shows (`status_json` is the same, serialized)."""
    state = daemon.state
    return {
        **_head(daemon),
        "services": _services(daemon),
        "servers": [
            s.as_dict(state.admin.get(key)) for key, s in state.servers.items()
        ],
        "events": list(state.events),
    }


def _head(daemon: Daemon) -> dict[str, Any]:
    """The answer's small fields: everything but services, servers and events."""
    state = daemon.state
    return {
        "state": state.phase,
        "pid": os.getpid(),
        "role": state.role,
        "heartbeat": state.heartbeat_status(),
        "uptime": round(state.uptime(), 3),
        "config": state.config_path,
        "serial": state.config.serial_no,
        "sha256": state.sha256,
        "problems": list(state.problems),
        "dataplane": state.dataplane,
        "dataplane_error": state.dataplane_error,
        "sorry": sorted(state.sorry),
    }


def _services(daemon: Daemon) -> list[dict[str, Any]]:
    counters = daemon.dataplane.counters()
    return [
        _service(key, entry, counters.get(key, {}))
        for key, entry in daemon.dataplane.current().items()
    ]


def _service(key: ServiceKey, entry: Entry, count: dict[str, Any]) -> dict[str, Any]:
    spec = entry.spec
    per_dest = count.get("dests", {})
    dests = [
        {"address": a, "port": p, "weight": w, **per_dest.get(f"{a}:{p}", {})}
        for (a, p), w in entry.dests.items()
    ]
    return {
        "service": str(key),
        "protocol": key.protocol,
        "address": key.address,
        "port": key.port,
        "scheduler": spec.scheduler,
        "flags": spec.flags(),
        "forward": FORWARD_NAMES.get(spec.forward, spec.forward),
        "virtuals": list(spec.names),
        "counters": {k: v for k, v in count.items() if k != "dests"},
        "dests": dests,
    }


def format_status(status: dict[str, Any]) -> str:
    """`ipvsadm -L -n`'s layout with a health column, plus the state line."""
    lines = [
        f"pulse {status['state']} ({status['role']}), dataplane "
        f"{status['dataplane']}, serial {status['serial']}, "
        f"up {status['uptime']:.0f} s",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]
    by_service: dict[str, list[dict[str, Any]]] = {}
    for server in status["servers"]:
        by_service.setdefault(server["virtual"], []).append(server)
    for service in status["services"]:
        name = f"{service['protocol'].upper():<4} "
        where = (
            str(service["port"])
            if service["protocol"] == "fwm"
            else f"{service['address']}:{service['port']}"
        )
        lines.append(
            f"{name}{where} {service['scheduler']} {service['flags']}".rstrip()
        )
        lines.extend(_dest_lines(service, by_service, status["sorry"]))
    if status["dataplane_error"]:
        lines.append(f"dataplane error: {status['dataplane_error']}")
    return "\n".join(lines)


def _dest_lines(
    service: dict[str, Any],
    by_service: dict[str, list[dict[str, Any]]],
    sorry: list[str],
) -> list[str]:
    servers = [s for v in service["virtuals"] for s in by_service.get(v, [])]
    health = {(s["address"], s["port"]): s["health"] for s in servers}
    lines = []
    shown = set()
    for dest in service["dests"]:
        endpoint = (dest["address"], dest["port"])
        shown.add(endpoint)
        state = health.get(
            endpoint, "sorry" if set(service["virtuals"]) & set(sorry) else ""
        )
        lines.append(_dest_line(endpoint, service["forward"], dest, state))
    for server in servers:
        endpoint = (server["address"], server["port"])
        if endpoint not in shown:
            lines.append(
                _dest_line(endpoint, service["forward"], None, server["health"])
            )
    return lines


def _dest_line(
    endpoint: tuple[str, int], forward: str, dest: dict[str, Any] | None, health: str
) -> str:
    where = f"{endpoint[0]}:{endpoint[1]}"
    if dest is None:
        return f"  -> {where:<28}{forward:<8}{'-':<7}{'-':<11}{'-':<10} {health}"
    active, inactive = dest.get("active", 0), dest.get("inactive", 0)
    return (
        f"  -> {where:<28}{forward:<8}{dest['weight']:<7}{active:<11}{inactive:<10}"
        f" {health}"
    ).rstrip()
