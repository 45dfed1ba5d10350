"""Talking to pulse: its status over the control socket, and START/STOP/RELOAD.

The only module of the web that reaches pulse. Status and the per-real-server
DRAIN/MAINT/READY always go through the control socket (JSON lines, see
docs/pulse.md). Starting and stopping depend on PIRANHA_PULSE_MODE:

- ``embedded`` (``make run``): START runs ``python -m pulse run`` on the
  published lvs.cf with the userspace dataplane, detached in a new session,
  its pid file and log in the state directory; STOP asks it over the socket.
- ``systemd`` (a router): ``sudo -n systemctl VERB pulse``, with the argument
  list fixed here and no shell; the shipped sudoers file allows exactly these.

Every failure is a `ControlError` with a sentence for the admin; a socket that
is absent, refuses, or is slower than PIRANHA_PULSE_TIMEOUT is `NotAnswering`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

import lvscf
from lbconfig.audit import record
from pulse.control import request

MODES = ("embedded", "systemd")
VERBS = ("start", "stop", "restart", "reload")
ADMIN_VERBS = ("drain", "maint", "ready")
UNIT = "pulse"
START_WAIT = 10.0  # seconds for a started pulse to answer (it checks lvs.cf first)
STOP_WAIT = 12.0  # pulse bounds its graceful shutdown at 10 s; gunicorn waits 30 s
COMMAND_TIMEOUT = 30.0  # a reload of a large lvs.cf, or systemctl waiting on a unit
LOG_TAIL = 12  # lines of var/pulse.log shown when pulse exits at once
# A START past this size moves var/pulse.log to pulse.log.1 (one old log is kept):
# an embedded pulse runs for months, and the web has no logrotate to lean on.
LOG_ROTATE_BYTES = 10 * 1024 * 1024
POLL = 0.05  # seconds between looks while waiting for pulse


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


# --- where things are ---


def mode() -> str:
    return str(settings.PIRANHA_PULSE_MODE)


def socket_path() -> Path:
    configured = str(settings.PIRANHA_PULSE_SOCKET)
    if configured:
        return Path(settings.BASE_DIR) / configured
    return Path(settings.PIRANHA_VAR_DIR) / "pulse.sock"


def pidfile() -> Path:
    return Path(settings.PIRANHA_VAR_DIR) / "pulse.pid"


def logfile() -> Path:
    return Path(settings.PIRANHA_VAR_DIR) / "pulse.log"


# --- the control socket ---


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


def snapshot(form: dict[str, str] | None = None) -> Snapshot:
    """The daemon's state for the page; never raises."""
    try:
        answer = status(form=form)
    except NotAnswering as exc:
        if mode() == "systemd":
            return _systemd_snapshot(str(exc))
        return _embedded_snapshot(str(exc))
    return Snapshot(state=str(answer.get("state", "running")), status=answer)


def _embedded_snapshot(reason: str) -> Snapshot:
    pid = live_pid()
    if pid is not None and not socket_path().exists():
        return Snapshot("starting", detail=f"pid {pid}; the control socket is not up")
    if pid is not None:
        return Snapshot("not answering", detail=f"pid {pid}: {reason}")
    if pidfile().exists() or socket_path().exists():
        # pulse removes both when it stops; left behind, it did not stop cleanly.
        detail = "pulse exited without cleaning up (killed or crashed)"
        return Snapshot("failed", detail=detail, log_tail=log_tail())
    return Snapshot("stopped", detail="pulse is not running")


def _systemd_snapshot(reason: str) -> Snapshot:
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


