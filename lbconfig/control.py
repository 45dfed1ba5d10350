"""Talking to pulse: its status over the control socket, and START/STOP/RELOAD.

The web's one face toward pulse: views, the panel, the system checks and the
tests import from here. Status and the per-real-server DRAIN/MAINT/READY
always go through the control socket (JSON lines, see docs/pulse.md).
Starting and stopping depend on PIRANHA_PULSE_MODE:

- ``embedded`` (``make run``): START runs ``python -m pulse run`` on the
  published lvs.cf with the userspace dataplane, detached in a new session,
  its pid file and log in the state directory; STOP asks it over the socket.
- ``systemd`` (a router): ``sudo -n systemctl VERB pulse``, with the argument
  list fixed in code and no shell; the shipped sudoers file allows exactly
  these.

Every failure is a `ControlError` with a sentence for the admin; a socket that
is absent, refuses, or is slower than PIRANHA_PULSE_TIMEOUT is `NotAnswering`.

Modules: control_socket (the errors, `Snapshot`, `ask` and `status`),
control_embedded (the pulse process the web starts itself: its log, pid file
and lock), control_systemd (the unit). The names re-exported here are the
same objects, so a test patches a name where it is defined (e.g.
``control_socket.ask``, which `status` looks up), not here.
"""

from __future__ import annotations

from django.conf import settings

from lbconfig import control_embedded, control_systemd
from lbconfig.audit import record
from lbconfig.control_embedded import (
    live_pid,
    reload_embedded,
    start_embedded,
    stop_embedded,
)
from lbconfig.control_socket import (
    ControlError,
    NotAnswering,
    Snapshot,
    ask,
    socket_path,
    status,
)
from lbconfig.control_systemd import UNIT

__all__ = [
    "ADMIN_VERBS",
    "EMBEDDED",
    "MODES",
    "UNIT",
    "VERBS",
    "ControlError",
    "NotAnswering",
    "Snapshot",
    "act",
    "ask",
    "live_pid",
    "mode",
    "reload_embedded",
    "restart_embedded",
    "set_admin",
    "snapshot",
    "socket_path",
    "start_embedded",
    "status",
    "stop_embedded",
]

MODES = ("embedded", "systemd")
VERBS = ("start", "stop", "restart", "reload")
ADMIN_VERBS = ("drain", "maint", "ready")


def mode() -> str:
    return str(settings.PIRANHA_PULSE_MODE)


def snapshot(form: dict[str, str] | None = None) -> Snapshot:
    """The daemon's state for the page; never raises."""
    try:
        answer = status(form=form)
    except NotAnswering as exc:
        if mode() == "systemd":
            return control_systemd.snapshot_unanswered(str(exc))
        return control_embedded.snapshot_unanswered(str(exc))
    return Snapshot(state=str(answer.get("state", "running")), status=answer)


# --- actions: each returns a sentence for the admin or raises ControlError ---


def act(verb: str, user: str) -> str:
    """START, STOP, RESTART or RELOAD; recorded in the audit log either way."""
    if verb not in VERBS:
        raise ControlError(f"unknown action {verb!r}")
    try:
        if mode() == "systemd":
            result = control_systemd.systemctl(verb)
        else:
            with control_embedded.one_at_a_time():
                result = EMBEDDED[verb]()
    except NotAnswering as exc:
        record(user, f"pulse {verb}", f"failed: {exc}")
        raise NotAnswering(f"pulse does not answer: {exc}.") from None
    except ControlError as exc:
        record(user, f"pulse {verb}", f"failed: {exc}")
        raise
    record(user, f"pulse {verb}", result)
    return result


def set_admin(verb: str, virtual: str, server: str, user: str) -> str:
    """DRAIN, MAINT or READY one real server, over the control socket."""
    if verb not in ADMIN_VERBS:
        raise ControlError(f"unknown action {verb!r}")
    try:
        answer = ask({"cmd": verb, "virtual": virtual, "server": server})
    except NotAnswering as exc:
        raise NotAnswering(f"pulse does not answer: {exc}.") from None
    if not answer.get("ok"):
        raise ControlError(f"pulse refused {verb}: {answer.get('error')}")
    record(user, f"pulse {verb}", f"{virtual}/{server}")
    return f"{virtual}/{server}: {verb} {'is set' if verb != 'ready' else 'again'}."


def restart_embedded() -> str:
    """STOP unless pulse is down already (as the page would show it), then START."""
    if snapshot().state not in ("stopped", "failed"):
        stop_embedded()
    return start_embedded().replace("started", "restarted", 1)


EMBEDDED = {
    "start": start_embedded,
    "stop": stop_embedded,
    "restart": restart_embedded,
    "reload": reload_embedded,
}
