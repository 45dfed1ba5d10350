"""Kernel IPVS through the ipvsadm program, with the original's command lines.

`ipvsadm --set T F U`, `-A|-E|-D SVC -s SCHED [-p P [-M MASK]]`,
`-a|-e SVC -r RIP:PORT -m|-g|-i -w W` and `-d SVC -r RIP:PORT`, where SVC is
`-t VIP:PORT`, `-u VIP:PORT` or `-f MARK`. Unlike lvsd it never runs
`ipvsadm -C`: services it did not create are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import lvscf

from ..lvs import DataplaneError, Entry, Op, ServiceKey, Table, apply_op, diff
from ..probes import run_bounded

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT = 10.0  # seconds for one ipvsadm run; it normally takes ms


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


class IpvsDataplane:
    """Programs IPVS by running ipvsadm, one command per change."""

    name = "ipvs"

    def __init__(self) -> None:
        self.ipvsadm = lvscf.Config().ipvsadm
        self._timeouts: tuple[int, int, int] | None = None
        self._table: dict[ServiceKey, Entry] = {}

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
        # Reading the kernel's counters needs netlink or parsing `ipvsadm -L
        # --stats`; the status view shows the table without them for now.
        return {}

    async def close(self) -> None:
        await self.apply({})

    async def _run(self, args: list[str]) -> None:
        argv = [self.ipvsadm, *args]
        code, _, error = await run_bounded(argv, COMMAND_TIMEOUT)
        if error or code != 0:
            line = " ".join(argv)
            raise DataplaneError(f"{line} command failed! ({error or f'exit {code}'})")
        logger.debug("ran %s", " ".join(argv))
