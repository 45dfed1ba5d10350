"""GET /metrics: pulse's status in the Prometheus text format (version 0.0.4).

Per real server: health (one series per health value, 1 for the current one),
configured and current weight, connections, bytes, last check latency; per
service: connections and bytes; for pulse: up, role, active, uptime, serial.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lbconfig.control import Snapshot

HEALTHS = ("up", "down", "quiesced", "draining", "maint", "unknown")

HELP = {
    "piranha_pulse_up": ("gauge", "1 when pulse answers on its control socket"),
    "piranha_pulse_active": ("gauge", "1 when this router holds the virtual IPs"),
    "piranha_pulse_role": ("gauge", "the router's role, as a label (value 1)"),
    "piranha_pulse_uptime_seconds": ("gauge", "seconds since pulse started"),
    "piranha_pulse_config_serial": ("gauge", "serial_no of the running lvs.cf"),
    "piranha_pulse_heartbeat_age_seconds": (
        "gauge",
        "seconds since the partner's last heartbeat on a path",
    ),
    "piranha_service_active_connections": ("gauge", "active connections"),
    "piranha_service_inactive_connections": ("gauge", "inactive connections"),
    "piranha_service_connections_total": ("counter", "connections scheduled"),
    "piranha_service_bytes_in_total": ("counter", "bytes from clients"),
    "piranha_service_bytes_out_total": ("counter", "bytes to clients"),
    "piranha_real_server_health": ("gauge", "1 for the real server's health"),
    "piranha_real_server_weight": ("gauge", "the weight lvs.cf gives"),
    "piranha_real_server_current_weight": ("gauge", "the weight in the table now"),
    "piranha_real_server_in_table": ("gauge", "1 when in the routing table"),
    "piranha_real_server_check_latency_seconds": ("gauge", "last check's duration"),
    "piranha_real_server_active_connections": ("gauge", "active connections"),
    "piranha_real_server_inactive_connections": ("gauge", "inactive connections"),
    "piranha_real_server_connections_total": ("counter", "connections scheduled"),
    "piranha_real_server_bytes_in_total": ("counter", "bytes from clients"),
    "piranha_real_server_bytes_out_total": ("counter", "bytes to clients"),
}
COUNTERS = {
    "active": "active_connections",
    "inactive": "inactive_connections",
    "conns": "connections_total",
    "bytes_in": "bytes_in_total",
    "bytes_out": "bytes_out_total",
}

Sample = tuple[str, dict[str, str], float]


def _label(value: object) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _line(name: str, labels: dict[str, str], value: float) -> str:
    if not labels:
        return f"{name} {value:g}"
    inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {value:g}"


def prometheus(snap: Snapshot) -> str:
    status = snap.status or {}
    samples: list[Sample] = [("piranha_pulse_up", {}, 1.0 if snap.answering else 0.0)]
    if status:
        samples.extend(_pulse(status))
        samples.extend(_services(status))
        samples.extend(_servers(status))
    return _exposition(samples)


def _exposition(samples: list[Sample]) -> str:
    by_name: dict[str, list[str]] = {}
    for name, labels, value in samples:
        by_name.setdefault(name, []).append(_line(name, labels, value))
    out = []
    for name, lines in by_name.items():
        kind, text = HELP[name]
        out += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *lines]
    return "\n".join(out) + "\n"


def _pulse(status: dict[str, Any]) -> Iterable[Sample]:
    heartbeat = status.get("heartbeat") or {}
    yield ("piranha_pulse_active", {}, 1.0 if heartbeat.get("active", True) else 0.0)
    yield ("piranha_pulse_role", {"role": str(status.get("role", ""))}, 1.0)
    yield ("piranha_pulse_uptime_seconds", {}, float(status.get("uptime", 0)))
    yield ("piranha_pulse_config_serial", {}, float(status.get("serial", 0)))
    for path in heartbeat.get("paths", []):
        if isinstance(path, dict) and path.get("last_age") is not None:
            labels = {"path": str(path.get("name", ""))}
            age = float(path["last_age"])
            yield ("piranha_pulse_heartbeat_age_seconds", labels, age)


def _services(status: dict[str, Any]) -> Iterable[Sample]:
    for service in status.get("services", []):
        labels = {"service": service["service"]}
        for key, suffix in COUNTERS.items():
            value = service.get("counters", {}).get(key)
            if value is not None:
                yield (f"piranha_service_{suffix}", labels, float(value))


def _servers(status: dict[str, Any]) -> Iterable[Sample]:
    dests = {}
    for service in status.get("services", []):
        for virtual in service.get("virtuals", []):
            for dest in service.get("dests", []):
                dests[(virtual, dest["address"], dest["port"])] = dest
    for server in status.get("servers", []):
        labels = {
            "virtual": server["virtual"],
            "server": server["server"],
            "address": f"{server['address']}:{server['port']}",
        }
        yield from _server(server, labels)
        dest = dests.get((server["virtual"], server["address"], server["port"]), {})
        for key, suffix in COUNTERS.items():
            if key in dest:
                yield (f"piranha_real_server_{suffix}", labels, float(dest[key]))


def _server(server: dict[str, Any], labels: dict[str, str]) -> Iterable[Sample]:
    for health in HEALTHS:
        value = 1.0 if server["health"] == health else 0.0
        yield ("piranha_real_server_health", {**labels, "health": health}, value)
    yield ("piranha_real_server_weight", labels, float(server["configured_weight"]))
    current = server.get("weight")
    yield ("piranha_real_server_in_table", labels, 0.0 if current is None else 1.0)
    yield ("piranha_real_server_current_weight", labels, float(current or 0))
    if server.get("latency") is not None:
        latency = float(server["latency"])
        yield ("piranha_real_server_check_latency_seconds", labels, latency)
