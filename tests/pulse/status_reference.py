"""The reference rule for pulse's compact status answer, written from docs/pulse.md.

pulse builds its compact answer (`{"cmd": "status", "servers": "not-up",
"match": NAME}`) from parts it keeps up to date (pulse/status_cache.py). This
module says what that answer must contain in the plainest way, from the whole
answer and nothing else, without any of pulse's code:

- `servers`: the real servers of the virtual servers whose name contains
  `match`; with "not-up" only those whose health is not "up" (a drained or
  maintained one is listed), with "all" every one;
- `services`: the services with a virtual server whose name contains `match`,
  each with `healths` (its real servers counted by health) and only the dests
  of the real servers listed, plus any dest that is no configured real server
  of the service (a sorry server);
- `compact`: what was asked (`servers`, `match`) and the counts of everything:
  `total` real servers, `service_total` services, `healths` of every one;
- every other key as in the whole answer.

tests/pulse/test_status_cache.py checks pulse's answer against it;
bench/status_bench.py and the web's tests use it to make a compact answer from
a recorded whole one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def compact_status(
    full: dict[str, Any], match: str = "", servers: str = "not-up"
) -> dict[str, Any]:
    """The compact answer pulse must give when its whole answer is `full`."""
    members: dict[str, list[dict[str, Any]]] = {}
    for server in full["servers"]:
        members.setdefault(server["virtual"], []).append(server)
    listed = [
        s
        for s in full["servers"]
        if match in s["virtual"] and (servers == "all" or s["health"] != "up")
    ]
    shown = {(s["virtual"], s["address"], s["port"]) for s in listed}
    services = [
        _compact_service(service, members, shown, servers)
        for service in full["services"]
        if not match or any(match in v for v in service["virtuals"])
    ]
    compact = {
        "servers": servers,
        "match": match,
        "total": len(full["servers"]),
        "service_total": len(full["services"]),
        "healths": dict(Counter(s["health"] for s in full["servers"])),
    }
    return {**full, "services": services, "servers": listed, "compact": compact}


def _compact_service(
    service: dict[str, Any],
    members: dict[str, list[dict[str, Any]]],
    shown: set[tuple[str, str, int]],
    servers: str,
) -> dict[str, Any]:
    """One service: its real servers counted by health, and the dests shown.

    `members` are the real servers of each virtual server, `shown` the
    (virtual, address, port) of those listed.
    """
    virtuals = service["virtuals"]
    mine = [s for v in virtuals for s in members.get(v, [])]
    configured = {(s["address"], s["port"]) for s in mine}
    dests = [
        d
        for d in service["dests"]
        if servers == "all"
        or (d["address"], d["port"]) not in configured
        or any((v, d["address"], d["port"]) in shown for v in virtuals)
    ]
    healths = dict(Counter(s["health"] for s in mine))
    return {**service, "healths": healths, "dests": dests}
