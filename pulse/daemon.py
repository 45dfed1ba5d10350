"""The runtime's lifecycle: start up, run the loops, reload, shut down.

`Daemon.serve()` is the whole life of one pulse process: start-up (config,
dataplane, control socket, one monitor per active real server), the loops in
an `asyncio.TaskGroup`, then a bounded graceful shutdown that removes every
service the runtime added. Signal handlers only set events. `running()` is
the same life as an async context manager, for tests and embedding.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import lvscf

from . import config as config_module
from .control import ControlServer
from .dataplanes import DATAPLANES, Dataplane
from .lvs import (
    COALESCE,
    RETRY_DELAY,
    STEP_DOWN_AFTER,
    DataplaneError,
    ServerId,
    Slot,
    active_servers,
    active_virtuals,
    desired_table,
    service_key,
)
from .nanny import Hysteresis, Monitor, Target, spread
from .probes import Check
from .router import NotStarting, Router, has_partner
from .state import RuntimeState, ServerStatus

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 10.0  # seconds for a graceful shutdown before cancelling


@dataclass(frozen=True)
class Options:
    """How to run: the command line's options."""

    config_path: str
    dataplane: str = "userspace"
    control_socket: str | None = None
    pidfile: str | None = None
    role: str = "auto"  # auto (from the local addresses), primary or backup
    # The CLI always runs pulse proper (heartbeat, floating addresses, ARP).
    # Without it the runtime is lvsd alone: active at once, no addresses
    # touched, as embedded in tests and benchmarks.
    failover: bool = False


