"""Benchmark of pulse's health checks: 5,000 real servers in one process.

A child process listens on 5,000 loopback addresses (127.1.x.y, one port);
this process runs the pulse runtime (userspace dataplane, uvloop when
installed) with one virtual server over all of them, `timeout = 1`. After a
warm-up it measures the runtime's CPU over a quiet window, then kills
real servers one at a time (every 50 ms) and measures, for each, the time
from the kill to its removal from the dataplane's table. Targets: CPU ≤ 50 %
of one core; removal p99 ≤ timeout + 100 ms. Only loopback addresses; the
child and every socket are cleaned up.

    python bench/nanny_bench.py [--servers 5000] [--window 20] [--kills 100]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import cast

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pulse.cli import loop_factory  # noqa: E402
from pulse.daemon import Options, running  # noqa: E402
from pulse.dataplanes.userspace import UserspaceDataplane  # noqa: E402
from pulse.lvs import Table  # noqa: E402
from pulse.state import ServerStatus  # noqa: E402

PORT = 9700
VIP = "127.0.0.200"


def address(index: int) -> str:
    return f"127.1.{index // 250}.{index % 250 + 1}"


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the child: the real servers ---


async def serve(count: int) -> None:
    """Listen on `count` addresses; on stdin "kill N" close N and print the time."""
    loop = asyncio.get_running_loop()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            # uvloop's transports implement asyncio.Transport without subclassing it.
            cast(asyncio.Transport, transport).abort()

    servers = [
        await loop.create_server(
            Accept, address(i), PORT, backlog=64, reuse_address=True
        )
        for i in range(count)
    ]
    print("ready", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := await reader.readline():
        index = int(line.split()[1])
        servers[index].close()
        print(f"{time.monotonic():.6f}", flush=True)
    for server in servers:
        server.close()


# --- the parent: pulse ---


def config_text(count: int) -> str:
    lines = ["serial_no = 1", "primary = 127.0.0.1", "network = direct"]
    lines += ["virtual bench {", "     active = 1", f"     address = {VIP} lo"]
    lines += [f"     port = {PORT}", "     scheduler = wlc", "     timeout = 1"]
    lines += ["     reentry = 1"]
    for i in range(count):
        lines += [f"     server r{i} {{", f"         address = {address(i)}"]
        lines += ["         active = 1", "     }"]
    return "\n".join(lines + ["}"]) + "\n"


class Recording(UserspaceDataplane):
    """The userspace dataplane, noting when each real server leaves it."""

    def __init__(self) -> None:
        super().__init__()
        self.removed: dict[str, float] = {}
        self.size = 0
        self._last: set[str] = set()

    async def apply(self, table: Table) -> None:
        await super().apply(table)
        dests = {a for entry in table.values() for (a, _) in entry.dests}
        now = time.monotonic()
        for name in self._last - dests:
            self.removed.setdefault(name, now)
        self._last = dests
        self.size = len(dests)


def resources() -> tuple[int, int]:
    """Open file descriptors and resident memory of this process."""
    with open("/proc/self/statm") as statm:
        rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return len(os.listdir("/proc/self/fd")), rss


async def cpu_window(seconds: float) -> float:
    before, wall = os.times(), time.monotonic()
    await asyncio.sleep(seconds)
    after, elapsed = os.times(), time.monotonic() - wall
    user, system = after.user - before.user, after.system - before.system
    print(f"user {user / elapsed * 100:.1f} %, system {system / elapsed * 100:.1f} %")
    return (user + system) / elapsed


async def bench(count: int, window: float, kills: int) -> int:
    raise_fd_limit()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "lvs.cf"
            path.write_text(config_text(count))
            plane = Recording()
            async with running(Options(str(path)), plane) as daemon:
                deadline = time.monotonic() + 30
                while plane.size < count and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                print(f"{plane.size} of {count} real servers up")
                gc.collect()  # as `python -m pulse run` does after start-up
                gc.freeze()
                await asyncio.sleep(2)  # past the slow-start doubling burst
                fds, rss = resources()
                cpu = await cpu_window(window)
                print(
                    f"CPU over {window:g} s: {cpu * 100:.1f} % of one core"
                    " (target ≤ 50 %)"
                )
                lag = Lag()
                latencies = await kill_some(child, plane, count, kills)
                lag.stop()
                explain(daemon.state.servers, plane, count, kills, lag)
                checks = sum(s.checks for s in daemon.state.servers.values())
                fds_after, rss_after = resources()
                print(
                    f"checks run: {checks}; open files {fds} -> {fds_after}, "
                    f"RSS {rss / 2**20:.1f} -> {rss_after / 2**20:.1f} MiB"
                )
    finally:
        child.kill()
        child.wait(timeout=10)
    return report(cpu, latencies, kills)


def explain(
    servers: Mapping[tuple[str, str], ServerStatus],
    plane: Recording,
    count: int,
    kills: int,
    lag: Lag,
) -> None:
    """Where the time went: the failed check to the table, and the loop's lag."""
    step = max(1, count // kills)
    detected = [
        plane.removed.get(address(i), float("inf"))
        - servers[("bench", f"r{i}")].last_change
        for i in range(0, step * kills, step)
    ]
    print(
        f"failed check -> removed: p50 {statistics.median(detected) * 1000:.0f} ms,"
        f" max {max(detected) * 1000:.0f} ms; event loop lag during the kills:"
        f" p50 {lag.p50() * 1000:.0f} ms, max {lag.max() * 1000:.0f} ms"
    )


class Lag:
    """How late a 10 ms timer fires: the event loop's delay (CPU contention)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            start = time.monotonic()
            await asyncio.sleep(0.01)
            self.samples.append(time.monotonic() - start - 0.01)

    def stop(self) -> None:
        self.task.cancel()

    def p50(self) -> float:
        return statistics.median(self.samples) if self.samples else 0.0

    def max(self) -> float:
        return max(self.samples, default=0.0)


async def kill_some(
    child: subprocess.Popen[str], plane: Recording, count: int, kills: int
) -> list[float]:
    assert child.stdin is not None and child.stdout is not None
    killed: dict[str, float] = {}
    step = max(1, count // kills)
    for index in range(0, step * kills, step):
        child.stdin.write(f"kill {index}\n")
        child.stdin.flush()
        killed[address(index)] = float(await asyncio.to_thread(child.stdout.readline))
        await asyncio.sleep(0.05)
    deadline = time.monotonic() + 5
    while not set(killed) <= set(plane.removed) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return [plane.removed.get(a, float("inf")) - t for a, t in killed.items()]


def report(cpu: float, latencies: list[float], kills: int) -> int:
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"kill -> removed, {kills} kills: p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms "
        "(target p99 ≤ 1100 ms)"
    )
    ok = cpu <= 0.5 and p99 <= 1.1
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=5000)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        if args.serve:
            raise_fd_limit()
            runner.run(serve(args.serve))
            return 0
        return runner.run(bench(args.servers, args.window, args.kills))


if __name__ == "__main__":
    raise SystemExit(main())
