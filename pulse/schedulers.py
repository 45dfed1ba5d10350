"""The IPVS scheduling algorithms, for the userspace dataplane.

Each follows the kernel's `net/netfilter/ipvs/ip_vs_*.c` so that a service
behaves the same on either dataplane: weight 0 means "no new connections",
the connection overhead of lc/wlc is ``active * 256 + inactive``, sed/nq use
``active + 1``, sh/dh hash into a 256-bucket table. A scheduler sees the pool
through `update()` and picks with `pick(client, target)`; the counters it
reads (`active`, `inactive`) are live attributes of the destinations.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

TABLE_SIZE = 256  # IP_VS_SH_TAB_SIZE / IP_VS_DH_TAB_SIZE
HASH_MULTIPLIER = 2654435761  # the kernel's golden-ratio hash
LBLCR_EXPIRE = 6 * 60.0  # ip_vs_lblcr: shrink a replicated set after 6 min


class Candidate(Protocol):
    """What a scheduler reads from a destination."""

    @property
    def weight(self) -> int: ...
    @property
    def active(self) -> int: ...
    @property
    def inactive(self) -> int: ...


D = TypeVar("D", bound=Candidate)


def overhead(dest: Candidate) -> int:
    """ip_vs_dest_conn_overhead: active connections weigh 256 inactive ones."""
    return dest.active * 256 + dest.inactive


def sed_overhead(dest: Candidate) -> int:
    """ip_vs_sed_dest_overhead: the expected delay counts the new connection."""
    return dest.active + 1


def _weighted_least(dests: Sequence[D], cost: Callable[[Candidate], int]) -> D | None:
    """The destination with the lowest cost/weight; the first wins ties."""
    least: D | None = None
    for dest in dests:
        if dest.weight <= 0:
            continue
        if least is None or cost(least) * dest.weight > cost(dest) * least.weight:
            least = dest
    return least


def is_overloaded(dest: Candidate, dests: Sequence[Candidate]) -> bool:
    """ip_vs_lblc's rule: busier than its weight while another is half idle."""
    if dest.active <= dest.weight:
        return False
    return any(d.active * 2 < d.weight for d in dests)


def hash_address(address: str) -> int:
    """The bucket of an IPv4/IPv6 address in the 256-entry hash table."""
    value = int(ipaddress.ip_address(address))
    folded = value if value < 2**32 else (value ^ (value >> 32)) & 0xFFFFFFFF
    return (folded * HASH_MULTIPLIER) & (TABLE_SIZE - 1)


class Scheduler(Generic[D]):
    """Base class: holds the pool; subclasses implement `pick`."""

    name = ""
    needs_client = False  # reads the client's address (sh)
    needs_target = False  # reads the destination address (dh, lblc, lblcr)

    def __init__(self) -> None:
        self.dests: list[D] = []

    def update(self, dests: Sequence[D]) -> None:
        """Take a new pool (membership or weights changed)."""
        self.dests = list(dests)

    def pick(self, client: str, target: str) -> D | None:
        raise NotImplementedError


class RoundRobin(Scheduler[D]):
    """rr: the next destination with a positive weight."""

    name = "rr"

    def __init__(self) -> None:
        super().__init__()
        self._last = -1

    def pick(self, client: str, target: str) -> D | None:
        n = len(self.dests)
        for step in range(1, n + 1):
            index = (self._last + step) % n
            if self.dests[index].weight > 0:
                self._last = index
                return self.dests[index]
        return None


