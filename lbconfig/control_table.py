"""CURRENT LVS ROUTING TABLE: one row per service, then its real servers.

Re-rendered at every poll, so it is written with f-strings rather than the
template engine, which costs about 30 µs a row. Every value from pulse is
escaped on the way in (names through a cache: they repeat from poll to poll).

A router with 1,000 services of 16 real servers has 16,000 real servers: at
any speed that is megabytes of HTML every few seconds, which no browser redraws
smoothly and no admin reads. Beyond FULL_ROWS real servers the table therefore
shows, by default, every service (with its counts by health) and only the real
servers that are not up and ready; "all" shows the rest (bench/status_bench.py
times both). For that view the web asks pulse for its compact status answer
(docs/pulse.md): each service with its counts by health, and only the real
servers not up, so that neither side handles the 16,000 that are.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from html import escape
from operator import itemgetter
from typing import Any

from django.utils.safestring import SafeString, mark_safe

FULL_ROWS = 500  # real servers shown in full by default ("auto")
SHOW = ("auto", "all", "problems")
HEALTH_CLASS = {
    "up": "success",
    "down": "danger",
    "quiesced": "warning",
    "draining": "warning",
    "maint": "secondary",
    "sorry": "info",
    "unknown": "light",
}
ORDER = tuple(HEALTH_CLASS)
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
OPEN = f'<table class="table table-sm align-middle" id="routing-table">{HEAD}<tbody>'

VIRTUAL = itemgetter("virtual")

esc = functools.lru_cache(maxsize=65536)(escape)


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


@dataclass(frozen=True)
class Table:
    html: SafeString
    rows: int  # real server rows shown
    healths: dict[str, int]  # real servers by health, over the services shown


def server_total(status: dict[str, Any]) -> int:
    """How many real servers the runtime has (a compact answer lists fewer)."""
    compact = status.get("compact")
    if isinstance(compact, dict):
        return int(compact.get("total", 0))
    return len(status.get("servers", []))


def routing_table(status: dict[str, Any], show: str = "auto", match: str = "") -> Table:
    """The table's HTML, how many real server rows it shows, counts by health.

    From a compact answer, the rows are the real servers it lists and the
    counts are its services' "healths"; otherwise both come from "servers".
    """
    servers = status.get("servers", [])
    compact = status.get("compact")
    if isinstance(compact, dict):
        every = compact.get("servers") == "all"
    else:
        every = show == "all" or (show != "problems" and len(servers) <= FULL_ROWS)
    # Only the real servers not up are looked at one by one in Python: this runs
    # at every poll, and a Python loop over 16,000 servers is most of the budget.
    # The rest are counted in C (Counter over map), as total minus those not up.
    members = Counter(map(VIRTUAL, servers))
    chosen = (
        servers
        if every or compact
        else [s for s in servers if s["health"] != "up" or s["admin"] != "ready"]
    )
    by_virtual, healths = _group(chosen)
    sorry = set(status.get("sorry", []))
    parts, rows = [OPEN], 0
    totals: dict[str, int] = {}
    for service in status.get("services", []):
        virtuals = service.get("virtuals", [])
        if match and not any(match in v for v in virtuals):
            continue
        if compact:
            counts = _counted(service.get("healths"), totals)
        else:
            counts = _counts(virtuals, healths, members if not every else None, totals)
        shown = [s for v in virtuals for s in by_virtual.get(v, ())]
        parts.append(_service_row(service, counts))
        parts.extend(_server_rows(service, shown))
        rows += len(shown)
        if sorry.intersection(virtuals):
            parts.extend(_sorry_rows(service, servers))
    parts.append("</tbody></table>")
    # Every value in it is escaped.
    return Table(mark_safe("".join(parts)), rows, totals)


def _counts(
    virtuals: list[str],
    healths: dict[str, dict[str, int]],
    members: Counter[str] | None,
    totals: dict[str, int],
) -> dict[str, int]:
    """A service's real servers by health (with `members`, those not counted are
    up); added to `totals` too."""
    counts: dict[str, int] = {}
    for virtual in virtuals:
        found = healths.get(virtual, {})
        if members is not None:
            found = {**found, "up": members[virtual] - sum(found.values())}
        for health, n in found.items():
            counts[health] = counts.get(health, 0) + n
            totals[health] = totals.get(health, 0) + n
    return counts


def _counted(healths: Any, totals: dict[str, int]) -> dict[str, int]:
    """A compact answer's counts by health for one service, checked; into totals."""
    if not isinstance(healths, dict):
        return {}
    counts = {str(h): n for h, n in healths.items() if isinstance(n, int)}
    for health, n in counts.items():
        totals[health] = totals.get(health, 0) + n
    return counts


def _group(
    chosen: list[dict[str, Any]],
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, int]]]:
    """The chosen real servers by virtual server, and their counts by health."""
    by_virtual: dict[str, list[dict[str, Any]]] = {}
    healths: dict[str, dict[str, int]] = {}
    for server in chosen:
        virtual, health = server["virtual"], server["health"]
        if virtual in by_virtual:
            by_virtual[virtual].append(server)
            found = healths[virtual]
            found[health] = found.get(health, 0) + 1
        else:
            by_virtual[virtual] = [server]
            healths[virtual] = {health: 1}
    return by_virtual, healths


