"""Bounded waiting and a recording ipvsadm for the pulse runtime tests."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any


async def until(predicate, timeout=5.0, step=0.02):
    """Wait until predicate() is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        await asyncio.sleep(step)


class FakeIpvsadm:
    """ipvsadm as a recording program that keeps its table (fake_ipvsadm.py).

    `lines()` are the command lines it ran; `fail` makes it exit 2 while the
    file exists; `traffic()` sets the counters its listing shows, per
    "RIP:PORT", as the kernel's traffic would.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "ipvsadm"
        self.log = directory / "ipvsadm.log"
        self.fail = directory / "ipvsadm.fail"
        program = Path(__file__).with_name("fake_ipvsadm.py")
        script = f'exec {sys.executable} {program} {directory} "$@"\n'
        self.path.write_text("#!/bin/sh\n" + script)
        self.path.chmod(0o755)

    def lines(self) -> list[str]:
        """The commands that changed something or listed the table."""
        return self.log.read_text().splitlines() if self.log.exists() else []

    def changes(self) -> list[str]:
        """The commands, without the listings the dataplane reads counters with."""
        return [line for line in self.lines() if not line.startswith("-L")]

    def table(self) -> dict[str, Any]:
        path = self.directory / "table.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def traffic(self, counts: dict[str, dict[str, int]]) -> None:
        partial = self.directory / "traffic.tmp"
        partial.write_text(json.dumps(counts))
        partial.replace(self.directory / "traffic.json")
