"""Benchmark of the lvscf library on a generated router configuration.

Generates 1,000 virtual servers × 16 real servers and writes them the way the
original GUI does (a server's port line only when it differs from the virtual's:
95,687 lines, 1.99 MB), then times parse, validate and render (median of N runs)
and the growth from 1× to 10× the size. Parse is also timed on the canonical text
(every server's port written: 111,687 lines). Targets on a 2-core machine:
parse ≤ 150 ms, validate ≤ 100 ms, render ≤ 50 ms, 10× the servers ≤ 11× the time.

    python bench/lvscf_bench.py [--virtuals 1000] [--servers 16] [--runs 7]

`--against REV` compares this tree's lvscf with the one at git revision REV on the
same file instead, in one process, alternating the two run by run, so that a busy
machine slows both alike; it prints both medians and the median of the per-run
ratios (wall clock and CPU time), and exits 1 when the CPU ratio passes 1.05 (on
a busy machine the wall-clock ratio also measures who else got the cores):

    python bench/lvscf_bench.py --against main --runs 31
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from types import ModuleType

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lvscf import Config, RealServer, VirtualServer, parse, render, validate  # noqa: E402


def generate(virtuals: int, servers: int) -> Config:
    """A NAT router with `virtuals` services of `servers` real servers each."""
    vss = []
    for v in range(virtuals):
        vip = f"10.{v // 250}.{v % 250}.1"
        rss = tuple(
            RealServer(
                name=f"rs{v}_{s}",
                address=f"192.168.{v % 250}.{s + 10}",
                active=True,
                port=8080,  # the virtual's port: the GUI leaves the line out
                weight=1 + s % 5,
            )
            for s in range(servers)
        )
        vss.append(
            VirtualServer(
                name=f"web{v}",
                active=True,
                address=vip,
                device="eth0:1",
                vip_nmask="255.255.255.0",
                port=8080,
                persistent=300 if v % 3 == 0 else 0,
                pmask="255.255.255.0" if v % 3 == 0 else None,
                send="GET /health HTTP/1.0\\r\\n\\r\\n",
                expect="HTTP",
                scheduler="wlc",
                timeout=6,
                reentry=15,
                servers=rss,
            )
        )
    return Config(
        serial_no=42,
        primary="203.0.113.10",
        backup_active=True,
        backup="203.0.113.11",
        keepalive=6,
        deadtime=18,
        network="nat",
        nat_router="192.168.0.254",
        nat_router_device="eth1:1",
        nat_nmask="255.255.255.0",
        virtual_servers=tuple(vss),
    )


def median_ms(func: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(virtuals: int, servers: int, runs: int) -> dict[str, float]:
    canonical = render(generate(virtuals, servers))
    text = re.sub(r"\n {9}port = 8080(?=\n)", "", canonical)
    assert parse(text) == parse(canonical)  # the same meaning, as lvs.cf reads it
    # Parse first, with only the text alive, as a process that loads its
    # lvs.cf does; then keep one parsed config for validate and render.
    parse_ms = median_ms(lambda: parse(text), runs)
    canonical_ms = median_ms(lambda: parse(canonical), runs)
    config = parse(text)
    problems = [p for p in validate(config) if p.is_error]
    assert not problems, problems[:3]
    assert render(config) == canonical
    return {
        "lines": text.count("\n"),
        "bytes": len(text.encode()),
        "parse": parse_ms,
        "parse canonical": canonical_ms,
        "canonical lines": canonical.count("\n"),
        "validate": median_ms(lambda: validate(config), runs),
        "render": median_ms(lambda: render(config), runs),
    }


def load_revision(rev: str, into: str) -> ModuleType:
    """Import the lvscf package of git revision `rev` as `lvscf_at_rev`."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    archive = os.path.join(into, "lvscf.tar")
    subprocess.run(
        ["git", "-C", root, "archive", "-o", archive, rev, "lvscf"], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    package = os.path.join(into, "lvscf")
    spec = importlib.util.spec_from_file_location(
        "lvscf_at_rev",
        os.path.join(package, "__init__.py"),
        submodule_search_locations=[package],
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lvscf_at_rev"] = module  # its relative imports look it up here
    spec.loader.exec_module(module)
    return module


def paired(
    old: Callable[[], object], new: Callable[[], object], runs: int
) -> dict[str, float]:
    """Time `old` and `new` alternately (who goes first alternates too)."""
    wall: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    for run in range(runs):
        order = [("old", old), ("new", new)]
        for name, func in order if run % 2 else order[::-1]:
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            func()
            cpu[name].append((time.process_time() - start_cpu) * 1000)
            wall[name].append((time.perf_counter() - start) * 1000)
    return {
        "old": statistics.median(wall["old"]),
        "new": statistics.median(wall["new"]),
        "ratio": _median_ratio(wall["old"], wall["new"]),
        "cpu ratio": _median_ratio(cpu["old"], cpu["new"]),
    }


def _median_ratio(old: list[float], new: list[float]) -> float:
    return statistics.median(n / o for o, n in zip(old, new, strict=True))


def compare(rev: str, virtuals: int, servers: int, runs: int) -> int:
    """Print this tree against `rev` for parse, validate and render; 1 if slower."""
    canonical = render(generate(virtuals, servers))
    text = re.sub(r"\n {9}port = 8080(?=\n)", "", canonical)
    with tempfile.TemporaryDirectory() as into:
        old = load_revision(rev, into)
        config, old_config = parse(text), old.parse(text)
        steps = {
            "parse": paired(lambda: old.parse(text), lambda: parse(text), runs),
            "validate": paired(
                lambda: old.validate(old_config), lambda: validate(config), runs
            ),
            "render": paired(
                lambda: old.render(old_config), lambda: render(config), runs
            ),
        }
    print(f"this tree against {rev}, {text.count(chr(10)):,} lines, {runs} pairs:")
    ok = True
    for step, got in steps.items():
        slower = got["cpu ratio"] > 1.05
        ok &= not slower
        print(
            f"  {step:<9} {rev} {got['old']:7.1f} ms, this tree {got['new']:7.1f} ms; "
            f"ratio {got['ratio']:.3f} (CPU {got['cpu ratio']:.3f})"
            + (" SLOWER" if slower else "")
        )
    return 0 if ok else 1


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--virtuals", type=int, default=1000)
    args.add_argument("--servers", type=int, default=16)
    args.add_argument("--runs", type=int, default=15)
    args.add_argument("--no-growth", action="store_true", help="skip the 10× run")
    args.add_argument("--against", metavar="REV", help="compare with git revision")
    opts = args.parse_args()
    if opts.against:
        return compare(opts.against, opts.virtuals, opts.servers, opts.runs)
    base = measure(opts.virtuals, opts.servers, opts.runs)
    print(
        f"{opts.virtuals} virtual × {opts.servers} real servers: "
        f"{base['lines']:,} lines, {base['bytes'] / 1e6:.2f} MB"
    )
    targets = {"parse": 150.0, "validate": 100.0, "render": 50.0}
    print(
        f"  (parse of the canonical text, {base['canonical lines']:,} lines: "
        f"{base['parse canonical']:.1f} ms median)"
    )
    ok = True
    for step, target in targets.items():
        verdict = "ok" if base[step] <= target else "OVER TARGET"
        ok &= base[step] <= target
        print(
            f"  {step:<9} {base[step]:8.1f} ms median "
            f"(target ≤ {target:.0f} ms) {verdict}"
        )
    if not opts.no_growth:
        big = measure(opts.virtuals * 10, opts.servers, max(3, opts.runs // 2))
        print(f"10× ({big['lines']:,} lines):")
        for step in targets:
            ratio = big[step] / base[step]
            verdict = "ok" if ratio <= 11 else "SUPERLINEAR"
            ok &= ratio <= 11
            print(
                f"  {step:<9} {big[step]:8.1f} ms = {ratio:4.1f}× "
                f"(target ≤ 11×) {verdict}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
