"""What the CONTROL/MONITORING status panel shows, built from one pulse snapshot.

`panel_context()` turns a `control.Snapshot` into the template's context; the
routing table, the one big part, is control_table.py's.
"""

from __future__ import annotations

import time
from typing import Any

from lbconfig.control import Snapshot
from lbconfig.control_table import ago, routing_table
from lbconfig.models import Revision

EVENTS_SHOWN = 25
STATE_CLASS = {
    "running": "success",
    "starting": "info",
    "stopping": "info",
    "stopped": "secondary",
    "failed": "danger",
    "not answering": "danger",
}


def panel_context(
    snap: Snapshot, show: str = "auto", match: str = ""
) -> dict[str, Any]:
    status = snap.status or {}
    table = routing_table(status, show, match)
    return {
        "snap": snap,
        "state_class": STATE_CLASS.get(snap.state, "secondary"),
        "st": status,
        "uptime": ago(status.get("uptime")),
        "published": _published(status),
        "heartbeat": _heartbeat(status.get("heartbeat")),
        "processes": _processes(status, None if match else table.healths),
        "table": table.html,
        "table_rows": table.rows,
        "table_total": len(status.get("servers", [])),
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
        {**p, "heard": _heard(p.get("last_age"))}
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


def _heard(age: float | None) -> str:
    return "nothing heard yet" if age is None else f"last heard {ago(age)} ago"


def _processes(
    status: dict[str, Any], healths: dict[str, int] | None
) -> list[dict[str, str]]:
    """The runtime's parts; `healths` counts every real server, when known."""
    if not status:
        return []
    heartbeat = status.get("heartbeat") or {}
    servers = status.get("servers", [])
    if healths is None:
        healths = {"maint": sum(s.get("health") == "maint" for s in servers)}
    checking = len(servers) - healths.get("maint", 0)
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
            "text": _count(len(status.get("services", [])), "service")
            + " in the table",
        },
        {
            "name": "health checks (nanny)",
            "ok": _ok(True),
            "text": f"{_count(checking, 'check')} running for "
            + _count(len(servers), "real server"),
        },
        {
            "name": f"dataplane {status.get('dataplane', '')}",
            "ok": _ok(not dataplane_error),
            "text": dataplane_error or "applied",
        },
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


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
