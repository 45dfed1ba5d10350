"""A recording ipvsadm for the tests: keeps the table its commands build.

Run as a program (`python fake_ipvsadm.py STATE_DIR ARGS...`, through the
wrapper script `helpers.FakeIpvsadm` writes). It appends each command line to
`ipvsadm.log`, fails with exit 2 while `ipvsadm.fail` exists, keeps the table
in `table.json` and refuses what the kernel refuses (a real server for a
service that does not exist, a service or real server added twice, an edit
or delete of one that is not there). `-L -n [--exact] [--stats]` prints the
table in ipvsadm's own layout; the counters come from `traffic.json`, which
a test writes to stand in for the kernel's traffic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Table = dict[str, dict[str, Any]]  # "TCP  VIP:PORT" -> scheduler, flags, dests
Traffic = dict[str, dict[str, int]]  # "RIP:PORT" -> counter -> value

FORWARD = {"-m": "Masq", "-g": "Route", "-i": "Tunnel"}
PROTOCOL = {"-t": "TCP", "-u": "UDP", "-f": "FWM"}
VERSION = "IP Virtual Server version 1.2.1 (size=4096)"


def main(directory: Path, args: list[str]) -> int:
    with open(directory / "ipvsadm.log", "a") as log:
        log.write(" ".join(args) + "\n")
    if (directory / "ipvsadm.fail").exists():
        return 2
    state = directory / "table.json"
    table = json.loads(state.read_text()) if state.exists() else {}
    if args and args[0] in ("-L", "-l"):
        traffic_file = directory / "traffic.json"
        traffic = json.loads(traffic_file.read_text()) if traffic_file.exists() else {}
        print("\n".join(listing(table, traffic, "--stats" in args)))
        return 0
    error = change(table, args)
    if error:
        print(error, file=sys.stderr)
        return 2
    partial = state.with_suffix(".tmp")  # the test reads it meanwhile: replace whole
    partial.write_text(json.dumps(table))
    partial.replace(state)
    return 0


def options(args: list[str]) -> dict[str, str]:
    """Each option and its value (the forwarding flags map to themselves)."""
    got: dict[str, str] = {}
    i = 1
    while i < len(args):
        if args[i] in FORWARD:
            got["forward"] = FORWARD[args[i]]
            i += 1
        else:
            got[args[i]] = args[i + 1] if i + 1 < len(args) else ""
            i += 2
    return got


def change(table: Table, args: list[str]) -> str:
    command, opts = args[0], options(args)
    if command == "--set":
        return ""
    flag = next((f for f in PROTOCOL if f in opts), None)
    if flag is None:
        return "no service given"
    service = f"{PROTOCOL[flag]}  {opts[flag]}"
    if command in ("-A", "-E", "-D"):
        return change_service(table, command, service, opts)
    if service not in table:
        return "Service not defined"
    dests = table[service]["dests"]
    real = opts.get("-r", "")
    if command == "-a" and real in dests:
        return "Destination already exists"
    if command in ("-e", "-d") and real not in dests:
        return "No such destination"
    if command == "-d":
        del dests[real]
    else:
        dests[real] = {
            "forward": opts.get("forward", "Route"),
            "weight": int(opts["-w"]),
        }
    return ""


def change_service(
    table: Table, command: str, service: str, opts: dict[str, str]
) -> str:
    if command == "-A" and service in table:
        return "Service already exists"
    if command in ("-E", "-D") and service not in table:
        return "Service not defined"
    if command == "-D":
        del table[service]
        return ""
    flags = f" persistent {opts['-p']}" if "-p" in opts else ""
    if "-p" in opts and "-M" in opts:
        flags += f" mask {opts['-M']}"
    dests = table[service]["dests"] if service in table else {}
    table[service] = {"scheduler": opts["-s"], "flags": flags, "dests": dests}
    return ""


def listing(table: Table, traffic: Traffic, stats: bool) -> list[str]:
    """ipvsadm -L -n's layout (with --stats: connections, packets, bytes)."""
    lines = [VERSION]
    if stats:
        lines.append(
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts"
            "  InBytes OutBytes"
        )
        lines.append("  -> RemoteAddress:Port")
    else:
        lines.append("Prot LocalAddress:Port Scheduler Flags")
        lines.append(
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"
        )
    for service, entry in table.items():
        counts = [traffic.get(dest, {}) for dest in entry["dests"]]
        if stats:
            totals = [sum(c.get(k, 0) for c in counts) for k in STATS]
            lines.append(f"{service:<33}" + "".join(f" {n:>8}" for n in totals))
        else:
            lines.append(f"{service} {entry['scheduler']}{entry['flags']}")
        for (dest, real), count in zip(entry["dests"].items(), counts, strict=True):
            if stats:
                numbers = "".join(f" {count.get(k, 0):>8}" for k in STATS)
                lines.append(f"  -> {dest:<28}{numbers}")
            else:
                lines.append(
                    f"  -> {dest:<28} {real['forward']:<7} {real['weight']:<6} "
                    f"{count.get('active', 0):<10} {count.get('inactive', 0):<10}"
                )
    return lines


STATS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes")


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), sys.argv[2:]))