class Daemon:
    """One pulse runtime."""

    def __init__(self, options: Options, dataplane: Dataplane | None = None) -> None:
        self.options = options
        self.state = RuntimeState(options.config_path, options.dataplane)
        self.dataplane = dataplane or DATAPLANES[options.dataplane]()
        self.monitors: dict[ServerId, Monitor] = {}
        self.control: ControlServer | None = None
        self.router: Router | None = None
        self.state.active = not options.failover
        self._applying = asyncio.Lock()
        self.ready = asyncio.Event()
        self._retry: asyncio.TimerHandle | None = None
        self._sorry: set[str] = set()
        self._reloading = asyncio.Lock()

    # --- start-up and shutdown ---

    async def startup(self) -> None:
        loaded = config_module.load(self.options.config_path)
        self._take(loaded)
        try:
            await self.dataplane.configure(loaded.config)
        except (DataplaneError, ValueError) as exc:
            raise config_module.ConfigError(
                f"dataplane {self.dataplane.name}: {exc}"
            ) from exc
        if self.options.failover:
            self.router = Router(self, self.options.role)
            await self.router.start()
        if self.options.control_socket:
            self.control = ControlServer(self, self.options.control_socket)
            await self.control.start()
        if self.options.pidfile:
            with open(self.options.pidfile, "w") as pidfile:
                pidfile.write(f"{os.getpid()}\n")
        for virtual in active_virtuals(loaded.config):
            self.state.event(
                "starting virtual service %s active: %s", virtual.name, virtual.port
            )
        self._sync_monitors(loaded.config)
        await self.sync_table()
        self.state.phase = "running"
        self.ready.set()

    async def shutdown(self) -> None:
        """Remove what the runtime added; bounded, never leaves a child."""
        self.state.phase = "stopping"
        if self.router is not None:
            await self.router.stop()
        if self._retry is not None:
            self._retry.cancel()
        await self._stop_monitors(list(self.monitors))
        for virtual in active_virtuals(self.state.config):
            self.state.event("shutting down virtual service %s", virtual.name)
        try:
            async with asyncio.timeout(SHUTDOWN_TIMEOUT):
                await self.dataplane.close()
        except (DataplaneError, TimeoutError) as exc:
            self.state.event(
                "could not clean the dataplane: %s", exc, level=logging.ERROR
            )
        if self.control is not None:
            await self.control.close()
        if self.options.pidfile:
            with contextlib.suppress(OSError):
                os.unlink(self.options.pidfile)
        self.state.phase = "stopped"

    async def serve(self) -> int:
        """The whole life: start, run until stopped, shut down; the exit code."""
        try:
            await self.startup()
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._table_loop()),
                    group.create_task(self._reload_loop()),
                ]
                if self.router is not None:
                    tasks.append(group.create_task(self.router.run()))
                await self.state.stop.wait()
                for task in tasks:
                    task.cancel()
        except NotStarting as exc:
            self.state.event("%s", exc)
            self.state.exit_code = exc.code
        finally:
            await self.shutdown()
        return self.state.exit_code

    # --- configuration ---

    def _take(self, loaded: config_module.Loaded) -> None:
        self.state.config = loaded.config
        self.state.sha256 = loaded.sha256
        self.state.problems = loaded.problems

    async def reload(self) -> str:
        """Re-read lvs.cf and apply every change as a diff; "" or the error."""
        async with self._reloading:
            return await self._reload()

    async def _reload(self) -> str:
        try:
            loaded = config_module.load(self.options.config_path)
        except config_module.ConfigError as exc:
            self.state.event(
                "reload refused, keeping the running configuration:\n%s",
                exc,
                level=logging.ERROR,
            )
            return str(exc)
        old = {v.name for v in active_virtuals(self.state.config)}
        self._take(loaded)
        new = {v.name for v in active_virtuals(loaded.config)}
        for name in sorted(old - new):
            self.state.event("shutting down virtual service %s", name)
        for virtual in active_virtuals(loaded.config):
            if virtual.name not in old:
                self.state.event(
                    "starting virtual service %s active: %s", virtual.name, virtual.port
                )
        try:
            await self.dataplane.configure(loaded.config)
        except DataplaneError as exc:
            self._dataplane_failed(exc)
        self._sync_monitors(loaded.config)
        self.state.event("configuration reloaded (serial %s)", loaded.config.serial_no)
        self.state.changed.set()
        return ""

    async def _reload_loop(self) -> None:
        while True:
            await self.state.reload.wait()
            self.state.reload.clear()
            await self.reload()

    # --- monitors ---

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

    def _sync_monitors(self, config: lvscf.Config) -> None:
        """Keep unchanged monitors; restart changed ones with their state."""
        targets = self._targets(config)
        gone = [key for key in self.monitors if key not in targets]
        for key in gone:
            self.monitors.pop(key).stop()
            self.state.servers.pop(key, None)
        for key, (target, fresh) in targets.items():
            old = self.monitors.get(key)
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
            self._start_monitor(key, target, fresh)

    def _start_monitor(
        self, key: ServerId, target: Target, hysteresis: Hysteresis
    ) -> None:
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
        self.monitors[key] = monitor

    def _monitor_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("monitor crashed", exc_info=task.exception())

    async def _stop_monitors(self, keys: list[ServerId]) -> None:
        monitors = [self.monitors.pop(key) for key in keys]
        for monitor in monitors:
            monitor.stop()
        tasks = [m.task for m in monitors if m.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT)

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
            status.last_change = time.monotonic()
        if change is not None:
            self.state.changed.set()

    def slots(self) -> Mapping[ServerId, Slot]:
        """Each real server's place in the table, admin states applied."""
        slots = {}
        for key, monitor in self.monitors.items():
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

    # --- the table ---

    async def _table_loop(self) -> None:
        while True:
            await self.state.changed.wait()
            await asyncio.sleep(COALESCE)  # let a burst of changes land together
            self.state.changed.clear()
            await self.sync_table()

    async def set_active(self, active: bool) -> None:
        """Hold the service or not: the table is programmed only while active."""
        self.state.active = active
        await self.sync_table()

    async def sync_table(self) -> None:
        """Bring the dataplane to the desired table; on failure retry later."""
        async with self._applying:
            await self._sync_table()

    async def _sync_table(self) -> None:
        slots = self.slots()
        self._log_sorry(slots)
        desired = desired_table(self.state.config, slots) if self.state.active else {}
        try:
            await self.dataplane.apply(desired)
        except DataplaneError as exc:
            self._dataplane_failed(exc)
            return
        if self.state.dataplane_failures:
            self.state.event("dataplane recovered")
        self.state.dataplane_error = ""
        self.state.dataplane_failures = 0

    def _dataplane_failed(self, exc: Exception) -> None:
        state = self.state
        state.dataplane_failures += 1
        state.dataplane_error = str(exc)
        state.event("%s", exc, level=logging.ERROR)
        failed = state.dataplane_failures >= STEP_DOWN_AFTER
        if failed and state.config.hard_shutdown:
            if self.router is None or not has_partner(state.config):
                state.event(
                    "dataplane failed %d times; hard_shutdown = 1: shutting down lvs",
                    state.dataplane_failures,
                    level=logging.ERROR,
                )
                state.exit_code = 3
                state.stop.set()
                return
            if state.active and not self.router.failover.child_failed:
                self.router.table_failed()  # the partner takes over
        elif state.dataplane_failures == STEP_DOWN_AFTER:
            state.event(
                "dataplane keeps failing: manual action needed!", level=logging.ERROR
            )
        loop = asyncio.get_running_loop()
        self._retry = loop.call_later(RETRY_DELAY, state.changed.set)

    def _log_sorry(self, slots: Mapping[ServerId, Slot]) -> None:
        table = desired_table(self.state.config, slots)
        now: set[str] = set()
        for virtual in active_virtuals(self.state.config):
            sorry = virtual.sorry_server
            entry = table.get(service_key(virtual))
            if (
                sorry
                and entry
                and (sorry, virtual.port) in entry.dests
                and not any(
                    slots.get((virtual.name, s.name), Slot(None, None)).up
                    for s in active_servers(virtual)
                )
            ):
                now.add(virtual.name)
                if virtual.name not in self._sorry:
                    self.state.event(
                        "Virtual Server %s: No real servers; activate sorry_server %s",
                        virtual.name,
                        sorry,
                    )
        for name in sorted(self._sorry - now):
            self.state.event(
                "Virtual Server %s: real server back; deactivate sorry_server", name
            )
        self._sorry = now
        self.state.sorry = now


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


