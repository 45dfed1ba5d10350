"""Benchmark of the CONTROL/MONITORING status panel on a large router.

Renders `_status_panel.html` (what every poll of the page returns) from a
status answer of pulse's shape for 1,000 services × 16 real servers, server
side: the panel's context (routing table included) and the template, median
and p95 of N runs. Target: median ≤ 50 ms. A twentieth of the real servers
are down with an error, one in 50 is draining, one in 100 in maintenance; the
default view shows those 8 % in full, and every service with its counts, from
pulse's compact answer (what {"cmd": "status", "servers": "not-up"} answers,
made by `compact_status` of tests/pulse/status_reference.py), as the web asks
for it past 500 real servers. The "all" view (every row, several MB of HTML)
is timed too, from the whole answer, for the record.

    python bench/status_bench.py [--virtuals 1000] [--servers 16] [--runs 21]

tests/lbconfig/test_control_views.py checks that `recorded_status` has the keys
of a real pulse's answer. Exits 1 when the median misses the target.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_bench import set_up_django  # noqa: E402

# The rule lives with pulse's tests, which check pulse's own answer against it;
# re-exported here for the web's tests, which take it with `recorded_status`.
from tests.pulse.status_reference import (  # noqa: E402
    compact_status as compact_status,
)

TARGET_MS = 50.0


def _server(v: int, s: int) -> dict[str, Any]:
    n = v * 16 + s
    down = n % 20 == 7
    admin = "drain" if n % 50 == 3 else "maint" if n % 100 == 9 else "ready"
    health = {"drain": "draining", "maint": "maint"}.get(
        admin, "down" if down else "up"
    )
    return {
        "virtual": f"web{v}",
        "server": f"rs{s}",
        "address": f"192.168.{v // 250}.{(v % 250) * 16 // 16 + s}",
        "port": 8080,
        "configured_weight": 1 + s % 4,
        "weight": None if down or admin == "maint" else 1 + s % 4,
        "health": health,
        "admin": admin,
        "last_check": time.time() - 0.4,
        "latency": 0.0004 + s * 0.0001,
        "last_error": "Connection refused" if down else "",
        "consecutive_successes": 0 if down else 40,
        "consecutive_failures": 3 if down else 0,
        "checks": 1234,
        "since_change": 3600.0 + n,
        "flaps": n % 3,
    }


def _service(v: int, servers: list[dict[str, Any]]) -> dict[str, Any]:
    dests = [
        {
            "address": s["address"],
            "port": s["port"],
            "weight": s["weight"],
            "active": 3,
            "inactive": 12,
            "conns": 45_000,
            "bytes_in": 9_000_000,
            "bytes_out": 120_000_000,
        }
        for s in servers
        if s["weight"] is not None
    ]
    totals = {
        k: sum(d[k] for d in dests)
        for k in ("active", "inactive", "conns", "bytes_in", "bytes_out")
    }
    address = f"10.{v // 250}.{v % 250}.1"
    return {
        "service": f"TCP {address}:80",
        "protocol": "tcp",
        "address": address,
        "port": 80,
        "scheduler": "wlc",
        "flags": "persistent 300" if v % 10 == 0 else "",
        "forward": "Masq",
        "virtuals": [f"web{v}"],
        "counters": totals,
        "dests": dests,
    }


def recorded_status(virtuals: int, servers: int) -> dict[str, Any]:
    """A status answer of pulse's shape (pulse/status.py) for a large router."""
    real = [[_server(v, s) for s in range(servers)] for v in range(virtuals)]
    events = [
        {"time": time.time() - 60 + i, "message": f"[ active ] making rs{i} available"}
        for i in range(500)
    ]
    heartbeat = {
        "enabled": True,
        "role": "primary",
        "active": True,
        "partner": "203.0.113.11",
        "paths": [
            {
                "name": "udp",
                "local": "203.0.113.10:539",
                "partner": "203.0.113.11:539",
                "last_age": 1.2,
                "partner_says": "backup, standby",
            }
        ],
        "links": {"ok": True, "down": []},
        "failovers": [{"time": time.time() - 86400, "message": "took over"}],
    }
    return {
        "state": "running",
        "pid": 4242,
        "role": "primary",
        "heartbeat": heartbeat,
        "uptime": 86400.0,
        "config": "/etc/sysconfig/ha/lvs.cf",
        "serial": 42,
        "sha256": "0" * 64,
        "problems": [],
        "dataplane": "ipvs",
        "dataplane_error": "",
        "services": [_service(v, rows) for v, rows in enumerate(real)],
        "servers": [s for rows in real for s in rows],
        "sorry": [],
        "events": events,
    }


def render_panel(status: dict[str, Any], show: str = "auto") -> str:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from lbconfig.control import Snapshot
    from lbconfig.control_panel import panel_context

    request = RequestFactory().get("/status/")
    live = {"auto": True, "every": 5, "show": show, "match": ""}
    context: dict[str, Any] = {"live": live, "mode": "systemd"}
    context.update(panel_context(Snapshot("running", status), show))
    return render_to_string("lbconfig/_status_panel.html", context, request)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--virtuals", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=16)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="status-bench-") as var:
        set_up_django(Path(var))
        status = recorded_status(args.virtuals, args.servers)
        medians = {
            "auto": measure(compact_status(status), "auto", args.runs),
            "all": measure(status, "all", args.runs),
        }
    return 0 if medians["auto"] <= TARGET_MS else 1


def measure(status: dict[str, Any], show: str, runs: int) -> float:
    """Median wall time in ms; the CPU time is printed too (a shared machine's
    other processes stretch the wall time, not the CPU time)."""
    from lbconfig.control_table import server_total

    html = render_panel(status, show)  # warms the template cache
    walls, cpus = [], []
    for _ in range(runs):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        render_panel(status, show)
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    median = statistics.median(walls)
    p95 = sorted(walls)[max(0, round(0.95 * len(walls)) - 1)]
    target = f" (target ≤ {TARGET_MS:.0f} ms)" if show == "auto" else ""
    print(
        f"status panel, {len(status['services'])} services × "
        f"{server_total(status) // max(1, len(status['services']))} real servers, "
        f"view {show!r}: {html.count('<tr data-rs=')} real server rows, "
        f"{len(html) / 1e6:.1f} MB of HTML; median {median:.1f} ms{target}, "
        f"p95 {p95:.1f} ms, CPU median {statistics.median(cpus):.1f} ms; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return median


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "piranha_web.settings")
    sys.exit(main())
