"""What the CONTROL/MONITORING status panel shows, built from one pulse snapshot.

`poll()` asks pulse for the status the panel needs: past FULL_ROWS real
servers (by the last answer) the default view and the name filter ask for the
compact answer, not the whole one. `panel_context()` turns a `control.Snapshot`
into the template's context; the routing table, the one big part, is
control_table.py's.
"""

from __future__ import annotations

import time
from typing import Any

from lbconfig import control
from lbconfig.control import Snapshot
from lbconfig.control_table import FULL_ROWS, ago, routing_table, server_total
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


class _Seen:
    """How many real servers the last answer counted: a hint for the next poll."""

    total = 0


def status_form(show: str, match: str) -> dict[str, str] | None:
    """What to ask pulse for: None for the whole status, else the compact form."""
    if show == "all" or (show == "auto" and _Seen.total <= FULL_ROWS):
        return None
    return {"servers": "not-up", "match": match} if match else {"servers": "not-up"}


def poll(show: str = "auto", match: str = "") -> Snapshot:
    """pulse's status, as much of it as the panel shows with these controls."""
    form = status_form(show, match)
    snap = control.snapshot(form)
    if snap.status is not None:
        _Seen.total = server_total(snap.status)
        if form is not None and show == "auto" and _Seen.total <= FULL_ROWS:
            snap = control.snapshot()  # smaller than it was: every row again
    return snap


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
        "table_total": server_total(status),
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
    servers, total = status.get("servers", []), server_total(status)
    compact = status.get("compact")
    if healths is None and isinstance(compact, dict):
        healths = compact.get("healths") or {}
    if healths is None:
        healths = {"maint": sum(s.get("health") == "maint" for s in servers)}
    checking = total - int(healths.get("maint", 0))
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
            "text": _count(_service_total(status), "service") + " in the table",
        },
        {
            "name": "health checks (nanny)",
            "ok": _ok(True),
            "text": f"{_count(checking, 'check')} running for "
            + _count(total, "real server"),
        },
        {
            "name": f"dataplane {status.get('dataplane', '')}",
            "ok": _ok(not dataplane_error),
            "text": dataplane_error or "applied",
        },
    ]


def _service_total(status: dict[str, Any]) -> int:
    """How many services the table has (a compact answer may list fewer)."""
    compact = status.get("compact")
    if isinstance(compact, dict) and isinstance(compact.get("service_total"), int):
        return int(compact["service_total"])
    return len(status.get("services", []))


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