def _service_row(service: dict[str, Any], healths: dict[str, int]) -> str:
    count = service.get("counters", {})
    known = [h for h in ORDER if healths.get(h)]
    summary = ", ".join(
        [f"{healths[h]} {h}" for h in known]
        + [f"{n} {esc(h)}" for h, n in healths.items() if h not in ORDER and n]
    )
    head = _service_head(
        service["service"],
        service["scheduler"],
        service.get("flags") or "",
        tuple(service.get("virtuals", ())),
    )
    return (
        f"{head}{sum(healths.values())} real servers: {summary or 'none'} · "
        f"{count.get('active', 0):d} active, {count.get('inactive', 0):d} inactive, "
        f"{count.get('conns', 0):d} connections</th></tr>"
    )


@functools.lru_cache(maxsize=8192)
def _service_head(
    name: str, scheduler: str, flags: str, virtuals: tuple[str, ...]
) -> str:
    # "TCP 10.0.0.1:80", "UDP …", "FWM 21": ipvsadm's words, as pulse names it.
    name = escape(name)
    flags = f" · {escape(flags)}" if flags else ""
    return (
        f'<tr class="table-secondary" data-service="{name}">'
        f'<th colspan="{len(COLUMNS)}">{name} · scheduler {escape(scheduler)}{flags}'
        f" · virtual {escape(', '.join(virtuals))} · "
    )


def _server_rows(service: dict[str, Any], shown: list[dict[str, Any]]) -> list[str]:
    if not shown:
        return []
    dests = service.get("dests", ())
    forward = esc(service.get("forward", ""))
    if len(shown) <= 2:  # the usual case past FULL_ROWS: scanning beats a dict
        return [_server_row(s, _dest(dests, s), forward) for s in shown]
    by_endpoint = {(d["address"], d["port"]): d for d in dests}
    return [
        _server_row(s, by_endpoint.get((s["address"], s["port"])) or {}, forward)
        for s in shown
    ]


def _dest(dests: list[dict[str, Any]], server: dict[str, Any]) -> dict[str, Any]:
    address, port = server["address"], server["port"]
    for dest in dests:
        if dest["port"] == port and dest["address"] == address:
            return dest
    return {}


def _server_row(server: dict[str, Any], dest: dict[str, Any], forward: str) -> str:
    health = server["health"]
    weight, latency = server["weight"], server.get("latency")
    virtual, name = server["virtual"], server["server"]
    return (
        _row_head(virtual, name, server["address"], server["port"], forward)
        # :d refuses anything but an integer, so no text can slip in unescaped.
        + f"<td>{server['configured_weight']:d}</td>"
        f"<td>{'—' if weight is None else f'{weight:d}'}</td>"
        f"<td>{dest.get('active', 0):d}</td><td>{dest.get('inactive', 0):d}</td>"
        f"<td>{dest.get('conns', 0):d}</td><td>{_badge(health)}</td>"
        f"<td>{ago(server.get('since_change'))}</td>"
        f"<td>{'—' if latency is None else f'{latency * 1000:.1f} ms'}</td>"
        f"<td>{esc(server.get('last_error') or '')}</td>"
        f'<td class="text-nowrap">{_buttons(server.get("admin"), virtual, name)}</td>'
        "</tr>"
    )


# The parts of a row that stay the same from poll to poll are kept, escaped.


@functools.lru_cache(maxsize=65536)
def _row_head(virtual: str, name: str, address: str, port: int, forward: str) -> str:
    virtual, name = escape(virtual), escape(name)
    return (
        f'<tr data-rs="{virtual}/{name}"><td>{name}</td>'
        f"<td>{escape(address)}:{port:d}</td><td>{forward}</td>"
    )


@functools.lru_cache(maxsize=64)
def _badge(health: str) -> str:
    cls = HEALTH_CLASS.get(health, "light")
    return f'<span class="badge text-bg-{cls}">{escape(health)}</span>'


def _button(verb: str, target: str, cls: str) -> str:
    return (
        f'<button form="rs-admin" name="verb" value="{verb} {target}" '
        f'class="btn btn-outline-{cls} btn-sm py-0 me-1">{verb.upper()}</button>'
    )


@functools.lru_cache(maxsize=65536)
def _buttons(admin: str | None, virtual: str, name: str) -> str:
    target = f"{escape(virtual)} {escape(name)}"
    if admin not in (None, "ready"):
        return _button("ready", target, "success")
    return _button("drain", target, "warning") + _button("maint", target, "secondary")


def _sorry_rows(service: dict[str, Any], servers: list[dict[str, Any]]) -> list[str]:
    """Destinations that are no configured real server of the service: the sorry one."""
    virtuals = set(service.get("virtuals", ()))
    known = {(s["address"], s["port"]) for s in servers if s["virtual"] in virtuals}
    forward = esc(service.get("forward", ""))
    return [
        _sorry_row(f"{d['address']}:{d['port']}", d, forward)
        for d in service.get("dests", ())
        if (d["address"], d["port"]) not in known
    ]


def _sorry_row(where: str, dest: dict[str, Any], forward: str) -> str:
    return (
        f'<tr data-rs=""><td>sorry server</td><td>{esc(where)}</td><td>{forward}</td>'
        f"<td>—</td><td>{int(dest.get('weight') or 0)}</td>"
        f"<td>{int(dest.get('active', 0))}</td><td>{int(dest.get('inactive', 0))}</td>"
        f'<td>{int(dest.get("conns", 0))}</td><td><span class="badge '
        f'text-bg-{HEALTH_CLASS["sorry"]}">sorry</span></td>'
        "<td>—</td><td>—</td><td></td><td></td></tr>"
    )
