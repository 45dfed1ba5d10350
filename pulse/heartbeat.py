"""The heartbeat on the wire: the original pulse's UDP packets, and the sockets.

One datagram is one 4-byte unsigned int in host byte order, nothing else:
0xbdaddbda "running" (the sender is active) or 0xadbddabd "stopped". It goes
from our public address to the partner's public one on `heartbeat_port`, and
from our private address to the partner's private one when they differ from
the public ones. A datagram counts only if it comes from one of the partner's
addresses, is 4 bytes long and carries an LVS magic; the FOS magics mean the
partner runs a different service and are refused, as the original did.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from .failover import RUNNING, STOPPED

logger = logging.getLogger(__name__)

MAGIC = {RUNNING: 0xBDADDBDA, STOPPED: 0xADBDDABD}
SAYS = {value: name for name, value in MAGIC.items()}
# FOS mode's running, stopped, STOPME, HOLD and HELD: another service, refused.
FOS_MAGIC = frozenset({0xBEEFBABE, 0xDEADBEEF, 0xDEADDADA, 0xDEAFBABE, 0xDEAFDADA})
PACKET = struct.Struct("=I")  # host byte order, as the original sent it
LOG_EVERY = 10.0  # seconds between two log lines about the same bad sender


def encode(says: str) -> bytes:
    """The datagram for "running" or "stopped"."""
    return PACKET.pack(MAGIC[says])


def decode(data: bytes) -> str:
    """ "running" or "stopped"; ValueError naming what is wrong otherwise."""
    if len(data) != PACKET.size:
        raise ValueError("bad heartbeat packet")
    (magic,) = PACKET.unpack(data)
    if magic in SAYS:
        return SAYS[magic]
    if magic in FOS_MAGIC:
        raise ValueError(
            "Incompatible heartbeat received -- other system not using "
            "identical services"
        )
    raise ValueError("bad heartbeat packet")


@dataclass
class Path:
    """One heartbeat path (public or private) and what it last heard."""

    name: str
    local: str
    partner: str
    last: float | None = None  # monotonic time of the last valid heartbeat
    says: str | None = None

    def as_dict(self, now: float) -> dict[str, object]:
        age = None if self.last is None else round(now - self.last, 3)
        return {
            "name": self.name,
            "local": self.local,
            "partner": self.partner,
            "last_age": age,
            "partner_says": self.says,
        }


def paths_for(
    own: tuple[str, str | None], partner: tuple[str, str | None]
) -> list[Path]:
    """The public path, and the private one when both ends have their own."""
    paths = [Path("public", own[0], partner[0])]
    private_local, private_partner = own[1], partner[1]
    if (
        private_local
        and private_partner
        and (private_local, private_partner) != (own[0], partner[0])
    ):
        paths.append(Path("private", private_local, private_partner))
    return paths


Heard = Callable[[Path, str], None]


class _Endpoint(asyncio.DatagramProtocol):
    """One bound socket; hands valid heartbeats to the `Heartbeat`."""

    def __init__(self, owner: Heartbeat) -> None:
        self.owner = owner
        self.transport: asyncio.DatagramTransport | None = None

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.owner.received(data, str(addr[0]))

    def error_received(self, exc: Exception) -> None:
        # An ICMP unreachable from a partner that is down: expected, not news.
        logger.debug("heartbeat socket: %s", exc)


class Heartbeat:
    """The heartbeat sockets of one router: send on every path, check input."""

    def __init__(self, paths: list[Path], port: int, heard: Heard) -> None:
        self.paths, self.port, self.heard = paths, port, heard
        self._endpoints: list[_Endpoint] = []
        self._logged: dict[tuple[str, str], float] = {}

    async def open(self) -> None:
        """Bind one socket per path to (local address, heartbeat_port)."""
        loop = asyncio.get_running_loop()
        try:
            for path in self.paths:
                endpoint = _Endpoint(self)
                endpoint.transport, _ = await loop.create_datagram_endpoint(
                    lambda e=endpoint: e,  # type: ignore[misc]
                    local_addr=(path.local, self.port),
                    family=socket.AF_INET,
                )
                self._endpoints.append(endpoint)
        except OSError as exc:
            self.close()
            raise OSError(
                f"pulse: cannot create heartbeat socket. running as root? ({exc})"
            ) from exc

    def send(self, says: str) -> None:
        """One heartbeat on every path."""
        data = encode(says)
        for path, endpoint in zip(self.paths, self._endpoints, strict=False):
            if endpoint.transport is not None:
                endpoint.transport.sendto(data, (path.partner, self.port))

    def received(self, data: bytes, source: str) -> None:
        """Check one datagram; a valid one updates its path and is handed on."""
        path = next((p for p in self.paths if p.partner == source), None)
        if path is None:
            self._log(source, f"Unexpected heartbeat from {source}")
            return
        try:
            says = decode(data)
        except ValueError as exc:
            self._log(source, str(exc))
            return
        path.last, path.says = time.monotonic(), says
        self.heard(path, says)

    def _log(self, source: str, message: str) -> None:
        """Log a refused datagram, at most once per LOG_EVERY per sender and kind."""
        now = time.monotonic()
        key = (source, message)
        if now - self._logged.get(key, -LOG_EVERY) >= LOG_EVERY:
            self._logged[key] = now
            logger.warning("%s", message)

    def close(self) -> None:
        for endpoint in self._endpoints:
            if endpoint.transport is not None:
                endpoint.transport.close()
        self._endpoints.clear()
