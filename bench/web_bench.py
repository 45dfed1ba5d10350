"""Benchmark of the web tool on a large router: the two busiest pages and publish.

Builds 1,000 virtual servers × 16 real servers in a fresh database (bulk_create,
in a temporary state directory, never ./var/), then times, server side through
django.test.Client (median of N runs):

- the VIRTUAL SERVERS list page as an admin first sees it, 100 rows a page
  (target ≤ 150 ms), and with all 1,000 rows on one page (`?size=1000`,
  target ≤ 150 ms too),
- the same list filtered by a VIP prefix (target ≤ 150 ms),
- one virtual server's REAL SERVER page (target ≤ 150 ms),
- publish of the whole configuration (target ≤ 1 s).

    python bench/web_bench.py [--virtuals 1000] [--servers 16] [--runs 7]

Exits 1 when a figure misses its target. Each figure is wall time (what the
target is about) and, beside it, the process CPU time of the same runs: on a
shared, busy machine the wall time also counts waiting for a core, the CPU time
does not, so it shows what a quiet router would see.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gc  # noqa: E402
import statistics  # noqa: E402
from collections.abc import Callable  # noqa: E402

TARGETS_MS = {
    "virtual server list": 150.0,
    "... all on one page": 150.0,
    "... filtered": 150.0,
    "real server page": 150.0,
    "publish": 1000.0,
}


def timed(func: Callable[[], object], runs: int) -> tuple[float, float]:
    """Medians of (wall ms, process CPU ms) over `runs` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def set_up_django(var_dir: Path) -> None:
    """Point the settings at an empty state directory, then migrate it."""
    os.environ["PIRANHA_VAR_DIR"] = str(var_dir)
    os.environ["PIRANHA_LVS_CF"] = str(var_dir / "lvs.cf")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "piranha_web.settings")
    (var_dir / "static").mkdir()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The manifest storage needs collectstatic; the pages only need their URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    call_command("migrate", verbosity=0)


def build(virtuals: int, servers: int) -> int:
    """A NAT router with `virtuals` active services of `servers` real servers each.

    Returns the pk of the virtual server in the middle.
    """
    from lbconfig.models import GlobalSettings, RealServer, VirtualServer

    GlobalSettings.objects.update_or_create(
        pk=1,
        defaults={
            "primary": "203.0.113.10",
            "network": "nat",
            "nat_router": "192.168.0.254",
            "nat_router_device": "eth1:1",
            "nat_nmask": "255.255.255.0",
        },
    )
    rows = VirtualServer.objects.bulk_create(
        VirtualServer(
            name=f"web{v}",
            active=True,
            address=f"10.{v // 250}.{v % 250}.1",
            device="eth0:1",
            vip_nmask="255.255.255.0",
            port=80,
            persistent=300 if v % 3 == 0 else 0,
            pmask="255.255.255.0" if v % 3 == 0 else "",
            send="GET /health HTTP/1.0\\r\\n\\r\\n",
            expect="HTTP",
            position=v,
        )
        for v in range(virtuals)
    )
    RealServer.objects.bulk_create(
        (
            RealServer(
                virtual_server=row,
                name=f"rs{v}_{s}",
                address=f"192.168.{v % 250}.{s + 10}",
                port=8080,
                weight=1 + s % 5,
                active=True,
            )
            for v, row in enumerate(rows)
            for s in range(servers)
        ),
        batch_size=2000,
    )
    return rows[len(rows) // 2].pk


def measure(virtuals: int, servers: int, runs: int) -> dict[str, tuple[float, float]]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from lbconfig import publish as publishing

    start = time.perf_counter()
    middle = build(virtuals, servers)
    build_s = time.perf_counter() - start
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("bench"))
    list_url = reverse("lbconfig:virtualserver_list")
    real_url = reverse("lbconfig:realserver_list", args=[middle])

    def get(url: str, rows: int) -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        assert response.content.count(b"<tr>") >= rows

    page_rows = min(virtuals, 100)
    all_url = f"{list_url}?size=1000"
    # VIPs are 10.A.B.1 with A = v // 250: "10.1." matches up to 250 of them.
    filtered_url = f"{list_url}?q=10.1.&size=1000"
    filtered_rows = len([v for v in range(virtuals) if v // 250 == 1])
    get(list_url, page_rows)  # warm the template and URL caches
    get(real_url, servers)
    figures = {
        "... all on one page": timed(lambda: get(all_url, virtuals), runs),
        "... filtered": timed(lambda: get(filtered_url, filtered_rows), runs),
        # Last: the list remembers the page size of the previous request.
        "virtual server list": timed(
            lambda: get(f"{list_url}?size=100", page_rows), runs
        ),
        "real server page": timed(lambda: get(real_url, servers), runs),
        "publish": timed(lambda: publishing.publish("bench"), runs),
    }
    size = publishing.target().stat().st_size
    print(
        f"{virtuals} virtual × {servers} real servers "
        f"(built in {build_s:.1f} s; lvs.cf {size / 1e6:.2f} MB), median of {runs}:"
    )
    return figures


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--virtuals", type=int, default=1000)
    args.add_argument("--servers", type=int, default=16)
    args.add_argument("--runs", type=int, default=7)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="piranha-web-bench-") as tmp:
        set_up_django(Path(tmp))
        figures = measure(opts.virtuals, opts.servers, opts.runs)
    ok = True
    for step, target in TARGETS_MS.items():
        wall, cpu = figures[step]
        verdict = "ok" if wall <= target else "OVER TARGET"
        ok &= wall <= target
        print(
            f"  {step:<20} {wall:8.1f} ms (cpu {cpu:7.1f} ms; "
            f"target ≤ {target:.0f} ms) {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
