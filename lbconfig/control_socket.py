"""The web's side of pulse's control socket: a request, the status, the errors.

Status and the per-real-server DRAIN/MAINT/READY always go through the control
socket (JSON lines, see docs/pulse.md), whatever PIRANHA_PULSE_MODE says. A
socket that is absent, refuses, or is slower than PIRANHA_PULSE_TIMEOUT is
`NotAnswering`; every other failure of an action is a `ControlError`. Use it
through lbconfig/control.py, which re-exports these names (a test that
patches `ask` patches it here, where `status` looks it up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from pulse.control import request

COMMAND_TIMEOUT = 30.0  # a reload of a large lvs.cf, or systemctl waiting on a unit


class ControlError(Exception):
    """An action on pulse failed; the message says why, in words."""


class NotAnswering(ControlError):
    """The control socket is absent, refuses, or did not answer in time."""


@dataclass(frozen=True)
class Snapshot:
    """What the page shows about the daemon: its state and, when it answers, all."""

    state: str  # starting, running, stopping, stopped, failed, not answering
    status: dict[str, Any] | None = None
    detail: str = ""  # why it is not running, in words
    log_tail: list[str] = field(default_factory=list)

    @property
    def answering(self) -> bool:
        return self.status is not None


def socket_path() -> Path:
    configured = str(settings.PIRANHA_PULSE_SOCKET)
    if configured:
        return Path(settings.BASE_DIR) / configured
    return Path(settings.PIRANHA_VAR_DIR) / "pulse.sock"


def ask(message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """One request over the control socket; NotAnswering when nobody answers."""
    path = socket_path()
    wait = float(settings.PIRANHA_PULSE_TIMEOUT) if timeout is None else timeout
    try:
        return request(str(path), message, timeout=wait)
    except FileNotFoundError:
        raise NotAnswering(f"no control socket at {path}") from None
    except TimeoutError:
        raise NotAnswering(f"no answer on {path} within {wait:g} s") from None
    except OSError as exc:
        raise NotAnswering(f"cannot reach {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise NotAnswering(f"{path} closed without a complete answer") from None


def status(
    timeout: float | None = None, form: dict[str, str] | None = None
) -> dict[str, Any]:
    """pulse's status answer (see docs/pulse.md); `form` asks for the compact
    one, e.g. {"servers": "not-up", "match": "web"}."""
    answer = ask({"cmd": "status", **(form or {})}, timeout)
    if not answer.get("ok") or not isinstance(answer.get("status"), dict):
        raise NotAnswering(f"pulse answered without a status: {answer.get('error')}")
    result: dict[str, Any] = answer["status"]
    return result
