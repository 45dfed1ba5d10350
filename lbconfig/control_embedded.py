"""pulse embedded in the web (PIRANHA_PULSE_MODE "embedded", `make run`).

START runs `python -m pulse run` on the published lvs.cf with the userspace
dataplane, detached in a new session, with its pid file, control socket and
log (var/pulse.log, one old log kept as pulse.log.1) in the state directory;
when it exits at once, the error says why from the tail of its log. STOP asks
it over the socket, or sends SIGTERM to the pid in the pid file once
/proc says that process really is our pulse (a reused pid is someone else).
One action runs at a time across the web's worker processes (a lock file).
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
from pathlib import Path

from django.conf import settings

import lvscf
from lbconfig.control_socket import (
    COMMAND_TIMEOUT,
    ControlError,
    NotAnswering,
    Snapshot,
    ask,
    socket_path,
    status,
)

START_WAIT = 10.0  # seconds for a started pulse to answer (it checks lvs.cf first)
STOP_WAIT = 12.0  # pulse bounds its graceful shutdown at 10 s; gunicorn waits 30 s
LOG_TAIL = 12  # lines of var/pulse.log shown when pulse exits at once
# A START past this size moves var/pulse.log to pulse.log.1 (one old log is kept):
# an embedded pulse runs for months, and the web has no logrotate to lean on.
LOG_ROTATE_BYTES = 10 * 1024 * 1024
POLL = 0.05  # seconds between looks while waiting for pulse


def pidfile() -> Path:
    return Path(settings.PIRANHA_VAR_DIR) / "pulse.pid"


def logfile() -> Path:
    return Path(settings.PIRANHA_VAR_DIR) / "pulse.log"


def snapshot_unanswered(reason: str) -> Snapshot:
    """The page's state when pulse does not answer: from its pid file and socket."""
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


@contextlib.contextmanager
def one_at_a_time() -> Iterator[None]:
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


def reload_embedded() -> str:
    answer = ask({"cmd": "reload"}, timeout=COMMAND_TIMEOUT)
    if not answer.get("ok"):
        raise ControlError(f"reload refused, pulse keeps running: {answer['error']}")
    return "pulse reloaded lvs.cf."
