"""Benchmark of the nftables dataplane, inside network namespaces (root).

1. Apply time: 1,000 services × 10 real servers (wrr, mixed weights) applied by
   `NftablesDataplane.apply` in a router namespace — the full build (the
   table deleted and rebuilt in one transaction: a netlink batch sent
   directly, or with --text one `nft -f`) and a one-weight change
   (incremental, `nft -f`: only that service's chain is rewritten). Median
   and max of N runs, wall time and CPU time (pulse and nft, user + system,
   so the kernel's work is in it). Target: full ≤ 100 ms.
2. Throughput with keep-alive: wrk in the client namespace of the LVS
   topology (tests/netns) against a real server directly (routed by the
   router, no NAT), through the VIP to that one server (NAT only), and
   through the VIP round-robin over three. The real servers run Debian's
   haproxy answering 200 itself, so the backend is not the slow part.
   Target: VIP ≥ 90 % of direct.

    sudo .venv/bin/python bench/nft_bench.py [--runs 7] [--rounds 3] [--seconds 5]
                                             [--connections 16] [--apply-only] [--text]
                                             [--services 1000] [--servers 10]
                                             [--persistent SECONDS]

Needs nft, haproxy and wrk (apt-get install nftables haproxy wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pulse.dataplanes.nftables import NftablesDataplane, transaction  # noqa: E402
from pulse.dataplanes.nftables.ruleset import ShortNames  # noqa: E402
from pulse.dataplanes.nftables.wire import full_build  # noqa: E402
from pulse.lvs import Entry, ServiceKey, ServiceSpec, Table  # noqa: E402
from tests.netns.topology import (  # noqa: E402
    LvsTopology,
    Namespace,
    Topology,
    build_lvs,
    netns_unavailable,
)

HAPROXY_CFG = """global
    maxconn 4000
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend real
    bind {address}:{port}
    http-request return status 200 content-type text/plain string {name}
