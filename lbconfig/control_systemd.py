"""pulse as a systemd unit (PIRANHA_PULSE_MODE "systemd", a router).

START/STOP/RESTART/RELOAD run `sudo -n systemctl VERB pulse`, with the
argument list fixed here and no shell; the shipped sudoers file allows exactly
these. When pulse does not answer on its socket, the unit's state says why.
"""

from __future__ import annotations

import subprocess

from lbconfig.control_socket import COMMAND_TIMEOUT, ControlError, Snapshot

UNIT = "pulse"


def snapshot_unanswered(reason: str) -> Snapshot:
    """The page's state when pulse does not answer: from `systemctl is-active`."""
    try:
        done = subprocess.run(
            ["systemctl", "is-active", UNIT],
            capture_output=True,
            text=True,
            timeout=2.0,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Snapshot("not answering", detail=f"{reason}; systemctl: {exc}")
    unit = done.stdout.strip() or "unknown"
    state = {
        "active": "not answering",
        "activating": "starting",
        "reloading": "not answering",
        "deactivating": "stopping",
        "failed": "failed",
    }.get(unit, "stopped")
    return Snapshot(state, detail=f"systemd unit {UNIT}: {unit}; {reason}")


def systemctl(verb: str) -> str:
    """`sudo -n systemctl VERB pulse`; a sentence for the admin or ControlError."""
    argv = ["sudo", "-n", "systemctl", verb, UNIT]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise ControlError(
            "sudo is not installed; see docs/router-install.md"
        ) from None
    except subprocess.TimeoutExpired:
        raise ControlError(
            f"systemctl {verb} {UNIT} did not finish in {COMMAND_TIMEOUT:g} s"
        ) from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        why = said[-1] if said else f"exit code {done.returncode}"
        raise ControlError(f"systemctl {verb} {UNIT} failed: {why}")
    return f"systemctl {verb} {UNIT}: done."
