"""pulse's failover decision, as a pure state machine over timestamps.

`Failover` holds what the original pulse kept in its select() loop: whether
this router is active, the "need a heartbeat by" deadline, and the two blocks
(LINKFAIL: a monitored link is down; CHILDFAIL: our own routing table failed).
Each input (the deadline passing, a heartbeat heard, a link lost or back, the
table failing) returns at most one `Action` for the I/O side to carry out, and
the log line that goes with it. Nothing here reads a clock or a socket.
"""

from __future__ import annotations

from dataclasses import dataclass

RUNNING = "running"  # the partner is active
STOPPED = "stopped"  # the partner is passive


@dataclass(frozen=True)
class Action:
    """What to do after an input: activate, deactivate, resend (ARPs), or log."""

    kind: str
    message: str
    send_first: bool = False  # send one heartbeat before deactivating


class Failover:
    """The LVS-mode state machine of one router.

    `master` is the role (the primary router wins a split-brain); `deadtime`
    is the seconds within which a heartbeat must arrive. A router starts
    passive; nothing fails back on its own: a passive router that hears its
    partner "running" stays passive.
    """

    def __init__(self, master: bool, deadtime: float, now: float) -> None:
        self.master = master
        self.deadtime = deadtime
        self.active = False
        self.deadline = now + deadtime
        self.child_failed = False
        self.link_failed = False

    @property
    def blocked(self) -> bool:
        """A failed link or table: no takeover until it clears."""
        return self.child_failed or self.link_failed

    def says(self) -> str:
        """What our heartbeat tells the partner."""
        return RUNNING if self.active else STOPPED

    def expired(self, now: float) -> Action | None:
        """The deadline check; re-armed after each expiry, as the original."""
        if now < self.deadline:
            return None
        self.deadline = now + self.deadtime
        if self.active or self.blocked:
            return None
        self.active = True
        return Action("activate", "partner dead: activating lvs")

    def heard(self, says: str, now: float) -> Action | None:
        """A valid heartbeat from the partner."""
        self.deadline = now + self.deadtime
        if says == RUNNING:
            self.child_failed = False  # the partner carries the service again
            if not self.active:
                return None
            if self.master:
                return Action("resend", "partner active: resending arps")
            self.active = False
            return Action(
                "deactivate", "partner active: deactivating LVS", send_first=True
            )
        if self.active or self.blocked:
            return None
        self.active = True
        partner = "backup" if self.master else "primary"
        return Action("activate", f"{partner} inactive: activating lvs")

    def link_lost(self, names: list[str]) -> Action:
        """A monitored link went down: step down and refuse to take over."""
        self.link_failed = True
        message = f"Local NIC link failure: Pulse disabled ({', '.join(names)})"
        if self.active:
            self.active = False
            return Action("deactivate", message)
        return Action("log", message)

    def link_restored(self, now: float) -> Action:
        """Every monitored link is up again.

        The deadline starts afresh, so the partner's heartbeats (which could
        not reach us) get a full deadtime before we decide it is dead.
        """
        self.link_failed = False
        self.deadline = now + self.deadtime
        return Action("log", "Local NIC link restored: Pulse enabled")

    def take_over(self, message: str) -> Action | None:
        """Activate now, whatever the partner says (forced, or nothing to wait for)."""
        if self.active:
            return None
        self.active = True
        return Action("activate", message)

    def table_failed(self) -> Action:
        """Our routing table failed for good: step down until the partner runs."""
        self.child_failed = True
        message = "routing table failed: deactivating lvs until the partner is active"
        if self.active:
            self.active = False
            return Action("deactivate", message)
        return Action("log", message)
