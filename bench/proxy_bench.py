"""Benchmark of the userspace dataplane against a direct path and HAProxy.

One backend (Debian's haproxy in HTTP mode answering 200 itself, so the
backend is never the slow part), then wrk against: the backend directly,
pulse's userspace proxy (`python -m pulse run`, uvloop when installed), and
haproxy in TCP mode with the same backend; each with keep-alive and with a
new connection per request, in several rounds. Target: userspace ≥ 50 % of
HAProxy's rate on both (the median of the per-round ratios). Needs
`haproxy` and `wrk` (apt-get install haproxy wrk). Loopback only; every
process is stopped at the end.

    python bench/proxy_bench.py [--seconds 5] [--connections 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKEND, PULSE, HAPROXY = "127.0.0.71", "127.0.0.70", "127.0.0.72"

BACKEND_CFG = """global
    maxconn 4000
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend backend
    bind {host}:{port}
    http-request return status 200 content-type text/plain string ok
"""

TCP_PROXY_CFG = """global
    maxconn 4000
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen proxy
    bind {host}:{port}
    server b1 {backend}:{port}
"""

LVS_CF = """serial_no = 1
primary = 127.0.0.1
network = direct
virtual bench {{
     active = 1
     address = {host} lo
     port = {port}
     scheduler = wlc
     timeout = 2
     reentry = 2
     server b1 {{
         address = {backend}
         active = 1
     }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((BACKEND, 0))
        return int(sock.getsockname()[1])


def wait_listening(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def wrk(host: str, port: int, seconds: int, connections: int, close: bool) -> float:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    if close:
        argv += ["-H", "Connection: close"]
    out = subprocess.run(
        [*argv, f"http://{host}:{port}/"],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(
            f"  warning: {errors.group(1)} bad responses from {host}", file=sys.stderr
        )
    return float(match.group(1)) if match else 0.0


def start(argv: list[str], processes: list[subprocess.Popen[bytes]]) -> None:
    processes.append(
        subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )


def run(seconds: int, connections: int, rounds: int) -> int:
    for tool in ("haproxy", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install -y haproxy wrk")
            return 2
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp)
        (files / "backend.cfg").write_text(BACKEND_CFG.format(host=BACKEND, port=port))
        (files / "proxy.cfg").write_text(
            TCP_PROXY_CFG.format(host=HAPROXY, port=port, backend=BACKEND)
        )
        (files / "lvs.cf").write_text(
            LVS_CF.format(host=PULSE, port=port, backend=BACKEND)
        )
        try:
            start(["haproxy", "-db", "-f", str(files / "backend.cfg")], processes)
            start(["haproxy", "-db", "-f", str(files / "proxy.cfg")], processes)
            start(
                [sys.executable, "-m", "pulse", "run", "--foreground", "--config",
                 str(files / "lvs.cf"), "--control-socket", str(files / "pulse.sock")],
                processes,
            )  # fmt: skip
            for host in (BACKEND, HAPROXY, PULSE):
                wait_listening(host, port)
            time.sleep(1)  # pulse adds the backend after its first check
            return measure(port, seconds, connections, rounds)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


PATHS = (("direct", BACKEND), ("userspace", PULSE), ("haproxy", HAPROXY))
MODES = ((False, "keep-alive"), (True, "new conn/req"))


def measure(port: int, seconds: int, connections: int, rounds: int) -> int:
    """Rounds of every path in turn; medians of the rates and of the ratios.

    The machine may be shared: a ratio is taken between runs of the same
    round (seconds apart), and the median over rounds is what counts.
    """
    rates: dict[tuple[str, bool], list[float]] = {}
    ratios: dict[bool, list[float]] = {False: [], True: []}
    print(f"wrk -t1 -c{connections} -d{seconds}s, requests/s ({os.cpu_count()} cores)")
    for number in range(1, rounds + 1):
        for close, label in MODES:
            got = {
                name: wrk(host, port, seconds, connections, close)
                for name, host in PATHS
            }
            for name, rate in got.items():
                rates.setdefault((name, close), []).append(rate)
            ratios[close].append(got["userspace"] / max(got["haproxy"], 1.0))
            print(
                f"round {number} {label:<13}"
                + "".join(f"{name} {rate:>8,.0f}  " for name, rate in got.items())
                + f"userspace/haproxy {ratios[close][-1] * 100:.0f} %"
            )
    print(f"medians over {rounds} rounds:")
    print(f"{'path':<12}{'keep-alive':>14}{'new conn/req':>16}")
    for name, _ in PATHS:
        keep = statistics.median(rates[name, False])
        new = statistics.median(rates[name, True])
        print(f"{name:<12}{keep:>14,.0f}{new:>16,.0f}")
    ok = True
    for close, label in MODES:
        ratio = statistics.median(ratios[close])
        spread = ", ".join(f"{r * 100:.0f}" for r in ratios[close])
        ok &= ratio >= 0.5
        print(
            f"userspace / haproxy, {label}: median {ratio * 100:.0f} % "
            f"(rounds: {spread}; target ≥ 50 %)"
        )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    return run(args.seconds, args.connections, args.rounds)


if __name__ == "__main__":
    raise SystemExit(main())
