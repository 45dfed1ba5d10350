"""What the CONTROL/MONITORING status panel shows, built from one pulse snapshot.

`panel_context()` turns a `control.Snapshot` into the template's context. The
routing table is the one big part (a router with 1,000 services of 16 real
servers has 16,000 rows, re-rendered at every poll), so `routing_table()`
writes its rows with plain string formatting: Django's template engine takes
about 30 µs a row, which is half a second for that router; this takes about
2 µs (bench/status_bench.py). Every value is escaped on the way in.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from lbconfig.control import Snapshot
from lbconfig.models import Revision

EVENTS_SHOWN = 25
HEALTH_CLASS = {
    "up": "success",
    "down": "danger",
    "quiesced": "warning",
    "draining": "warning",
    "maint": "secondary",
    "sorry": "info",
    "unknown": "light",
}
STATE_CLASS = {
    "running": "success",
    "starting": "info",
    "stopping": "info",
    "stopped": "secondary",
    "failed": "danger",
    "not answering": "danger",
}


def ago(seconds: float | None) -> str:
    """A duration in the largest unit that keeps it short: 42 s, 5 min, 3 h, 2 d."""
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def panel_context(snap: Snapshot) -> dict[str, Any]:
    status = snap.status or {}
    return {
        "snap": snap,
        "state_class": STATE_CLASS.get(snap.state, "secondary"),
        "st": status,
        "uptime": ago(status.get("uptime")),
        "published": _published(status),
        "heartbeat": _heartbeat(status.get("heartbeat")),
        "processes": _processes(status) if status else [],
        "table": routing_table(status) if status else mark_safe(""),
        "events": _events(status.get("events", [])),
        "now": time.strftime("%H:%M:%S"),
    }


def _published(status: dict[str, Any]) -> dict[str, Any]:
    """Is the running configuration the last one published here (by sha256)?"""
    last = Revision.objects.only("pk", "sha256", "serial_no").first()
    running = status.get("sha256", "")
    if not status:
        return {"ok": None, "text": ""}
    if last is None:
        return {"ok": False, "text": "nothing has been published from here"}
    if running == last.sha256:
        return {"ok": True, "text": f"the published revision {last.pk}"}
    return {
        "ok": False,
        "text": f"not the published revision {last.pk} (serial {last.serial_no}): "
        "RELOAD to run it",
    }


def _heartbeat(section: Any) -> dict[str, Any] | None:
    if not isinstance(section, dict):
        return None
    paths = [
        {**p, "age": ago(p.get("last_age"))}
        for p in section.get("paths", [])
        if isinstance(p, dict)
    ]
    failovers = [
        {"time": _clock(f.get("time")), "message": f.get("message", "")}
        for f in section.get("failovers", [])[-5:]
        if isinstance(f, dict)
    ]
    links = section.get("links") or {}
    return {**section, "paths": paths, "failovers": failovers[::-1], "links": links}


def _processes(status: dict[str, Any]) -> list[dict[str, str]]:
    heartbeat = status.get("heartbeat") or {}
    servers = status.get("servers", [])
    checking = sum(1 for s in servers if s.get("admin") != "maint")
    dataplane_error = status.get("dataplane_error", "")
    if heartbeat.get("enabled"):
        beat = f"{heartbeat.get('role')}, partner {heartbeat.get('partner') or '—'}"
        beat_ok = bool(heartbeat.get("links", {}).get("ok", True))
    else:
        beat, beat_ok = "standalone (no backup router configured)", True
    return [
        {"name": "heartbeat", "ok": _ok(beat_ok), "text": beat},
        {
            "name": "table manager (lvs)",
            "ok": _ok(not dataplane_error),
            "text": f"{len(status.get('services', []))} services in the table",
        },
        {
            "name": "health checks (nanny)",
            "ok": _ok(True),
            "text": f"{checking} checks running for {len(servers)} real servers",
        },
        {
            "name": f"dataplane {status.get('dataplane', '')}",
            "ok": _ok(not dataplane_error),
            "text": dataplane_error or "applied",
        },
    ]


def _ok(good: bool) -> str:
    return "success" if good else "danger"


def _clock(stamp: Any) -> str:
    if not isinstance(stamp, int | float):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _events(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"time": _clock(e.get("time")), "message": str(e.get("message", ""))}
        for e in events[-EVENTS_SHOWN:][::-1]
    ]


# --- the routing table, written without the template engine (see the docstring) ---

COLUMNS = (
    "Real server",
    "Address",
    "Forward",
    "Weight",
    "Current",
    "Active",
    "Inactive",
    "Conns",
    "Health",
    "Since change",
    "Check",
    "Last error",
    "",
)
HEAD = "<thead><tr>" + "".join(f"<th>{c}</th>" for c in COLUMNS) + "</tr></thead>"
ROW = (
    '<tr data-rs="{key}"><td>{name}</td><td>{where}</td><td>{forward}</td>'
    "<td>{weight}</td><td>{current}</td><td>{active}</td><td>{inactive}</td>"
    '<td>{conns}</td><td><span class="badge text-bg-{cls}">{health}</span></td>'
    "<td>{since}</td><td>{latency}</td><td>{error}</td>"
    '<td class="text-nowrap">{buttons}</td></tr>'
)
BUTTON = (
    '<button form="rs-admin" name="verb" value="{verb} {target}" '
    'class="btn btn-outline-{cls} btn-sm py-0 me-1">{label}</button>'
)


def routing_table(status: dict[str, Any]) -> SafeString:
    by_virtual: dict[str, list[dict[str, Any]]] = {}
    for server in status.get("servers", []):
        by_virtual.setdefault(server["virtual"], []).append(server)
    sorry = set(status.get("sorry", []))
    parts = [
        f'<table class="table table-sm align-middle" id="routing-table">{HEAD}<tbody>'
    ]
    for service in status.get("services", []):
        parts.append(_service_row(service))
        parts.extend(_server_rows(service, by_virtual, sorry))
    parts.append("</tbody></table>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


def _service_row(service: dict[str, Any]) -> str:
    count = service.get("counters", {})
    where = (
        f"FWM {service['port']}"
        if service.get("protocol") == "fwm"
        else f"{service['protocol'].upper()} {service['address']}:{service['port']}"
    )
    bits = [where, f"scheduler {service['scheduler']}"]
    if service.get("flags"):
        bits.append(service["flags"])
    bits.append("virtual " + ", ".join(service.get("virtuals", [])))
    bits.append(
        f"{count.get('active', 0)} active, {count.get('inactive', 0)} inactive, "
        f"{count.get('conns', 0)} connections"
    )
    return (
        f'<tr class="table-secondary" data-service="{escape(service["service"])}">'
        f'<th colspan="{len(COLUMNS)}">{escape(" · ".join(bits))}</th></tr>'
    )


def _server_rows(
    service: dict[str, Any],
    by_virtual: dict[str, list[dict[str, Any]]],
    sorry: set[str],
) -> list[str]:
    dests = {(d["address"], d["port"]): d for d in service.get("dests", [])}
    forward = escape(service.get("forward", ""))
    rows = []
    for virtual in service.get("virtuals", []):
        for server in by_virtual.get(virtual, []):
            dest = dests.pop((server["address"], server["port"]), {})
            rows.append(_server_row(server, dest, forward))
    on_sorry = sorry & set(service.get("virtuals", []))
    for (address, port), dest in dests.items():
        health = "sorry" if on_sorry else "unknown"
        rows.append(_other_row(f"{address}:{port}", dest, forward, health))
    return rows


def _server_row(server: dict[str, Any], dest: dict[str, Any], forward: str) -> str:
    health = server["health"]
    target = escape(f"{server['virtual']} {server['server']}")
    latency = server.get("latency")
    return ROW.format(
        key=escape(f"{server['virtual']}/{server['server']}"),
        name=escape(server["server"]),
        where=escape(f"{server['address']}:{server['port']}"),
        forward=forward,
        weight=server["configured_weight"],
        current="—" if server["weight"] is None else server["weight"],
        active=dest.get("active", 0),
        inactive=dest.get("inactive", 0),
        conns=dest.get("conns", 0),
        cls=HEALTH_CLASS.get(health, "light"),
        health=escape(health),
        since=ago(server.get("since_change")),
        latency="—" if latency is None else f"{latency * 1000:.1f} ms",
        error=escape(server.get("last_error") or ""),
        buttons=_buttons(server.get("admin", "ready"), target),
    )


def _buttons(admin: str, target: str) -> str:
    if admin != "ready":
        return BUTTON.format(verb="ready", target=target, cls="success", label="READY")
    return BUTTON.format(
        verb="drain", target=target, cls="warning", label="DRAIN"
    ) + BUTTON.format(verb="maint", target=target, cls="secondary", label="MAINT")


def _other_row(where: str, dest: dict[str, Any], forward: str, health: str) -> str:
    """A destination in the table that is no configured real server: the sorry one."""
    return ROW.format(
        key="",
        name="sorry server" if health == "sorry" else "—",
        where=escape(where),
        forward=forward,
        weight="—",
        current=dest.get("weight", "—"),
        active=dest.get("active", 0),
        inactive=dest.get("inactive", 0),
        conns=dest.get("conns", 0),
        cls=HEALTH_CLASS[health],
        health=health,
        since="—",
        latency="—",
        error="",
        buttons="",
    )
