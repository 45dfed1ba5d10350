"""The one small interface every dataplane implements."""

from __future__ import annotations

from typing import Any, Protocol

import lvscf

from ..lvs import ServiceKey, Table


class Dataplane(Protocol):
    """Holds a routing table: apply a desired one, report what it holds.

    `apply` brings the dataplane to exactly `table` for the services it owns
    (it never touches foreign ones) and raises `lvs.DataplaneError` when it
    cannot; what it did manage is reflected by `current()`, so the next
    attempt only redoes the rest. `close` removes everything it added.
    """

    name: str

    async def configure(self, config: lvscf.Config) -> None:
        """Take global settings (timeouts, the ipvsadm path) at start and reload."""
        ...

    async def apply(self, table: Table) -> None: ...

    def current(self) -> Table: ...

    def counters(self) -> dict[ServiceKey, dict[str, Any]]:
        """Per service: totals and a "dests" map of "ADDR:PORT" to counters."""
        ...

    async def close(self) -> None: ...