def install_signal_handlers(state: RuntimeState) -> None:
    """SIGHUP reloads, SIGTERM/SIGINT stop; a second SIGINT forces exit."""
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        if state.stop.is_set():
            logger.warning("second interrupt: exiting now")
            for group in list(state.children):
                with contextlib.suppress(OSError):
                    os.killpg(group, signal.SIGKILL)
            os._exit(130)
        state.stop.set()

    loop.add_signal_handler(signal.SIGHUP, state.reload.set)
    loop.add_signal_handler(signal.SIGTERM, state.stop.set)
    loop.add_signal_handler(signal.SIGINT, interrupt)


async def run(options: Options) -> int:
    """Run a pulse process until it is stopped; returns its exit code."""
    daemon = Daemon(options)
    install_signal_handlers(daemon.state)
    serving = asyncio.get_running_loop().create_task(daemon.serve())
    ready = asyncio.get_running_loop().create_task(daemon.ready.wait())
    await asyncio.wait([serving, ready], return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        # What start-up built lives as long as the process: keep it out of the
        # cyclic collector's full passes (5,000 monitors make those slow).
        gc.collect()
        gc.freeze()
    else:
        ready.cancel()
    return await serving


@contextlib.asynccontextmanager
async def running(
    options: Options, dataplane: Dataplane | None = None
) -> AsyncIterator[Daemon]:
    """The real runtime in this event loop, always torn down on exit."""
    daemon = Daemon(options, dataplane)
    task = asyncio.get_running_loop().create_task(daemon.serve())
    ready = asyncio.get_running_loop().create_task(daemon.ready.wait())
    await asyncio.wait([task, ready], timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()  # start-up failed: raise its error
    try:
        yield daemon
    finally:
        daemon.state.stop.set()
        await asyncio.wait_for(task, timeout=SHUTDOWN_TIMEOUT + 5)
