"""The kernel NAT dataplane: the `ip piranha` table, built by one netlink
batch (`wire`) and changed by one `nft -f` (`transaction`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import shutil
import subprocess
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError

import lvscf

from ...lvs import (
    FORWARD_FLAGS,
    DataplaneError,
    Entry,
    ServiceKey,
    Table,
    active_virtuals,
)
from . import conntrack, netlink
from .ruleset import NATIVE, REFUSED, TABLE, ShortNames, T, service_id
from .transaction import teardown, transaction
from .wire import full_build

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT = 30.0  # seconds for one nft run; 1,000 services take ~0.25 s
COUNTERS_AGE = 1.0  # seconds a reading of the counters serves status polls


def refusals(config: lvscf.Config) -> list[str]:
    """What in this configuration the nftables dataplane cannot do."""
    problems = []
    if FORWARD_FLAGS.get(config.network, "m") != "m":
        problems.append(
            f"network = {config.network}: the nftables dataplane forwards by NAT "
            "only; use --dataplane ipvs for direct routing or tunnelling"
        )
    for virtual in active_virtuals(config):
        if virtual.scheduler not in NATIVE:
            problems.append(
                f"virtual server {virtual.name}: scheduler {virtual.scheduler} cannot "
                "be expressed in nftables (only " + ", ".join(NATIVE) + "); use "
                "--dataplane userspace or ipvs, which support " + ", ".join(REFUSED)
            )
    return problems


class NftablesDataplane:
    """Holds the routing table in the kernel's nftables NAT, in a table of its own."""

    name = "nftables"

    def __init__(self, nft: str = "nft", direct: bool = True) -> None:
        self.nft = nft
        self.direct = direct  # full builds as netlink messages, not nft text
        self._table: dict[ServiceKey, Entry] = {}
        self._rebuild = True  # the next apply deletes and rebuilds the table
        self._names = ShortNames()  # the services' map names in the kernel
        self._channel = netlink.Channel()  # full builds: kept open, see Channel
        self._counters: dict[ServiceKey, dict[str, Any]] = {}
        self._read_at = -COUNTERS_AGE
        self._reading: asyncio.Task[None] | None = None
        self._building: asyncio.Task[None] | None = None  # a full build's thread
        self._forgetting: set[asyncio.Task[None]] = set()

    async def configure(self, config: lvscf.Config) -> None:
        """Refuse, before anything is applied, what nftables cannot express."""
        if shutil.which(self.nft) is None:
            raise DataplaneError(f"the nft program ({self.nft}) is not installed")
        problems = refusals(config)
        if problems:
            raise DataplaneError("; ".join(problems))

    async def apply(self, table: Table) -> None:
        """Turn our table into `table` in one atomic transaction.

        A rebuild (the first apply, or the one after a failure) goes to the
        kernel as a netlink batch; changes after it as `nft -f`. After a
        failure nothing changed in the kernel (it refuses a transaction as a
        whole: `current()` still holds), but the next attempt rebuilds the
        table afresh in case it was touched from outside.
        """
        if not self._rebuild and self._table == dict(table):
            return  # nothing to do; do not even start nft
        # services (or VIPs of a mark) new to the kernel: flows may predate them
        added = {
            key
            for key, entry in table.items()
            if self._rebuild
            or key not in self._table
            or entry.spec.listen != self._table[key].spec.listen
        }
        if self._rebuild:
            self._names = ShortNames()  # a new table: names afresh
        if self._rebuild and self.direct:  # full_build refuses what it cannot do
            await self._build_on_thread(dict(table))
        else:
            old = None if self._rebuild else self._table
            script = transaction(old, table, self._names)
            self._rebuild = True
            await self._run(script)
        self._table, self._rebuild = dict(table), False
        logger.debug("nftables table %s holds %d services", TABLE, len(table))
        if added:  # in the background: the table is in place, the rest can wait
            fresh = {key: self._table[key] for key in added}
            task = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self._forget_unnatted, fresh)
            )
            self._forgetting.add(task)
            task.add_done_callback(self._forgetting.discard)

    async def idle(self) -> None:
        """Wait for the work an apply left in the background (forgetting
        untranslated flows)."""
        while self._forgetting:
            await asyncio.gather(*self._forgetting, return_exceptions=True)

    async def _build_on_thread(self, table: Table) -> None:
        """The full build, on a thread (~30 ms of Python for 1,000 services),
        seen to its end even when the caller is cancelled: the thread cannot
        be stopped, and `close()` must not tear the table down before it."""
        self._building = asyncio.get_running_loop().create_task(
            asyncio.to_thread(self._build, table, self._names, self._channel)
        )
        try:
            await asyncio.shield(self._building)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self._building
            raise

    def current(self) -> Table:
        return dict(self._table)

    def counters(self) -> dict[ServiceKey, dict[str, Any]]:
        """Connections per service and real server (conntrack), new ones per service.

        "conns" counts the connections each service scheduled since it was
        added (its named counter: NAT sees one packet per connection). As
        last read, at most about COUNTERS_AGE old: reading runs nft and parses
        the whole conntrack table, which happens on a thread when someone asks
        and the last reading is older, so a status poll never stalls the loop
        (and with it the heartbeat).
        """
        loop = asyncio.get_running_loop()
        fresh = loop.time() - self._read_at < COUNTERS_AGE
        if not fresh and (self._reading is None or self._reading.done()):
            self._read_at = loop.time()
            self._reading = loop.create_task(self.read_counters())
        return {
            key: self._counters[key] for key in self._table if key in self._counters
        }

    async def read_counters(self) -> None:
        """Read conntrack and the named counters on a thread, then keep them."""
        self._counters = await asyncio.to_thread(self.read_now)

    def read_now(self) -> dict[ServiceKey, dict[str, Any]]:
        """Read the counters at once (blocking: runs nft, parses conntrack)."""
        result = conntrack.tally(self.current(), conntrack.read())
        scheduled = self._named_counters()
        for key, counts in result.items():
            counts["conns"] = scheduled.get(f"c_{service_id(key)}", 0)
        return result

    async def close(self) -> None:
        """Delete our table; other tables are not touched. A full build still
        running (its caller was cancelled) ends first."""
        for task in (self._reading, *self._forgetting):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._building is not None:
            with contextlib.suppress(Exception):
                await self._building
        try:
            await self._run(teardown())
        finally:
            self._channel.close()
            self._table, self._rebuild = {}, True

    def _named_counters(self) -> dict[str, int]:
        argv = [self.nft, "-j", "list", "counters", "table", *T.split()]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            listing = json.loads(done.stdout) if done.returncode == 0 else {}
        except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
            return {}
        return {
            item["counter"]["name"]: int(item["counter"]["packets"])
            for item in listing.get("nftables", [])
            if "counter" in item
        }

    @staticmethod
    def _forget_unnatted(table: Table) -> None:
        """Drop conntrack entries of flows to our VIPs that began before the
        table held their service (see conntrack.unnatted): otherwise a client
        retrying from the same port stays unserved until the entry expires."""
        try:
            gone = conntrack.forget(conntrack.unnatted(table, conntrack.read()))
        except (OSError, NetlinkError) as exc:
            logger.warning("could not clear untranslated connections: %s", exc)
            return
        if gone:
            logger.info(
                "forgot %d connection(s) to virtual servers that began before "
                "their rules were in place",
                gone,
            )

    @staticmethod
    def _build(table: Table, names: ShortNames, channel: netlink.Channel) -> None:
        """Build the table as netlink messages and commit them;
        DataplaneError with the kernel's reason.

        The garbage collector waits meanwhile: the build allocates some ten
        thousand short-lived containers and no cycles, and a full collection
        triggered in the middle (~15 ms with a large table) would only delay
        the takeover; it runs at its next turn instead.
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            channel.commit(full_build(table, names))
        except netlink.KernelRefused as exc:
            raise DataplaneError(f"the kernel refused {exc}") from None
        except OSError as exc:
            raise DataplaneError(
                f"cannot talk nf_tables netlink: {exc.strerror}"
            ) from exc
        except DataplaneError:
            raise
        except Exception as exc:  # an encoder bug: a failed apply, not a dead pulse
            logger.exception("building the nftables table failed")
            raise DataplaneError(f"could not encode the table: {exc!r}") from exc
        finally:
            if paused:
                gc.enable()

    async def _run(self, script: str) -> None:
        """nft -f - with the script on stdin; DataplaneError with nft's complaint."""
        try:
            proc = await asyncio.create_subprocess_exec(
                self.nft,
                "-f",
                "-",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise DataplaneError(f"cannot run {self.nft}: {exc.strerror}") from exc
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                _, error = await proc.communicate(script.encode())
        except BaseException as exc:  # a timeout, or pulse shutting down
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            if isinstance(exc, TimeoutError):
                raise DataplaneError(f"{self.nft} -f timed out") from None
            raise
        if proc.returncode != 0:
            lines = error.decode(errors="replace").strip().splitlines()
            errors = [line for line in lines if "Error:" in line] or lines[:1]
            raise DataplaneError(f"{self.nft} -f failed: {' / '.join(errors[:3])}")
