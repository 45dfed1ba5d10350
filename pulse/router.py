"""pulse proper: the role, the heartbeat loops and taking the service over.

`Router` ties `Failover` (the pure decision) to the world: the heartbeat
sockets, the deadline, the link monitor, and the actions themselves, carried
out one at a time by a single worker so an activation and a deactivation never
interleave. Activation runs `active_cmd`, brings the floating addresses up,
has the daemon program its routing table, switches the sync daemon to master
and sends gratuitous ARPs; deactivation undoes all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import time
from typing import TYPE_CHECKING

import lvscf

from . import addresses, arp, links
from .failover import Action, Failover
from .heartbeat import Heartbeat, Path, paths_for
from .programs import run_bounded
from .syncdaemon import SyncDaemon

if TYPE_CHECKING:
    from .daemon import Daemon

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT = 60.0  # seconds an active_cmd / inactive_cmd may run
STOP_WAIT = 5.0  # seconds a stopping pulse waits for inactive_cmd


class NotStarting(Exception):
    """pulse decided not to run (a backup marked inactive); carries the exit code."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


def choose_role(requested: str, config: lvscf.Config, local: set[str]) -> bool:
    """True for MASTER: forced, or (auto) when `primary` is a local address."""
    if requested in ("primary", "backup"):
        return requested == "primary"
    return config.primary is not None and config.primary in local


def has_partner(config: lvscf.Config) -> bool:
    """Heartbeats flow only with backup_active = 1 and a backup address."""
    return bool(config.backup_active and config.backup and config.backup != "0.0.0.0")


