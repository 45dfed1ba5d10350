"""Bounded waiting and a recording ipvsadm for the pulse runtime tests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path


async def until(predicate, timeout=5.0, step=0.02):
    """Wait until predicate() is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        await asyncio.sleep(step)


class FakeIpvsadm:
    """A program that records its arguments, one line per call; can be made to fail."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "ipvsadm"
        self.log = directory / "ipvsadm.log"
        self.fail = directory / "ipvsadm.fail"
        script = f'echo "$*" >> {self.log}\n[ -e {self.fail} ] && exit 2\nexit 0\n'
        self.path.write_text("#!/bin/sh\n" + script)
        self.path.chmod(0o755)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []
