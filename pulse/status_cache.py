"""The serialized status answer, rebuilt only where something changed.

At 1,000 virtual servers × 16 real servers the answer is several MB of JSON:
building and serializing it afresh costs hundreds of milliseconds per poll.
`StatusCache` keeps each real server's JSON (up to its `since_change`, the
one value that moves with the clock) and each service's JSON between polls:

- a real server's part is rebuilt when its check count or its weight moved
  (every result, health change, slow-start step and load-monitor change goes
  with one of them), or for all of them when the admin states, the
  configuration (sha256) or the set of real servers changed;
- a service's part when the dataplane's `versions()` number for it moved
  (dataplanes without one are serialized whole each time);
- `since_change` is formatted for every real server at each poll, in C-level
  passes (map over attrgetter), so it stays exact.
"""

from __future__ import annotations

import json
import time
import weakref
from itertools import chain, compress, count, repeat
from operator import attrgetter, ne
from typing import TYPE_CHECKING, Any, Protocol

from .lvs import Entry, ServiceKey
from .state import ServerStatus, admin_health
from .status import _head, _service, _services

if TYPE_CHECKING:
    from .daemon import Daemon

_CHECKS = attrgetter("checks")
_WEIGHT = attrgetter("weight")
_LAST_CHANGE = attrgetter("last_change")
_SINCE = "%.3f".__mod__


class Versioned(Protocol):
    """What a dataplane offers for per-service caching (optional)."""

    def versions(self) -> dict[ServiceKey, int]: ...

    def service(self, key: ServiceKey) -> tuple[Entry, dict[str, Any]]: ...


class StatusCache:
    """Serialized parts of one daemon's status answer, kept between polls."""

    def __init__(self) -> None:
        self._values: list[ServerStatus] = []
        self._keys: list[tuple[str, str]] = []
        self._checks: list[int] = []
        self._weights: list[int | None] = []
        self._admin: dict[tuple[str, str], str] = {}
        self._sha256 = ""
        self._heads: list[str] = []  # each server's JSON up to since_change
        self._services: dict[ServiceKey, tuple[int, str]] = {}
        self._events_key: tuple[int, int] = (0, 0)
        self._events = "[]"

    def answer(self, daemon: Daemon) -> str:
        """The status answer as JSON text (the same object `status()` builds)."""
        head = json.dumps(_head(daemon))
        return (
            f'{head[:-1]}, "services": {self.services(daemon)}, '
            f'"servers": {self.servers(daemon)}, "events": {self.events(daemon)}}}'
        )

    def servers(self, daemon: Daemon) -> str:
        state = daemon.state
        values = list(state.servers.values())
        checks = list(map(_CHECKS, values))
        weights = list(map(_WEIGHT, values))
        if (
            values != self._values
            or state.admin != self._admin
            or state.sha256 != self._sha256
        ):
            self._keys = list(state.servers)
            self._heads = [
                _server_head(s, state.admin.get(k)) for k, s in state.servers.items()
            ]
            self._values, self._admin = values, dict(state.admin)
            self._sha256 = state.sha256
        else:
            changed = set(compress(count(), map(ne, checks, self._checks)))
            changed.update(compress(count(), map(ne, weights, self._weights)))
            for i in changed:
                self._heads[i] = _server_head(values[i], state.admin.get(self._keys[i]))
        self._checks, self._weights = checks, weights
        if not values:
            return "[]"
        since = map(_SINCE, map(time.monotonic().__sub__, map(_LAST_CHANGE, values)))
        body = "".join(chain.from_iterable(zip(self._heads, since, repeat("}, "))))
        return f"[{body[:-2]}]"

    def services(self, daemon: Daemon) -> str:
        plane = daemon.dataplane
        if not hasattr(plane, "versions") or not hasattr(plane, "service"):
            return json.dumps(_services(daemon))
        versioned: Versioned = plane  # type: ignore[assignment]
        versions = versioned.versions()
        parts = []
        for key, version in versions.items():
            cached = self._services.get(key)
            if cached is None or cached[0] != version:
                entry, counters = versioned.service(key)
                cached = (version, json.dumps(_service(key, entry, counters)))
                self._services[key] = cached
            parts.append(cached[1])
        if len(self._services) > len(versions):
            self._services = {k: v for k, v in self._services.items() if k in versions}
        return f"[{', '.join(parts)}]"

    def events(self, daemon: Daemon) -> str:
        events = daemon.state.events
        key = (len(events), id(events[-1]) if events else 0)
        if key != self._events_key:
            self._events_key, self._events = key, json.dumps(list(events))
        return self._events


def _server_head(status: ServerStatus, admin: str | None) -> str:
    """A server's JSON object, open, ending with `"since_change": `."""
    fields = status.as_dict(admin)
    del fields["since_change"]
    return json.dumps(fields)[:-1] + ', "since_change": '


_CACHES: weakref.WeakKeyDictionary[Daemon, StatusCache] = weakref.WeakKeyDictionary()


