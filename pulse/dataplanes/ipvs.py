"""Kernel IPVS through the ipvsadm program, with the original's command lines.

`ipvsadm --set T F U`, `-A|-E|-D SVC -s SCHED [-p P [-M MASK]]`,
`-a|-e SVC -r RIP:PORT -m|-g|-i -w W` and `-d SVC -r RIP:PORT`, where SVC is
`-t VIP:PORT`, `-u VIP:PORT` or `-f MARK`. Unlike lvsd it never runs
`ipvsadm -C`: services it did not create are left alone. The kernel's
counters (active and inactive connections, connections, packets, bytes) are
read back with `ipvsadm -L -n --exact [--stats]` when status asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import lvscf

from ..lvs import DataplaneError, Entry, Op, ServiceKey, Table, apply_op, diff
from ..programs import run_bounded

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT = 10.0  # seconds for one ipvsadm run; it normally takes ms
COUNTERS_AGE = 1.0  # seconds: counters older than this are read again on demand


def service_args(op: Op) -> list[str]:
    """-A/-E's tail: scheduler, then persistence and its netmask."""
    spec = op.spec
    args = ["-s", spec.scheduler]
    if spec.persistent:
        args += ["-p", str(spec.persistent)]
        if spec.pmask:
            args += ["-M", spec.pmask]
    return args


def command(op: Op) -> list[str]:
    """The ipvsadm arguments for one operation, in the original's order."""
    svc = op.spec.key.ipvsadm()
    real = ["-r", f"{op.dest[0]}:{op.dest[1]}"] if op.dest else []
    flag = {
        "add-service": "-A",
        "edit-service": "-E",
        "del-service": "-D",
        "add-dest": "-a",
        "edit-dest": "-e",
        "del-dest": "-d",
    }[op.kind]
    if op.kind in ("add-service", "edit-service"):
        return [flag, *svc, *service_args(op)]
    if op.kind in ("add-dest", "edit-dest"):
        return [flag, *svc, *real, f"-{op.spec.forward}", "-w", str(op.weight)]
    return [flag, *svc, *real]


def _service(fields: list[str]) -> ServiceKey | None:
    """The service of a listing line: `TCP  VIP:PORT …` or `FWM  MARK …`."""
    protocol = fields[0].lower()
    if protocol == "fwm" and fields[1].isdigit():
        return ServiceKey("fwm", "", int(fields[1]))
    if protocol in ("tcp", "udp"):
        address, port = _endpoint(fields[1])
        return ServiceKey(protocol, address, port)
    return None  # SCTP and anything else is not ours


def _endpoint(text: str) -> tuple[str, int]:
    """`10.0.0.1:80` or `[2001:db8::1]:80`."""
    address, _, port = text.rpartition(":")
    return address.strip("[]"), int(port)


def _rows(text: str) -> list[tuple[ServiceKey, str | None, list[str]]]:
    """(service, "RIP:PORT" or None for the service line, numbers) per line."""
    rows: list[tuple[ServiceKey, str | None, list[str]]] = []
    service: ServiceKey | None = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0] in ("Prot", "IP"):
            continue
        if fields[0] == "->":
            if service is not None and fields[1] != "RemoteAddress:Port":
                address, port = _endpoint(fields[1])
                rows.append((service, f"{address}:{port}", fields[2:]))
        else:
            service = _service(fields)
            if service is not None:
                rows.append((service, None, fields[2:]))
    return rows


STATS = ("conns", "packets_in", "packets_out", "bytes_in", "bytes_out")


def parse_counters(table: str, stats: str) -> dict[ServiceKey, dict[str, Any]]:
    """Counters per service from `ipvsadm -L -n --exact` and its `--stats`.

    Per real server: weight, active and inactive connections (the table),
    connections, packets and bytes both ways (the stats); per service the
    sums, as `UserspaceDataplane.counters()` gives them.
    """
    counters: dict[ServiceKey, dict[str, Any]] = {}
    for key, dest, numbers in _rows(table):
        entry = counters.setdefault(key, {"dests": {}})
        if dest is not None and len(numbers) >= 4:
            weight, active, inactive = (int(n) for n in numbers[1:4])
            entry["dests"][dest] = {
                "weight": weight,
                "active": active,
                "inactive": inactive,
            }
    for key, dest, numbers in _rows(stats):
        entry = counters.setdefault(key, {"dests": {}})
        values = dict(zip(STATS, (int(n) for n in numbers[:5]), strict=False))
        if dest is None:
            entry.update(values)
        else:
            entry["dests"].setdefault(dest, {}).update(values)
    for entry in counters.values():
        for name in ("active", "inactive"):
            entry[name] = sum(d.get(name, 0) for d in entry["dests"].values())
    return counters


