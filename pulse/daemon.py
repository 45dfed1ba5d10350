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
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

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
from .monitors import Monitors
from .router import NotStarting, Router, has_partner
from .state import RuntimeState

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
    force_active: bool = False  # start active (the original's --forceactive)


class Daemon:
    """One pulse runtime."""

    def __init__(self, options: Options, dataplane: Dataplane | None = None) -> None:
        self.options = options
        self.state = RuntimeState(options.config_path, options.dataplane)
        self.dataplane = dataplane or DATAPLANES[options.dataplane]()
        self.monitors = Monitors(self.state)
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
            options = self.options
            self.router = Router(self, options.role, options.force_active)
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
        self.monitors.sync(loaded.config)
        await self.sync_table()
        self.state.phase = "running"
        self.ready.set()

    async def shutdown(self) -> None:
        """Remove what the runtime added; bounded, never leaves a child."""
        started = self.ready.is_set()
        self.state.phase = "stopping"
        if self.router is not None:
            await self.router.stop()
        if self._retry is not None:
            self._retry.cancel()
        await self.monitors.stop(list(self.monitors.running))
        for virtual in active_virtuals(self.state.config) if started else []:
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
        if self.router is not None:
            await self.router.refloat(loaded.config)  # new VIPs before the table
        self.monitors.sync(loaded.config)
        self.state.event("configuration reloaded (serial %s)", loaded.config.serial_no)
        self.state.changed.set()
        return ""

    async def _reload_loop(self) -> None:
        while True:
            await self.state.reload.wait()
            self.state.reload.clear()
            await self.reload()

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
        slots = self.monitors.slots()
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
