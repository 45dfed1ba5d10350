"""Client-visible outage of a router failover: pulse, and keepalived VRRP beside it.

Builds the namespace topology of tests/netns (client, two routers, three real
servers; root needed). A client sends one new-connection HTTP request to the
VIP every 20 ms (100 ms connect timeout). Each round "kills the active router
host": its process group gets SIGKILL and both of its cables are pulled at the
switch, so only the partner's timer can notice. The outage is the time from
the first failed request to the next success. The dead router is then
restarted (cables still out), plugged back in, and must stay passive; the next
round kills whichever router is active.

Two stacks run in the same topology, one after the other:
- pulse: `python -m pulse run` on both routers, keepalive 1, deadtime 2
  (target: outage p95 ≤ deadtime + 300 ms);
- keepalived 2.2 VRRP only (`keepalived -P`, advert_int 1, nopreempt, both
  BACKUP with priorities 150/100), moving the same VIP and NAT router IP, with
  pulse's userspace dataplane running without failover on both routers
  (ip_nonlocal_bind = 1) so that only the failover mechanism differs.

Rounds during which this machine stalled (a 10 ms sleeper thread saw a gap over
250 ms) are rerun, not reported.

    python bench/failover_bench.py [--rounds 20] [--dataplane userspace]
                                   [--no-keepalived]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.netns.pulse_pair import (  # noqa: E402
    DEADTIME,
    Prober,
    PulsePair,
    cable,
    wait,
)
from tests.netns.topology import (  # noqa: E402
    LvsTopology,
    Topology,
    build_lvs,
    netns_unavailable,
)

STALL = 0.25  # seconds: a sleeper gap longer than this voids the round
EXTRA_ROUNDS = 10  # reruns allowed for stalled rounds
ROUTERS = ("primary", "backup")

KEEPALIVED_CONF = """global_defs {{
    router_id pw_{name}
    vrrp_garp_master_delay 0
}}
vrrp_instance pw {{
    state BACKUP
    nopreempt
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {a.vip}/32 dev eth0 label eth0:1
        {a.nat_router}/32 dev eth1 label eth1:1
    }}
}}
"""


class Sleeper(threading.Thread):
    """Notices machine stalls: the longest gap between 10 ms sleeps, per window."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.gaps: list[tuple[float, float]] = []  # (time, gap)
        self.halt = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self.halt.wait(0.01):
            now = time.monotonic()
            if now - last > STALL:
                self.gaps.append((now, now - last))
            last = now

    def stalled(self, start: float, end: float) -> bool:
        return any(start <= t <= end + STALL for t, _ in self.gaps)


class PulseStack:
    """pulse on both routers."""

    name = "pulse"

    def __init__(self, lvs: LvsTopology, directory: Path, dataplane: str) -> None:
        self.pair = PulsePair(lvs, directory, dataplane)

    def start(self, router: str) -> None:
        self.pair.start(router)

    def kill(self, router: str) -> None:
        self.pair.stop(router, signal.SIGKILL)

    def active(self) -> str | None:
        alive = [r for r in ROUTERS if r in self.pair.processes]
        found = [r for r in alive if self.pair.active(r)]
        return found[0] if len(found) == 1 else None

    def passive(self, router: str) -> bool:
        return not self.pair.active(router)

    def close(self) -> None:
        self.pair.close()


class KeepalivedStack:
    """keepalived VRRP on both routers, pulse's userspace proxy under it."""

    name = "keepalived"

    def __init__(self, lvs: LvsTopology, directory: Path) -> None:
        self.lvs, self.directory = lvs, directory
        self.pair = PulsePair(lvs, directory / "table")  # writes the lvs.cf only
        self.keepalived: dict[str, subprocess.Popen[bytes]] = {}
        for router in ROUTERS:
            self.pair.router(router).sysctl("net.ipv4.ip_nonlocal_bind", 1)
            argv = [sys.executable, "-m", "bench.failover_bench", "dataplane",
                    str(self.pair.config)]  # fmt: skip
            root = Path(__file__).resolve().parents[1]
            self.pair.router(router).popen(*argv, cwd=root)

    def start(self, router: str) -> None:
        priority = 150 if router == "primary" else 100
        conf = self.directory / f"{router}.conf"
        conf.write_text(
            KEEPALIVED_CONF.format(name=router, priority=priority, a=self.lvs.addresses)
        )
        files = self.directory / router
        argv = ["keepalived", "-n", "-P", "-G", "-f", str(conf),
                "-p", f"{files}.pid", "-r", f"{files}.vrrp.pid",
                "-c", f"{files}.checkers.pid"]  # fmt: skip
        self.keepalived[router] = self.pair.router(router).popen(*argv)

    def kill(self, router: str) -> None:
        process = self.keepalived.pop(router)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def active(self) -> str | None:
        holders = [r for r in self.pair.holders() if r in self.keepalived]
        return holders[0] if len(holders) == 1 else None

    def passive(self, router: str) -> bool:
        return router not in self.pair.holders()

    def close(self) -> None:
        for router in list(self.keepalived):
            self.kill(router)