class Router:
    """One router's half of the pair."""

    def __init__(
        self, daemon: Daemon, requested_role: str, force_active: bool = False
    ) -> None:
        self.daemon = daemon
        self.state = daemon.state
        self.requested = requested_role
        self.force_active = force_active
        self.config = daemon.state.config  # pulse never re-reads its globals
        self.floating = addresses.floating(self.config)
        self.failover = Failover(True, float(self.config.deadtime), time.monotonic())
        self.heartbeat: Heartbeat | None = None
        self.sync: SyncDaemon | None = None
        self.watched: list[str] = []
        self._actions: asyncio.Queue[Action] = asyncio.Queue()
        self._arps: asyncio.Task[None] | None = None
        self._commands: set[asyncio.Task[None]] = set()
        self._own: frozenset[str] = frozenset()
        self._acting = asyncio.Lock()  # one activation, deactivation or refloat

    # --- start and stop ---

    async def start(self) -> None:
        """Role, stale addresses, sockets, the passive start; NotStarting to exit."""
        config = self.config
        local = await asyncio.to_thread(addresses.local_addresses)
        master = choose_role(self.requested, config, local)
        self.state.role = "primary" if master else "backup"
        if not master and not has_partner(config):
            raise NotStarting(
                "We are backup node and backup is marked inactive -- exiting pulse"
            )
        self.state.event("STARTING PULSE AS %s", "MASTER" if master else "BACKUP")
        self.failover = Failover(master, float(config.deadtime), time.monotonic())
        if not has_partner(config):
            self.state.role = "standalone"
            if not self.floating:
                # The original waited deadtime even so; that only guards
                # addresses a partner might hold, and there are none here
                # (loopback VIPs: the web's embedded mode).
                self._push(self.failover.take_over("standalone: activating lvs"))
        if self.force_active:
            self._push(self.failover.take_over("forced active: activating lvs"))
        primary_private, backup_private = config.private_addresses()
        mine = (config.primary or "", primary_private)
        theirs = (config.backup or "", backup_private)
        if not master:
            mine, theirs = theirs, mine
        self._own = frozenset(a for a in (*mine, *theirs) if a)
        await self._remove_stale()
        if has_partner(config):
            paths = paths_for(mine, theirs)
            self.heartbeat = Heartbeat(paths, config.heartbeat_port, self._heard)
            await self.heartbeat.open()
            self.state.partner = theirs[0]
            self.state.paths = paths
        if config.monitor_links:
            names = {f.link for f in self.floating}
            own = [a for a in mine if a]
            names.update(await asyncio.to_thread(links.links_holding, own))
            self.watched = sorted(names)
        if config.syncdaemon and self.daemon.dataplane.name == "ipvs":
            self.sync = SyncDaemon(config.ipvsadm, config.syncd_iface, config.syncd_id)
            await self.sync.become("backup")
        self._command(config.inactive_cmd, "inactive_cmd")

    async def _remove_stale(self) -> None:
        """A killed pulse leaves its addresses up: take them down first."""
        for item in self.floating:
            try:
                if await asyncio.to_thread(addresses.remove, item, self._own):
                    self.state.event("removed stale address %s", item)
            except addresses.AddressError as exc:
                self.state.event("%s", exc, level=logging.ERROR)

    async def stop(self) -> None:
        """Deactivate, tell the partner at once, close everything."""
        if self.failover.active or self.state.active:
            self.failover.active = False
            self.state.failover_event("pulse stopping: deactivating lvs")
            await self._deactivate()
        if self.heartbeat is not None:
            self.heartbeat.send(self.failover.says())  # the partner needn't wait
            self.heartbeat.close()
        await cancel(self._arps)
        if self._commands:  # let inactive_cmd finish, within bounds
            await asyncio.wait(list(self._commands), timeout=STOP_WAIT)
        for task in list(self._commands):
            await cancel(task)
        if self.sync is not None:
            await self.sync.stop()

    # --- the loops ---

    async def run(self) -> None:
        """The heartbeat, deadline, link and action loops, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._worker())
            group.create_task(self._deadline_loop())
            if self.heartbeat is not None:
                group.create_task(self._send_loop(self.heartbeat))
            if self.watched:
                group.create_task(self._links_loop())

    async def _send_loop(self, heartbeat: Heartbeat) -> None:
        keepalive = float(max(1, self.config.keepalive))
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            heartbeat.send(self.failover.says())
            due += keepalive
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def _deadline_loop(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self.failover.deadline - time.monotonic()))
            self._push(self.failover.expired(time.monotonic()))

    async def _links_loop(self) -> None:
        failed = False
        while True:
            down = await asyncio.to_thread(links.down_links, self.watched)
            self.state.links_down = down
            if down and not failed:
                self._push(self.failover.link_lost(down))
            elif failed and not down:
                self._push(self.failover.link_restored(time.monotonic()))
            failed = bool(down)
            await asyncio.sleep(links.POLL)

    def _heard(self, path: Path, says: str) -> None:
        self._push(self.failover.heard(says, time.monotonic()))

    def table_failed(self) -> None:
        """The daemon's table keeps failing: step down (the original's CHILDFAIL)."""
        self._push(self.failover.table_failed())

    def _push(self, action: Action | None) -> None:
        if action is not None:
            self._actions.put_nowait(action)

    async def _worker(self) -> None:
        while True:
            action = await self._actions.get()
            async with self._acting:
                await self._carry_out(action)

    async def _carry_out(self, action: Action) -> None:
        if action.kind == "log":
            self.state.failover_event(action.message, level=logging.WARNING)
            return
        self.state.failover_event(action.message)
        if action.kind == "activate":
            await self._activate()
        elif action.kind == "deactivate":
            if action.send_first and self.heartbeat is not None:
                self.heartbeat.send("running")
            await self._deactivate()
        elif action.kind == "resend":
            self._command(self.config.active_cmd, "active_cmd")
            self._announce()

    async def refloat(self, config: lvscf.Config) -> None:
        """After a reload: bring new VIPs up and old ones down (if active).

        pulse keeps the global settings it started with, as the original
        did; the virtual servers' addresses follow the running configuration.
        """
        async with self._acting:
            old, self.floating = self.floating, addresses.floating(config)
            if not self.state.active:
                return
            for item in old:
                if item not in self.floating:
                    await self._remove(item)
            # Every address, not only the new ones: deleting the primary address
            # of a subnet also deletes its secondaries (promote_secondaries = 0),
            # so a VIP that stays may have gone with one that left.
            added = [item for item in self.floating if await self._add(item)]
            for item in added:
                if item in old:
                    self.state.event(
                        "%s went with a removed address; added again", item
                    )
            if added:
                self._announce()

    async def _add(self, item: addresses.Floating) -> bool:
        """Bring one address up; True when it was not up before."""
        try:
            return await asyncio.to_thread(addresses.add, item)
        except addresses.AddressError as exc:
            self.state.event("%s", exc, level=logging.ERROR)
            return False

    async def _remove(self, item: addresses.Floating) -> None:
        try:
            await asyncio.to_thread(addresses.remove, item, self._own)
        except addresses.AddressError as exc:
            self.state.event("%s", exc, level=logging.ERROR)

    # --- activation ---

    async def _activate(self) -> None:
        self._command(self.config.active_cmd, "active_cmd")
        for item in self.floating:
            await self._add(item)
        await self.daemon.set_active(True)
        if self.sync is not None:
            await self.sync.become("master")
        self._announce()

    async def _deactivate(self) -> None:
        if self._arps is not None:
            self._arps.cancel()  # no more announcing what we give up
        self._command(self.config.inactive_cmd, "inactive_cmd")
        if self.sync is not None:
            await self.sync.become("backup")
        await self.daemon.set_active(False)
        for item in self.floating:
            await self._remove(item)

    def _announce(self) -> None:
        """(Re)start the five rounds of gratuitous ARPs."""
        if self._arps is not None:
            self._arps.cancel()
        targets = [(f.link, f.address) for f in self.floating]
        if targets:
            self._arps = asyncio.get_running_loop().create_task(arp.announce(targets))

    def _command(self, command: str | None, what: str) -> None:
        """Run active_cmd / inactive_cmd in the background, without a shell."""
        if not command:
            return
        try:
            argv = shlex.split(command.strip('"'))
        except ValueError as exc:  # an unbalanced quote: nothing safe to run
            self.state.event("%s not run: %s", what, exc, level=logging.ERROR)
            return
        if not argv:
            return
        task = asyncio.get_running_loop().create_task(self._run_command(argv, what))
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _run_command(self, argv: list[str], what: str) -> None:
        code, _, error = await run_bounded(argv, COMMAND_TIMEOUT, self.state.children)
        if code != 0:
            self.state.event(
                "%s %s failed: %s", what, argv[0], error or f"exit {code}",
                level=logging.ERROR,
            )  # fmt: skip


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a task and wait for it to end."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
