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
from .state import ServerStatus
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