class IpvsDataplane:
    """Programs IPVS by running ipvsadm, one command per change."""

    name = "ipvs"

    def __init__(self) -> None:
        self.ipvsadm = lvscf.Config().ipvsadm
        self._timeouts: tuple[int, int, int] | None = None
        self._table: dict[ServiceKey, Entry] = {}
        self._counters: dict[ServiceKey, dict[str, Any]] = {}
        self._read_at = -COUNTERS_AGE
        self._reading: asyncio.Task[None] | None = None
        self._version = 0  # bumped on each change of the table or the counters

    async def configure(self, config: lvscf.Config) -> None:
        """lvsd ran `--set` at start, and on reload when the timeouts changed."""
        self.ipvsadm = config.ipvsadm
        timeouts = (config.tcp_timeout, config.tcpfin_timeout, config.udp_timeout)
        if timeouts != self._timeouts:
            await self._run(["--set", *map(str, timeouts)])
            self._timeouts = timeouts

    async def apply(self, table: Table) -> None:
        for op in diff(self._table, table):
            await self._finish(op)
            self._version += 1

    async def _finish(self, op: Op) -> None:
        """Run one command to its end, even when the caller is cancelled.

        A shutdown cancels the table update in flight; the command it was
        running may already have changed the kernel's table, so it is waited
        for and recorded, and `close()` then removes what it added.
        """
        running = asyncio.get_running_loop().create_task(self._run(command(op)))
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            with contextlib.suppress(DataplaneError):
                await running
                apply_op(self._table, op)
            raise
        apply_op(self._table, op)

    def current(self) -> Table:
        return dict(self._table)

    def counters(self) -> dict[ServiceKey, dict[str, Any]]:
        """The kernel's counters of our services, as last read (≤ ~1 s old).

        Reading runs ipvsadm twice, so it happens in the background when
        someone asks and the last reading is older than COUNTERS_AGE: the
        status poll never waits for a program.
        """
        loop = asyncio.get_running_loop()
        fresh = loop.time() - self._read_at < COUNTERS_AGE
        if not fresh and (self._reading is None or self._reading.done()):
            self._reading = loop.create_task(self.read_counters())
        return {
            key: self._counters[key] for key in self._table if key in self._counters
        }

    def versions(self) -> dict[ServiceKey, int]:
        """Per service, a number that changes whenever its status may have."""
        self.counters()  # a status poll reads the kernel's counters again
        return dict.fromkeys(self._table, self._version)

    def service(self, key: ServiceKey) -> tuple[Entry, dict[str, Any]]:
        """One service's entry and counters (what current/counters hold for it)."""
        return self._table[key], self._counters.get(key, {})

    async def read_counters(self) -> None:
        """`ipvsadm -L -n --exact` and `--stats`, parsed into the counters."""
        self._read_at = asyncio.get_running_loop().time()
        try:
            table = await self._output(["-L", "-n", "--exact"])
            stats = await self._output(["-L", "-n", "--exact", "--stats"])
        except DataplaneError as exc:
            logger.warning("cannot read the counters: %s", exc)
            return
        self._counters = parse_counters(table, stats)
        self._version += 1

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
        await self.apply({})

    async def _run(self, args: list[str]) -> None:
        await self._output(args)

    async def _output(self, args: list[str]) -> str:
        argv = [self.ipvsadm, *args]
        code, output, error = await run_bounded(argv, COMMAND_TIMEOUT)
        if error or code != 0:
            line = " ".join(argv)
            raise DataplaneError(f"{line} command failed! ({error or f'exit {code}'})")
        logger.debug("ran %s", " ".join(argv))
        return output.decode("utf-8", "replace")