def live_pid() -> int | None:
    """The pid in var/pulse.pid if that process is alive and is a pulse."""
    try:
        pid = int(pidfile().read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if _is_our_pulse(cmdline) and _alive(pid) else None


def _is_our_pulse(cmdline: bytes) -> bool:
    """`python -m pulse run ... --pidfile OURS`: a reused pid is someone else."""
    words = cmdline.split(b"\0")
    return b"\0-m\0pulse\0run\0" in cmdline and os.fsencode(pidfile()) in words


def _alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (exited, not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def log_tail(lines: int = LOG_TAIL, since: int = 0) -> list[str]:
    """The last lines of var/pulse.log, from byte `since` on."""
    try:
        with logfile().open("rb") as log:
            log.seek(since)
            kept = deque(log, maxlen=lines)
    except OSError:
        return []
    return [line.decode(errors="replace").rstrip("\n") for line in kept]


# --- actions: each returns a sentence for the admin or raises ControlError ---


def act(verb: str, user: str) -> str:
    """START, STOP, RESTART or RELOAD; recorded in the audit log either way."""
    if verb not in VERBS:
        raise ControlError(f"unknown action {verb!r}")
    try:
        if mode() == "systemd":
            result = _systemctl(verb)
        else:
            with _one_at_a_time():
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


def _systemctl(verb: str) -> str:
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


# --- embedded mode ---


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    """One START/STOP/RESTART/RELOAD at a time, across the web's worker processes."""
    with open(Path(settings.PIRANHA_VAR_DIR) / "pulse.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ControlError(
                "another START, STOP, RESTART or RELOAD is in progress; try again."
            ) from None
        yield


def start_embedded() -> str:
    try:
        running = status()
    except NotAnswering:
        pass
    else:
        raise ControlError(f"pulse is already running (pid {running.get('pid')}).")
    if (pid := live_pid()) is not None:
        raise ControlError(f"pulse (pid {pid}) is already there but does not answer.")
    config = Path(settings.PIRANHA_LVS_CF)
    _refuse_errors(config)
    start = _rotate_log()
    process = _spawn(config)
    return _wait_started(process, start)


def _rotate_log() -> int:
    """Keep one old log past LOG_ROTATE_BYTES; the offset this run's lines start at."""
    log = logfile()
    try:
        size = log.stat().st_size
    except FileNotFoundError:
        return 0
    if size < LOG_ROTATE_BYTES:
        return size  # show only this run's log lines
    log.replace(log.with_name(log.name + ".1"))
    return 0


def _refuse_errors(config: Path) -> None:
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ControlError(
            f"pulse did not start: nothing is published yet ({config} is missing)."
        ) from None
    try:
        problems = lvscf.validate(lvscf.parse(text))
    except lvscf.ParseError as exc:
        problems = exc.problems
    errors = [
        p.format(config.name).replace("\n    hint: ", " (") + ")" * bool(p.hint)
        for p in problems
        if p.is_error
    ]
    if errors:
        raise ControlError(
            f"pulse did not start: lvs.cf has {len(errors)} "
            f"error{'s' if len(errors) != 1 else ''}: " + "; ".join(errors)
        )


def _spawn(config: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-m",
        "pulse",
        "run",
        "--config",
        str(config),
        "--dataplane",
        "userspace",
        "--control-socket",
        str(socket_path()),
        "--pidfile",
        str(pidfile()),
        # We detach it ourselves (new session) so that its log goes to var/pulse.log
        # rather than to syslog, and so that we know its pid and exit code.
        "--foreground",
    ]
    log = logfile().open("ab")
    try:
        return subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise ControlError(f"pulse did not start: {exc.strerror or exc}") from None
    finally:
        log.close()


def _wait_started(process: subprocess.Popen[bytes], log_start: int) -> str:
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            tail = " | ".join(log_tail(since=log_start))
            raise ControlError(f"pulse did not start (exit code {code}): {tail}")
        try:
            if status(timeout=0.5).get("state") == "running":
                break
        except NotAnswering:
            time.sleep(POLL)
    # Reap it when it ends, so that it never lingers as a zombie of this process.
    threading.Thread(target=process.wait, daemon=True).start()
    if time.monotonic() >= deadline:
        return f"pulse (pid {process.pid}) is starting; it has not answered yet."
    return f"pulse started (pid {process.pid})."


def stop_embedded() -> str:
    try:
        pid = int(status().get("pid", 0)) or live_pid()
        ask({"cmd": "stop"})
    except NotAnswering:
        pid = live_pid()
        if pid is None:
            raise ControlError("pulse is not running.") from None
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    while pid is not None and _alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL)
    if pid is not None and _alive(pid):
        raise ControlError(f"pulse (pid {pid}) did not stop within {STOP_WAIT:g} s.")
    return f"pulse stopped (pid {pid})."


def restart_embedded() -> str:
    if snapshot().state not in ("stopped", "failed"):
        stop_embedded()
    return start_embedded().replace("started", "restarted", 1)


def reload_embedded() -> str:
    answer = ask({"cmd": "reload"}, timeout=COMMAND_TIMEOUT)
    if not answer.get("ok"):
        raise ControlError(f"reload refused, pulse keeps running: {answer['error']}")
    return "pulse reloaded lvs.cf."


EMBEDDED = {
    "start": start_embedded,
    "stop": stop_embedded,
    "restart": restart_embedded,
    "reload": reload_embedded,
}
