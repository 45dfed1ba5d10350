"""nanny's decisions, as pure code, and the loop that checks one real server.

`Hysteresis` is the original's state machine over check results: the first
success adds the server, one failure takes it out (or quiesces it), and after
a failure it needs `reentry / timeout` consecutive successes to come back,
starting at `weight >> 5` and doubling about every 20 s. `Monitor` runs the
checks on a fixed grid, spread over the interval, and reports changes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from .probes import Check, ConnectProbe, Result, probe
from .programs import load_argv, read_load
from .state import ServerStatus

logger = logging.getLogger(__name__)

ADJUST_PERIOD = 20  # seconds: nanny's slow-start / load-monitor cadence
LOAD_SCALE = 10  # nanny -S: the load monitor may raise a weight up to 10x


def initial_weight(weight: int) -> int:
    """The weight a server (re)enters with: weight >> 5, at least 1.

    A configured weight of 0 stays 0 (no new connections), where nanny would
    still have added it at 1.
    """
    return max(1, weight >> 5) if weight > 0 else 0


def load_weight(last: int, weight: int, load: float, scale: int = LOAD_SCALE) -> int:
    """nanny's load rule: ±(weight/2)·∛|1−load| from the last weight.

    Below a load of 1 the weight rises, above it falls; the result stays in
    [weight, scale·weight] and a change smaller than weight/4 is not applied.
    """
    step = (weight / 2) * math.cbrt(abs(1 - load))
    target = last + step if load < 1 else last - step
    target = min(max(target, weight), scale * weight)
    new = int(target)
    return new if abs(new - last) >= weight / 4 else last


@dataclass
class Hysteresis:
    """One real server's up/down state, driven by check results."""

    weight: int
    threshold: int  # consecutive successes needed after a failure
    quiesce: bool = False
    up: bool | None = None  # None until the first check
    current: int = 0  # the weight in the table while up
    streak: int = 0  # consecutive successes

    @classmethod
    def for_timing(
        cls, weight: int, timeout: int, reentry: int, quiesce: bool
    ) -> Hysteresis:
        """countThresh = reentry / timeout, as nanny computed it."""
        threshold = max(1, reentry // max(1, timeout))
        return cls(
            weight=weight, threshold=threshold, quiesce=quiesce, streak=threshold - 1
        )

    def record(self, ok: bool) -> str | None:
        """Take one result; "up" or "down" when the state changes."""
        if not ok:
            self.streak = 0
            if self.up is not False:
                self.up = False
                self.current = 0
                return "down"
            return None
        self.streak += 1
        if not self.up and self.streak >= self.threshold:
            self.up = True
            self.current = initial_weight(self.weight)
            return "up"
        return None

    def grow(self) -> int | None:
        """Slow start: double the weight towards the configured one."""
        if self.up and self.current < self.weight:
            self.current = min(self.weight, max(1, self.current * 2))
            return self.current
        return None

    def slot_weight(self) -> int | None:
        """The weight to program: None = out of the table, 0 = quiesced."""
        if self.up:
            return self.current
        if self.up is False and self.quiesce:
            return 0
        return None


@dataclass(frozen=True)
class Target:
    """What a monitor checks and how often."""

    address: str
    port: int
    check: Check
    interval: float
    load_monitor: str = "none"
    rsh_command: str = "rsh"


_wall = time.time  # bound once: the hot path reads it every check
SPREAD_STEP = 0.01  # seconds: checks start on a 10 ms grid


def spread(key: str, interval: float) -> float:
    """A stable offset in [0, interval): checks are spread, not fired together.

    Offsets fall on a 10 ms grid, so the checks of one slot share a loop
    wake-up: with thousands of servers that halves the CPU of waking once per
    check, and no slot holds more than about 1 % of them.
    """
    slots = max(1, int(interval / SPREAD_STEP))
    return (zlib.crc32(key.encode()) % slots) * SPREAD_STEP


class Monitor:
    """Checks one real server on a fixed grid and keeps its status current.

    Plain TCP checks without a load monitor run on loop callbacks (the hot
    path: thousands of servers); every other check runs as a task.
    """

    _loop: asyncio.AbstractEventLoop  # set by start()

    def __init__(
        self,
        target: Target,
        hysteresis: Hysteresis,
        status: ServerStatus,
        on_change: Callable[[Monitor, str | None], None],
        children: set[int] | None = None,
    ) -> None:
        self.target = target
        self.hysteresis = hysteresis
        self.status = status
        self.on_change = on_change
        self.children = children if children is not None else set()
        self.task: asyncio.Task[None] | None = None
        self._since_adjust = 0.0
        self._due = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._probe: ConnectProbe | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.target.address}:{self.target.port}"

    @property
    def fast(self) -> bool:
        return self.target.check.connect_only and self.target.load_monitor in (
            "",
            "none",
        )

    def start(self, offset: float) -> None:
        """Begin checking after `offset` seconds."""
        self._loop = loop = asyncio.get_running_loop()
        if self.fast:
            self._due = loop.time() + offset
            self._timer = loop.call_at(self._due, self._tick)
        else:
            self.task = loop.create_task(self.run(offset))

    def stop(self) -> None:
        """Stop checking; a check in flight is dropped (a task is cancelled)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        if self.task is not None:
            self.task.cancel()

    def _tick(self) -> None:
        self._timer = None
        target = self.target
        probe = ConnectProbe(
            self._loop,
            target.address,
            target.port,
            target.check.timeout,
            self._fast_done,
        )
        if probe.fd >= 0 or probe.timer is not None:  # not decided at once
            self._probe = probe

    def _fast_done(self, error: str, latency: float) -> None:
        self._probe = None
        self._record(not error, latency, error)
        if self._since_adjust >= ADJUST_PERIOD and self._adjust_due():
            self._slow_start()
        loop = self._loop
        self._due = due = self._next_due(loop.time())
        self._timer = loop.call_at(due, self._tick)

    def _next_due(self, now: float) -> float:
        interval = self.target.interval
        due = self._due + interval
        if due < now:  # a slow check: skip the missed slots, keep the grid
            due += math.ceil((now - due) / interval) * interval
        return due

    async def run(self, offset: float) -> None:
        """Check forever (the task path); the caller cancels the task."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(offset)
        self._due = loop.time()
        while True:
            target = self.target
            result = await probe(
                target.address, target.port, target.check, self.children
            )
            self.observe(result)
            if self._adjust_due() and not self._slow_start():
                await self._load_monitor()
            self._due = self._next_due(loop.time())
            await asyncio.sleep(self._due - loop.time())

    def observe(self, result: Result) -> None:
        """Record one check result and report a state change."""
        self._record(result.ok, result.latency, result.error)

    def _record(self, ok: bool, latency: float, error: str) -> None:
        status = self.status
        status.checks += 1
        status.last_check = _wall()
        status.latency = latency
        status.last_error = error
        self._since_adjust += self.target.interval
        if ok:
            status.successes += 1
            status.failures = 0
        else:
            status.successes = 0
            status.failures += 1
        change = self.hysteresis.record(ok)
        if change is not None:
            self._since_adjust = 0.0
            self.on_change(self, change)

    def _adjust_due(self) -> bool:
        """About every 20 s while up (`_record` counts the time)."""
        if not self.hysteresis.up or self._since_adjust < ADJUST_PERIOD:
            return False
        self._since_adjust = 0.0
        return True

    def _slow_start(self) -> bool:
        if self.hysteresis.grow() is not None:
            self.on_change(self, "weight")
            return True
        return False

    async def _load_monitor(self) -> None:
        target = self.target
        argv = load_argv(target.load_monitor, target.rsh_command, target.address)
        if argv is None:
            return
        load = await read_load(argv, target.check.timeout, self.children)
        if load is None:
            logger.warning("bad load average from %s for %s", argv[0], self.endpoint)
            return
        new = load_weight(self.hysteresis.current, self.hysteresis.weight, load)
        if new != self.hysteresis.current:
            self.hysteresis.current = new
            self.on_change(self, "weight")
