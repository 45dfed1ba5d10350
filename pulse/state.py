"""The runtime's shared state: one plain object, passed explicitly.

Everything the status view shows lives here, and the events the loops wait on
(stop, reload, table changed). No module globals: a test can run two
runtimes in one process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lvscf

if TYPE_CHECKING:
    from .heartbeat import Path

logger = logging.getLogger("pulse")

EVENTS_KEPT = 500  # the status view's history
FAILOVERS_KEPT = 50  # role changes kept for the status view


@dataclass
class ServerStatus:
    """One real server of one virtual server, as the status view shows it."""

    virtual: str
    server: str
    address: str
    port: int
    configured_weight: int
    weight: int | None = None  # in the table now; None when out
    health: str = "unknown"  # up, down, quiesced, unknown (admin/sorry on top)
    last_check: float | None = None  # wall clock
    latency: float | None = None  # seconds
    last_error: str = ""
    successes: int = 0  # consecutive
    failures: int = 0  # consecutive
    checks: int = 0
    last_change: float = field(default_factory=time.monotonic)
    flaps: int = 0

    def as_dict(self, admin: str | None) -> dict[str, Any]:
        return {
            "virtual": self.virtual,
            "server": self.server,
            "address": self.address,
            "port": self.port,
            "configured_weight": self.configured_weight,
            "weight": self.weight,
            "health": admin_health(self.health, admin),
            "admin": admin or "ready",
            "last_check": self.last_check,
            "latency": self.latency,
            "last_error": self.last_error,
            "consecutive_successes": self.successes,
            "consecutive_failures": self.failures,
            "checks": self.checks,
            "since_change": round(time.monotonic() - self.last_change, 3),
            "flaps": self.flaps,
        }


def admin_health(health: str, admin: str | None) -> str:
    """The health column: an admin state (drain/maint) shows over the check."""
    if admin == "drain":
        return "draining"
    if admin == "maint":
        return "maint"
    return health


class RuntimeState:
    """What one pulse process knows, shared by its loops."""

    def __init__(self, config_path: str, dataplane: str) -> None:
        self.config_path = config_path
        self.dataplane = dataplane
        self.config = lvscf.Config()
        self.sha256 = ""
        self.problems: tuple[str, ...] = ()
        self.role = "standalone"  # or primary / backup when pulse runs failover
        self.active = True  # holds the service (addresses and routing table)
        self.partner = ""  # the partner's public address when heartbeats flow
        self.paths: list[Path] = []
        self.links_down: list[str] = []
        self.failovers: deque[dict[str, Any]] = deque(maxlen=FAILOVERS_KEPT)
        self.phase = "starting"  # starting, running, stopping, stopped
        self.started = time.monotonic()
        self.servers: dict[tuple[str, str], ServerStatus] = {}
        # Real servers whose health changed since the compact status last
        # looked: a poll then costs O(changes), not O(real servers).
        self.health_changed: set[tuple[str, str]] = set()
        # drain/maint set over the control socket; survive reloads until "ready".
        self.admin: dict[tuple[str, str], str] = {}
        self.sorry: set[str] = set()  # virtual servers on their sorry server
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.dataplane_error = ""
        self.dataplane_failures = 0
        self.exit_code = 0
        self.children: set[int] = set()  # process groups of running check programs
        self.stop = asyncio.Event()
        self.reload = asyncio.Event()
        self.changed = asyncio.Event()

    def event(self, message: str, *args: object, level: int = logging.INFO) -> None:
        """Log one line an admin can grep and keep it for the status view."""
        logger.log(level, message, *args)
        text = message % args if args else message
        self.events.append({"time": time.time(), "message": text})

    def failover_event(self, message: str, level: int = logging.INFO) -> None:
        """A change of role or of what the router may do: logged and kept."""
        self.event("%s", message, level=level)
        self.failovers.append({"time": time.time(), "message": message})

    def uptime(self) -> float:
        return time.monotonic() - self.started

    def heartbeat_status(self) -> dict[str, Any]:
        """The "heartbeat" section of status.

        The keys are the contract with the web's live view: enabled, role,
        active, partner, paths [{name, local, partner, last_age, partner_says}],
        links {ok, down}, failovers [{time, message}] (newest last).
        """
        now = time.monotonic()
        return {
            "enabled": bool(self.paths),
            "role": self.role,
            "active": self.active,
            "partner": self.partner,
            "paths": [path.as_dict(now) for path in self.paths],
            "links": {"ok": not self.links_down, "down": list(self.links_down)},
            "failovers": list(self.failovers),
        }
