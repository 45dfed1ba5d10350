"""The IPVS connection-sync daemon, driven with the original's ipvsadm lines.

The active router runs it as master, the passive one as backup:
`ipvsadm --stop-daemon backup|master` and
`ipvsadm --start-daemon master|backup --mcast-interface IF --syncid ID`.
Only the ipvs dataplane has one; the others keep no kernel connection table.
"""

from __future__ import annotations

import logging

from .programs import run_bounded

logger = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds for one ipvsadm run


class SyncDaemon:
    """Which sync daemon state we started, so it can be switched and stopped."""

    def __init__(self, ipvsadm: str, interface: str, syncid: int) -> None:
        self.ipvsadm, self.interface, self.syncid = ipvsadm, interface, syncid
        self.state: str | None = None

    async def become(self, state: str) -> None:
        """Run as "master" or "backup" (stopping the other state first)."""
        other = "backup" if state == "master" else "master"
        await self._run(["--stop-daemon", other])
        await self._run(
            ["--start-daemon", state, "--mcast-interface", self.interface]
            + ["--syncid", str(self.syncid)]
        )
        self.state = state

    async def stop(self) -> None:
        if self.state is not None:
            await self._run(["--stop-daemon", self.state])
            self.state = None

    async def _run(self, args: list[str]) -> None:
        code, _, error = await run_bounded([self.ipvsadm, *args], TIMEOUT)
        if code != 0:
            logger.error(
                "%s %s command failed! %s", self.ipvsadm, " ".join(args), error
            )