def status_json(daemon: Daemon) -> str:
    """The status answer as JSON text, from the daemon's cache of parts.

    The cache lives as long as the daemon (weakly keyed): the daemon module
    is not this one's to change, so it is not an attribute of it yet.
    """
    cache = _CACHES.get(daemon)
    if cache is None:
        cache = _CACHES[daemon] = StatusCache()
    return cache.answer(daemon)


# --- the compact answer: counts by health, and only the real servers asked for ---

ServerId = tuple[str, str]
SERVER_FORMS = ("all", "not-up")
MATCH_LIMIT = 64  # characters of a name filter


class _Part:
    """One service of the compact answer: its JSON without dests, its dests."""

    def __init__(self, version: object, service: dict[str, Any], known: set[Any]):
        dests = service.pop("dests")
        self.version = version
        self.head = json.dumps(service)[:-1]
        self.virtuals: tuple[str, ...] = tuple(service["virtuals"])
        self.dests = {(d["address"], d["port"]): json.dumps(d) for d in dests}
        # The destinations that are no configured real server: the sorry one.
        self.known = known
        self.sorry = [j for e, j in self.dests.items() if e not in known]
        self.moved: tuple[object, ...] = ()  # what `text` was made for
        self.text = ""


class CompactView:
    """Counts by health per virtual server, and which real servers are not up,
    updated from the health changes the monitors note (`state.health_changed`)
    and from the admin states."""

    def __init__(self) -> None:
        self.touched: set[ServerId] = set()
        self._servers: object = None
        self._size = -1
        self._sha256 = ""
        self._admin: dict[ServerId, str] = {}
        self._health: dict[ServerId, str] = {}
        self._index: dict[ServerId, int] = {}
        self._counts: dict[str, dict[str, int]] = {}  # virtual → health → n
        self._counts_json: dict[str, str] = {}
        self._totals: dict[str, int] = {}
        self._not_up: dict[str, set[ServerId]] = {}  # virtual → its not-up servers
        self._listed: set[ServerId] = set()  # every real server not up
        self._endpoints: dict[str, set[tuple[str, int]]] = {}
        self._parts: dict[ServiceKey, _Part] = {}
        self._gens: dict[str, int] = {}  # virtual → how often its counts moved
        self._moves = 0
        self._service_total = 0
        self._whole: tuple[tuple[object, ...], str] | None = None
        self._events = StatusCache()  # for its events' part

    def answer(self, daemon: Daemon, servers: str, match: str) -> str:
        self._update(daemon)
        head = json.dumps(_head(daemon))
        services = self._services(daemon, servers, match)
        compact = json.dumps(
            {
                "servers": servers,
                "match": match,
                "total": len(self._health),
                "service_total": self._service_total,
            }
        )[:-1]
        return (
            f'{head[:-1]}, "services": {services}, '
            f'"servers": {self._servers_json(daemon, servers, match)}, '
            f'"events": {self._events.events(daemon)}, '
            f'"compact": {compact}, "healths": {json.dumps(self._totals)}}}}}'
        )

    def _update(self, daemon: Daemon) -> None:
        state = daemon.state
        if (
            state.servers is not self._servers
            or len(state.servers) != self._size
            or state.sha256 != self._sha256
        ):
            self._rebuild(daemon)
            return
        if state.admin != self._admin:
            self.touched.update(state.admin.keys() ^ self._admin.keys())
            self.touched.update(
                k for k, v in state.admin.items() if self._admin.get(k) != v
            )
            self._admin = dict(state.admin)
        self.touched |= state.health_changed  # this view is their one reader
        state.health_changed.clear()
        touched, self.touched = self.touched, set()
        for key in touched:
            status = state.servers.get(key)
            if status is not None and key in self._health:
                self._move(key, admin_health(status.health, state.admin.get(key)))

    def _rebuild(self, daemon: Daemon) -> None:
        state = daemon.state
        self.touched = set()
        state.health_changed.clear()
        self._servers, self._size = state.servers, len(state.servers)
        self._sha256, self._admin = state.sha256, dict(state.admin)
        self._index = {key: i for i, key in enumerate(state.servers)}
        self._health, self._counts, self._totals, self._not_up = {}, {}, {}, {}
        self._listed = set()
        self._endpoints, self._parts, self._whole = {}, {}, None
        for key, status in state.servers.items():
            self._endpoints.setdefault(key[0], set()).add((status.address, status.port))
            self._counts.setdefault(key[0], {})
            self._move(key, admin_health(status.health, state.admin.get(key)))
        self._counts_json = {v: json.dumps(c) for v, c in self._counts.items()}

    def _move(self, key: ServerId, health: str) -> None:
        """Count `key` under `health` (and no longer under its last one)."""
        old = self._health.get(key)
        if old == health:
            return
        virtual = key[0]
        counts = self._counts[virtual]
        if old is not None:
            counts[old] -= 1
            self._totals[old] -= 1
            if not counts[old]:
                del counts[old]
            if not self._totals[old]:
                del self._totals[old]
        counts[health] = counts.get(health, 0) + 1
        self._totals[health] = self._totals.get(health, 0) + 1
        self._health[key] = health
        not_up = self._not_up.setdefault(virtual, set())
        if health == "up":
            not_up.discard(key)
            self._listed.discard(key)
        else:
            not_up.add(key)
            self._listed.add(key)
        self._counts_json[virtual] = json.dumps(counts)
        self._gens[virtual] = self._gens.get(virtual, 0) + 1
        self._moves += 1

    def _services(self, daemon: Daemon, servers: str, match: str) -> str:
        """Each service's part is kept until its version or its counts move."""
        versions = self._versions(daemon)
        self._service_total = len(versions)
        stamp = (versions, self._moves, servers, match)
        if self._whole is not None and self._whole[0] == stamp:
            return self._whole[1]
        gens, texts = self._gens, []
        for key, version in versions.items():
            part = self._parts.get(key)
            if part is None or part.version != version:
                part = self._parts[key] = self._part(daemon, key, version)
            virtuals = part.virtuals
            if match and not any(match in v for v in virtuals):
                continue
            moved = (servers, *[gens.get(v, 0) for v in virtuals])
            if part.moved != moved:
                part.text, part.moved = self._text(daemon, part, servers), moved
            texts.append(part.text)
        text = f"[{', '.join(texts)}]"
        self._whole = (stamp, text)
        return text

    def _text(self, daemon: Daemon, part: _Part, servers: str) -> str:
        """One service of the compact answer: counts, and the dests listed."""
        virtuals = part.virtuals
        if len(virtuals) == 1:
            counts = self._counts_json.get(virtuals[0], "{}")
            endpoints = self._shown_endpoints(daemon, virtuals[0])
        else:
            counts, endpoints = self._merged(daemon, virtuals)
        if servers == "all":
            dests = list(part.dests.values())
        elif endpoints:  # in the dataplane's order, as in the whole answer
            known = part.known
            dests = [
                j for e, j in part.dests.items() if e in endpoints or e not in known
            ]
        else:
            dests = part.sorry
        return f'{part.head}, "healths": {counts}, "dests": [{", ".join(dests)}]}}'

    def _versions(self, daemon: Daemon) -> dict[ServiceKey, object]:
        plane = daemon.dataplane
        if hasattr(plane, "versions") and hasattr(plane, "service"):
            versions: dict[ServiceKey, object] = plane.versions()
            return versions
        return {key: object() for key in plane.current()}  # rebuilt at each poll

    def _part(self, daemon: Daemon, key: ServiceKey, version: object) -> _Part:
        plane = daemon.dataplane
        if hasattr(plane, "service"):
            entry, counters = plane.service(key)
        else:
            entry, counters = plane.current()[key], plane.counters().get(key, {})
        known = set().union(*(self._endpoints.get(v, ()) for v in entry.spec.names))
        return _Part(version, _service(key, entry, counters), known)

    def _shown_endpoints(self, daemon: Daemon, virtual: str) -> set[tuple[str, int]]:
        servers = daemon.state.servers
        keys = self._not_up.get(virtual, ())
        return {(servers[k].address, servers[k].port) for k in keys}

    def _merged(
        self, daemon: Daemon, virtuals: tuple[str, ...]
    ) -> tuple[str, set[tuple[str, int]]]:
        counts: dict[str, int] = {}
        endpoints: set[tuple[str, int]] = set()
        for virtual in virtuals:
            for health, n in self._counts.get(virtual, {}).items():
                counts[health] = counts.get(health, 0) + n
            endpoints |= self._shown_endpoints(daemon, virtual)
        return json.dumps(counts), endpoints

    def _servers_json(self, daemon: Daemon, servers: str, match: str) -> str:
        state = daemon.state
        if servers == "all":
            keys = [k for k in state.servers if match in k[0]]
        else:
            keys = sorted(
                (k for k in self._listed if match in k[0]),
                key=self._index.__getitem__,
            )
        items = (state.servers[k].as_dict(state.admin.get(k)) for k in keys)
        return f"[{', '.join(map(json.dumps, items))}]"


_COMPACT: weakref.WeakKeyDictionary[Daemon, CompactView] = weakref.WeakKeyDictionary()


def compact_json(daemon: Daemon, servers: str = "not-up", match: str = "") -> str:
    """The compact status answer as JSON text (docs/pulse.md, the control socket).

    Every top-level key of the status answer, and "compact": the form asked
    for, how many real servers ("total") and services ("service_total") there
    are in all, and all real servers by health ("healths"); each service
    carries "healths", its real servers by health, and only the dests of the
    real servers listed (and a sorry server's); "servers" lists only the real
    servers not up ("not-up"), or all ("all"), of the virtual servers whose
    name contains `match`.
    """
    view = _COMPACT.get(daemon)
    if view is None:
        view = _COMPACT[daemon] = CompactView()
    return view.answer(daemon, servers, match)
