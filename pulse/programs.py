"""Running the programs pulse calls: bounded, without a shell.

`run_bounded` runs an argument list in a process group of its own and kills
the whole group at the timeout: a check's send_program, the load monitor,
active_cmd/inactive_cmd, and ipvsadm (the ipvs dataplane, the sync daemon)
all go through it. The load monitor's command line and its output (`uptime`,
rup) are read here too.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal


async def run_bounded(
    argv: list[str], timeout: float, children: set[int] | None = None
) -> tuple[int | None, bytes, str]:
    """Run argv without a shell; (exit code, stdout, error), killed at `timeout`.

    The program leads its own process group, so a kill takes its children
    too; `children` holds the group ids while they run, for a forced exit.
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # so a timeout kills its children too
        )
    except OSError as exc:
        return None, b"", f"cannot run {argv[0]}: {exc.strerror}"
    running = children if children is not None else set()
    running.add(proc.pid)
    try:
        async with asyncio.timeout(timeout):
            output, _ = await proc.communicate()
    except TimeoutError:
        await _kill(proc)
        return None, b"", "program timed out"
    except BaseException:
        await _kill(proc)
        raise
    finally:
        running.discard(proc.pid)
    return proc.returncode, output, ""


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    await asyncio.shield(proc.wait())


_LOAD = re.compile(rb"load[^:\n]*:\s*([0-9]+(?:\.[0-9]+)?)")


def load_argv(load_monitor: str, rsh_command: str, host: str) -> list[str] | None:
    """The command nanny ran for `load_monitor`, or None for none."""
    if load_monitor in ("", "none"):
        return None
    if load_monitor == "uptime":
        return [rsh_command, host, "uptime"]
    return [*load_monitor.split(), host]


def parse_load(output: bytes) -> float | None:
    """The 1-minute load after "load…:"; ruptime's format has no colon (None)."""
    match = _LOAD.search(output)
    return float(match.group(1)) if match else None


async def read_load(
    argv: list[str], timeout: float, children: set[int] | None = None
) -> float | None:
    """Run a load command, bounded by `timeout`; None when it gave no load."""
    code, output, error = await run_bounded(argv, timeout, children)
    return None if error or code != 0 else parse_load(output)