def one_round(
    stack: PulseStack | KeepalivedStack,
    lvs: LvsTopology,
    prober: Prober,
    sleeper: Sleeper,
) -> tuple[float | None, bool]:
    """Kill the active router host; (outage in seconds, stalled)."""
    wait(lambda: stack.active() is not None, 20, "one active router")
    victim = stack.active()
    assert victim is not None
    survivor = "backup" if victim == "primary" else "primary"
    prober.wait_healthy(time.monotonic(), timeout=20)
    start = time.monotonic()
    stack.kill(victim)
    for ifname in ("eth0", "eth1"):
        cable(lvs, lvs.primary if victim == "primary" else lvs.backup, ifname, False)
    prober.wait_healthy(start, timeout=30)
    end = time.monotonic()
    outage = prober.outage(start)
    stack.start(victim)  # cables out: it cannot hear or claim anything
    time.sleep(0.5)
    for ifname in ("eth0", "eth1"):
        cable(lvs, lvs.primary if victim == "primary" else lvs.backup, ifname, True)
    wait(lambda: stack.active() == survivor, 20, f"{survivor} alone active")
    time.sleep(DEADTIME + 1)
    if not stack.passive(victim):
        raise AssertionError(f"{stack.name}: the restarted {victim} took over")
    return outage, sleeper.stalled(start, end)


def measure(
    stack: PulseStack | KeepalivedStack, lvs: LvsTopology, rounds: int
) -> list[float]:
    sleeper = Sleeper()
    sleeper.start()
    prober = Prober(lvs, interval=0.02, timeout=0.1)
    outages: list[float] = []
    stalled = 0
    try:
        for router in ROUTERS:
            stack.start(router)
        prober.start()
        while len(outages) < rounds and stalled <= EXTRA_ROUNDS:
            outage, stall = one_round(stack, lvs, prober, sleeper)
            if stall or outage is None:
                stalled += 1
                print(f"  {stack.name}: round voided (stall)", flush=True)
                continue
            outages.append(outage)
            print(f"  {stack.name} round {len(outages)}: {outage * 1000:.0f} ms",
                  flush=True)  # fmt: skip
    finally:
        prober.stop()
        sleeper.halt.set()
        stack.close()
        drop_floating(lvs)
    return outages


def drop_floating(lvs: LvsTopology) -> None:
    """Remove what a killed stack left up, so the next one starts clean."""
    a = lvs.addresses
    for router in (lvs.primary, lvs.backup):
        router.ip("addr", "del", f"{a.vip}/32", "dev", "eth0", check=False)
        router.ip("addr", "del", f"{a.nat_router}/32", "dev", "eth1", check=False)


def report(name: str, outages: list[float], target: float | None) -> bool:
    if not outages:
        print(f"{name}: no rounds")
        return False
    ordered = sorted(outages)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    line = (
        f"{name}: {len(ordered)} failovers, outage p50 "
        f"{statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
    if target is None:
        print(line)
        return True
    ok = p95 <= target
    print(f"{line} (target p95 ≤ {target * 1000:.0f} ms: {'met' if ok else 'NOT met'})")
    return ok


def serve_dataplane(config: str) -> int:
    """The keepalived stack's table: pulse's runtime without failover."""
    from pulse.daemon import Options, run

    return asyncio.run(run(Options(config)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--dataplane", default="userspace")
    parser.add_argument("--no-keepalived", action="store_true")
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command[:1] == ["dataplane"]:
        return serve_dataplane(args.command[1])
    reason = netns_unavailable()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    results = {}
    with tempfile.TemporaryDirectory() as tmp, Topology() as topology:
        lvs = build_lvs(topology)
        directory = Path(tmp)
        results["pulse"] = measure(
            PulseStack(lvs, directory, args.dataplane), lvs, args.rounds
        )
        if not args.no_keepalived and shutil.which("keepalived"):
            (directory / "kad").mkdir()
            (directory / "kad" / "table").mkdir()
            stack = KeepalivedStack(lvs, directory / "kad")
            results["keepalived"] = measure(stack, lvs, args.rounds)
    print(f"failover outage, keepalive 1 / deadtime {DEADTIME}, advert_int 1")
    ok = report(f"pulse ({args.dataplane})", results["pulse"], DEADTIME + 0.3)
    if "keepalived" in results:
        report("keepalived VRRP", results["keepalived"], None)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