class WeightedRoundRobin(Scheduler[D]):
    """wrr: the kernel's interleaved sequence (current weight steps by the gcd)."""

    name = "wrr"

    def __init__(self) -> None:
        super().__init__()
        self._index = -1
        self._cw = 0

    def update(self, dests: Sequence[D]) -> None:
        super().update(dests)
        self._index = -1
        self._cw = 0

    def pick(self, client: str, target: str) -> D | None:
        weights = [d.weight for d in self.dests if d.weight > 0]
        if not weights:
            return None
        top, step = max(weights), math.gcd(*weights)
        n = len(self.dests)
        for _ in range(n * (top // step + 1)):
            self._index = (self._index + 1) % n
            if self._index == 0:
                self._cw -= step
                if self._cw <= 0:
                    self._cw = top
            if self.dests[self._index].weight >= self._cw:
                return self.dests[self._index]
        return None  # pragma: no cover - the loop always finds one


class LeastConnection(Scheduler[D]):
    """lc: the lowest overhead, weights only as on/off."""

    name = "lc"

    def pick(self, client: str, target: str) -> D | None:
        least: D | None = None
        for dest in self.dests:
            if dest.weight > 0 and (least is None or overhead(dest) < overhead(least)):
                least = dest
        return least


class WeightedLeastConnection(Scheduler[D]):
    """wlc: the lowest overhead per unit of weight."""

    name = "wlc"

    def pick(self, client: str, target: str) -> D | None:
        return _weighted_least(self.dests, overhead)


class ShortestExpectedDelay(Scheduler[D]):
    """sed: the lowest (active + 1) / weight."""

    name = "sed"

    def pick(self, client: str, target: str) -> D | None:
        return _weighted_least(self.dests, sed_overhead)


class NeverQueue(Scheduler[D]):
    """nq: an idle destination if there is one, otherwise sed."""

    name = "nq"

    def pick(self, client: str, target: str) -> D | None:
        for dest in self.dests:
            if dest.weight > 0 and dest.active == 0:
                return dest
        return _weighted_least(self.dests, sed_overhead)


class _HashScheduler(Scheduler[D]):
    """A 256-bucket table over the pool; weight 0 makes a bucket unavailable."""

    weighted = False

    def __init__(self) -> None:
        super().__init__()
        self._table: list[D] = []

    def update(self, dests: Sequence[D]) -> None:
        super().update(dests)
        self._table = []
        if not self.dests:
            return
        index, count = 0, 0
        for _ in range(TABLE_SIZE):
            dest = self.dests[index]
            self._table.append(dest)
            count += 1
            # sh repeats a destination `weight` times; dh gives each one bucket.
            if not self.weighted or count >= dest.weight:
                index, count = (index + 1) % len(self.dests), 0

    def _lookup(self, address: str) -> D | None:
        if not self._table:
            return None
        dest = self._table[hash_address(address)]
        return dest if dest.weight > 0 else None


class SourceHash(_HashScheduler[D]):
    """sh: the client's address picks the bucket, so a client keeps its server."""

    name = "sh"
    weighted = True
    needs_client = True

    def pick(self, client: str, target: str) -> D | None:
        return self._lookup(client)


class DestinationHash(_HashScheduler[D]):
    """dh: the destination (virtual) address picks the bucket."""

    name = "dh"
    needs_target = True

    def pick(self, client: str, target: str) -> D | None:
        return self._lookup(target)


class LocalityLeastConnection(Scheduler[D]):
    """lblc: one server per destination address until it is overloaded."""

    name = "lblc"
    needs_target = True

    def __init__(self) -> None:
        super().__init__()
        self._by_target: dict[str, D] = {}

    def update(self, dests: Sequence[D]) -> None:
        super().update(dests)
        present = {id(d) for d in self.dests}
        self._by_target = {t: d for t, d in self._by_target.items() if id(d) in present}

    def pick(self, client: str, target: str) -> D | None:
        dest = self._by_target.get(target)
        if dest is not None and dest.weight > 0:
            if not is_overloaded(dest, self.dests):
                return dest
        dest = _weighted_least(self.dests, overhead)
        if dest is not None:
            self._by_target[target] = dest
        return dest


class LocalityLeastConnectionReplicated(Scheduler[D]):
    """lblcr: a set of servers per destination address, grown when overloaded."""

    name = "lblcr"
    needs_target = True

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._sets: dict[str, tuple[list[D], float]] = {}
        self._clock = clock

    def update(self, dests: Sequence[D]) -> None:
        super().update(dests)
        present = {id(d) for d in self.dests}
        for target, (members, changed) in list(self._sets.items()):
            kept = [d for d in members if id(d) in present]
            self._sets[target] = (kept, changed)

    def pick(self, client: str, target: str) -> D | None:
        members, changed = self._sets.get(target, ([], self._clock()))
        now = self._clock()
        if len(members) > 1 and now - changed > LBLCR_EXPIRE:
            members.remove(max(members, key=overhead))
            changed = now
        dest = _weighted_least(members, overhead)
        if dest is None or is_overloaded(dest, self.dests):
            dest = _weighted_least(self.dests, overhead)
            if dest is not None and dest not in members:
                members.append(dest)
                changed = now
        self._sets[target] = (members, changed)
        return dest


SCHEDULERS: dict[str, type[Scheduler[Any]]] = {
    "rr": RoundRobin,
    "wrr": WeightedRoundRobin,
    "lc": LeastConnection,
    "wlc": WeightedLeastConnection,
    "sed": ShortestExpectedDelay,
    "nq": NeverQueue,
    "sh": SourceHash,
    "dh": DestinationHash,
    "lblc": LocalityLeastConnection,
    "lblcr": LocalityLeastConnectionReplicated,
}


def make_scheduler(name: str) -> Scheduler[Any]:
    """A fresh scheduler for an lvs.cf scheduler name."""
    return SCHEDULERS[name]()


class PersistenceTable(Generic[D]):
    """Persistent templates: clients in one `pmask` network keep their server.

    As the kernel's templates: a client's entry lives `timeout` seconds after
    its last connection; a quiesced (weight 0) server keeps its persistent
    clients (expire_quiescent_template = 0); a removed one loses them.
    """

    def __init__(
        self, timeout: float, pmask: str | None, clock: Callable[[], float]
    ) -> None:
        self.timeout = timeout
        mask = pmask or "255.255.255.255"
        self._mask = int(ipaddress.IPv4Address(mask))
        self._clock = clock
        self._entries: dict[int, tuple[D, float]] = {}

    def key(self, client: str) -> int:
        """The client's network under pmask (IPv6 clients: the whole address)."""
        address = ipaddress.ip_address(client)
        if address.version == 4:
            return int(address) & self._mask
        return int(address)

    def lookup(self, client: str, present: Sequence[D]) -> D | None:
        entry = self._entries.get(self.key(client))
        if entry is None:
            return None
        dest, expires = entry
        if expires < self._clock() or not any(d is dest for d in present):
            del self._entries[self.key(client)]
            return None
        return dest

    def remember(self, client: str, dest: D) -> None:
        self._entries[self.key(client)] = (dest, self._clock() + self.timeout)
