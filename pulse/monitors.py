"""The health monitors of a runtime: one per active real server, kept in step.

`Monitors.sync(config)` keeps the monitors whose target and timing did not
change, restarts changed ones carrying their health over, and stops those of
real servers that left; `slots()` is each real server's place in the table,
with the drain/maint admin states applied.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

import lvscf

from .lvs import ServerId, Slot, active_servers, active_virtuals
from .nanny import Hysteresis, Monitor, Target, spread
from .probes import Check
from .state import RuntimeState, ServerStatus

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 10.0  # seconds to wait for stopped monitors to end


class Monitors:
    """The running monitors, by (virtual, real server) name."""

    def __init__(self, state: RuntimeState) -> None:
        self.state = state
        self.running: dict[ServerId, Monitor] = {}

    def _targets(
        self, config: lvscf.Config
    ) -> dict[ServerId, tuple[Target, Hysteresis]]:
        targets = {}
        for virtual in active_virtuals(config):
            check = Check.for_virtual(virtual)
            for server in active_servers(virtual):
                target = Target(
                    server.address,
                    server.port,
                    check,
                    float(max(1, virtual.timeout)),
                    virtual.load_monitor,
                    config.rsh_command,
                )
                hysteresis = Hysteresis.for_timing(
                    server.weight,
                    virtual.timeout,
                    virtual.reentry,
                    virtual.quiesce_server,
                )
                targets[(virtual.name, server.name)] = (target, hysteresis)
        return targets

    def sync(self, config: lvscf.Config) -> None:
        """Keep unchanged monitors; restart changed ones with their state."""
        targets = self._targets(config)
        gone = [key for key in self.running if key not in targets]
        for key in gone:
            self.running.pop(key).stop()
            self.state.servers.pop(key, None)
        for key, (target, fresh) in targets.items():
            old = self.running.get(key)
            if (
                old is not None
                and old.target == target
                and _same(old.hysteresis, fresh)
            ):
                continue
            if old is not None:
                old.stop()
                if (old.target.address, old.target.port) == (
                    target.address,
                    target.port,
                ):
                    fresh = _carry(old.hysteresis, fresh)
            self._start(key, target, fresh)

    def _start(self, key: ServerId, target: Target, hysteresis: Hysteresis) -> None:
        status = ServerStatus(
            key[0], key[1], target.address, target.port, hysteresis.weight
        )
        old = self.state.servers.get(key)
        if old is not None and (old.address, old.port) == (target.address, target.port):
            status = old
            status.configured_weight = hysteresis.weight
        self.state.servers[key] = status
        monitor = Monitor(
            target, hysteresis, status, self._on_change, self.state.children
        )
        monitor.start(spread(f"{key[0]}/{key[1]}", target.interval))
        if monitor.task is not None:
            monitor.task.add_done_callback(self._monitor_done)
        self.running[key] = monitor

    def _monitor_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("monitor crashed", exc_info=task.exception())

    async def stop(self, keys: list[ServerId]) -> None:
        monitors = [self.running.pop(key) for key in keys]
        for monitor in monitors:
            monitor.stop()
        tasks = [m.task for m in monitors if m.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT)

    def _on_change(self, monitor: Monitor, change: str | None) -> None:
        status = monitor.status
        hysteresis = monitor.hysteresis
        status.weight = hysteresis.slot_weight()
        if change == "up":
            self.state.event("[ active ] making %s available", monitor.endpoint)
        elif change == "down":
            if status.health == "up":
                status.flaps += 1
                self.state.event(
                    "[inactive] shutting down %s due to connection failure",
                    monitor.endpoint,
                    level=logging.WARNING,
                )
        if change in ("up", "down"):
            status.health = _health(hysteresis)
            self.state.health_changed.add((status.virtual, status.server))
            status.last_change = time.monotonic()
        if change is not None:
            self.state.changed.set()

    def slots(self) -> Mapping[ServerId, Slot]:
        """Each real server's place in the table, admin states applied."""
        slots = {}
        for key, monitor in self.running.items():
            admin = self.state.admin.get(key)
            hysteresis = monitor.hysteresis
            weight = hysteresis.slot_weight()
            if admin == "maint":
                slots[key] = Slot(None, False)
            elif admin == "drain":
                slots[key] = Slot(0 if weight is not None else None, hysteresis.up)
            else:
                slots[key] = Slot(weight, hysteresis.up)
        return slots


def _same(a: Hysteresis, b: Hysteresis) -> bool:
    return (a.weight, a.threshold, a.quiesce) == (b.weight, b.threshold, b.quiesce)


def _carry(old: Hysteresis, fresh: Hysteresis) -> Hysteresis:
    """A changed check keeps the server's health; the weight is re-capped."""
    fresh.up, fresh.streak = old.up, old.streak
    fresh.current = min(old.current, fresh.weight) if old.up else 0
    return fresh


def _health(hysteresis: Hysteresis) -> str:
    if hysteresis.up:
        return "up"
    if hysteresis.up is False:
        return "quiesced" if hysteresis.quiesce else "down"
    return "unknown"