"""
HAPROXY_PORT = 8080


def big_table(
    services: int, servers: int, persistent: int = 0
) -> dict[ServiceKey, Entry]:
    """`services` wrr services on distinct VIPs, `servers` real servers each
    (persistent for that many seconds, when given)."""
    table = {}
    for s in range(services):
        key = ServiceKey("tcp", f"10.{100 + s // 250}.{s % 250}.1", 80)
        dests = {
            (f"192.168.{s % 250}.{10 + d}", 8080): 1 + (d % 4) for d in range(servers)
        }
        spec = ServiceSpec(key, "wrr", persistent=persistent, names=(f"vs{s}",))
        table[key] = Entry(spec, dests)
    return table


def cpu_time() -> float:
    """CPU time of this process and its children, user + system."""
    both = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return sum(
        usage.ru_utime + usage.ru_stime for usage in map(resource.getrusage, both)
    )


def timed(dp: NftablesDataplane, table: Table) -> tuple[float, float]:
    """Wall and CPU time of one apply."""
    before, started = cpu_time(), time.perf_counter()
    asyncio.run(dp.apply(table))
    return time.perf_counter() - started, cpu_time() - before


def one_run(
    services: int, servers: int, text: bool, run: int, persistent: int = 0
) -> None:
    """In a fresh process (cold caches, as a router that takes over): a full
    build, then one weight changed; prints the four times as JSON."""
    table = big_table(services, servers, persistent)
    dp = NftablesDataplane(direct=not text)
    full = timed(dp, table)
    changed = dict(table)
    key = next(iter(table))
    dests = dict(table[key].dests)
    dests[next(iter(dests))] = 10 + run
    changed[key] = Entry(table[key].spec, dests)
    print(json.dumps({"full": full, "change": timed(dp, changed)}))


def apply_times(
    runs: int, services: int, servers: int, text: bool, persistent: int = 0
) -> None:
    table = big_table(services, servers, persistent)
    started = time.perf_counter()
    script = transaction(None, table, ShortNames())
    render = time.perf_counter() - started
    started = time.process_time()
    batch = full_build(table, ShortNames())
    built = time.process_time() - started
    size = len(batch.encode())
    sticky = f", persistent {persistent} s" if persistent else ""
    print(f"{services} services × {servers} real servers{sticky}")
    print(
        f"  nft text (incremental path)  {len(script):>9,} bytes, "
        f"rendered in {render * 1000:.1f} ms"
    )
    print(
        f"  netlink batch (full builds)  {size:>9,} bytes in {len(batch.messages):,} "
        f"messages, built in {built * 1000:.1f} ms CPU (cold)"
    )
    argv = [sys.executable, __file__, "--one-run", str(services), str(servers)]
    full: list[tuple[float, float]] = []
    change: list[tuple[float, float]] = []
    with Topology() as topology:
        router = topology.namespace("router")
        for run in range(runs):
            extra = [str(run), "--persistent", str(persistent)]
            extra += ["--text"] if text else []
            times = json.loads(router.run(*argv, *extra, timeout=120))
            full.append(tuple(times["full"]))
            change.append(tuple(times["change"]))
    for name, samples in (("full build", full), ("one weight changed", change)):
        walls = [wall for wall, _ in samples]
        cpu = statistics.median(cpu for _, cpu in samples)
        print(
            f"  {name:<21} {statistics.median(walls) * 1000:7.1f} ms median, "
            f"max {max(walls) * 1000:.1f} ms ({runs} runs); "
            f"CPU {cpu * 1000:.0f} ms median"
        )


def start_haproxy(lvs: LvsTopology, directory: Path) -> None:
    for number, (rs, address) in enumerate(
        zip(lvs.servers, lvs.addresses.servers, strict=False), 1
    ):
        cfg = directory / f"rs{number}.cfg"
        text = HAPROXY_CFG.format(
            address=address, port=HAPROXY_PORT, name=f"rs{number}"
        )
        cfg.write_text(text)
        rs.popen("haproxy", "-db", "-f", str(cfg))
        rs.wait_for_port(address, HAPROXY_PORT)


def wrk(client: Namespace, url: str, seconds: int, connections: int) -> float:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    output = client.run(*argv, timeout=seconds + 30)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", output)
    if errors:
        raise RuntimeError(f"wrk reported errors: {errors.group(0)}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]


def throughput(runs: int, seconds: int, connections: int) -> None:
    with Topology() as topology, tempfile.TemporaryDirectory() as directory:
        lvs = build_lvs(topology)
        a = lvs.addresses
        lvs.float_up(lvs.primary)
        lvs.client.add_route("10.200.2.0/24", a.primary_public)
        start_haproxy(lvs, Path(directory))
        dp = NftablesDataplane()
        vip = ServiceKey("tcp", a.vip, HAPROXY_PORT)
        one = {(a.servers[0], HAPROXY_PORT): 1}
        three = {(address, HAPROXY_PORT): 1 for address in a.servers}
        cases = [
            ("direct to rs1 (routed)", f"http://{a.servers[0]}:{HAPROXY_PORT}/", None),
            ("VIP -> rs1 (NAT)", f"http://{a.vip}:{HAPROXY_PORT}/", one),
            ("VIP rr over rs1..rs3", f"http://{a.vip}:{HAPROXY_PORT}/", three),
        ]
        print(f"wrk -t1 -c{connections} -d{seconds}s, keep-alive, requests/s")
        samples: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        for _ in range(runs):  # rounds interleave the cases: load drifts slowly
            for name, url, dests in cases:
                if dests is not None:
                    table = {vip: Entry(ServiceSpec(vip, "rr"), dests)}
                    lvs.primary.call(asyncio.run, dp.apply(table))
                samples[name].append(wrk(lvs.client, url, seconds, connections))
        rates = {name: statistics.median(values) for name, values in samples.items()}
        for name, values in samples.items():
            spread = ", ".join(f"{value:,.0f}" for value in values)
            print(f"  {name:<24} {rates[name]:>9,.0f} median  ({spread})")
        direct = rates["direct to rs1 (routed)"]
        for name in list(rates)[1:]:
            print(f"  {name}: {rates[name] / direct:.0%} of direct")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--apply-only", action="store_true", help="skip wrk")
    parser.add_argument(
        "--text", action="store_true", help="full builds as nft text, not netlink"
    )
    parser.add_argument(
        "--persistent", type=int, default=0, help="make every service persistent (s)"
    )
    parser.add_argument("--one-run", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        services, servers, run = args.one_run
        one_run(services, servers, args.text, run, args.persistent)
        return 0
    reason = netns_unavailable()
    missing = [tool for tool in ("nft", "haproxy", "wrk") if shutil.which(tool) is None]
    if reason or missing:
        print(reason or f"missing: {', '.join(missing)}")
        return 2
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    apply_times(args.runs, args.services, args.servers, args.text, args.persistent)
    if not args.apply_only:
        throughput(args.rounds, args.seconds, args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
