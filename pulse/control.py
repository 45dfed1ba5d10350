"""The control socket: JSON lines over a Unix socket, mode 0660.

Each request is one JSON object with a "cmd" (status, reload, stop, drain,
maint, ready); each answer is one JSON object with "ok". The CLI and the web
talk to pulse only through here. `format_status` prints a status the way
`ipvsadm -L -n` prints a table, with each real server's health beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .daemon import Daemon

logger = logging.getLogger(__name__)

SOCKET_MODE = 0o660  # root and the web's group; nobody else
LINE_LIMIT = 64 * 1024  # a request is a few hundred bytes
CLIENT_TIMEOUT = 30.0  # seconds the CLI waits for an answer (a reload included)
FORWARD_NAMES = {"m": "Masq", "g": "Route", "i": "Tunnel"}


def default_socket() -> str:
    """$PIRANHA_PULSE_SOCKET, else pulse.sock in the state directory."""
    explicit = os.environ.get("PIRANHA_PULSE_SOCKET")
    if explicit:
        return explicit
    return os.path.join(os.environ.get("PIRANHA_VAR_DIR", "var"), "pulse.sock")


class ControlServer:
    """Serves the control socket for one daemon."""

    def __init__(self, daemon: Daemon, path: str) -> None:
        self.daemon, self.path = daemon, path
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        _remove_stale(self.path)
        self._server = await asyncio.start_unix_server(
            self._serve, self.path, limit=LINE_LIMIT
        )
        os.chmod(self.path, SOCKET_MODE)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            # An EOF ends each client's loop normally, rather than by cancelling it.
            for writer in list(self._clients):
                writer.close()
            await self._server.wait_closed()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._clients.add(writer)
        try:
            while line := await reader.readline():
                answer = await self.handle(line)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, ValueError):
            pass  # a client that went away or sent an over-long line
        finally:
            self._clients.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def handle(self, line: bytes) -> dict[str, Any]:
        """Answer one request line."""
        try:
            request = json.loads(line)
            command = request["cmd"]
        except (ValueError, KeyError, TypeError):
            return {"ok": False, "error": 'expected {"cmd": ...}'}
        if command == "status":
            return {"ok": True, "status": status(self.daemon)}
        if command == "reload":
            error = await self.daemon.reload()
            return {"ok": not error, "error": error} if error else {"ok": True}
        if command == "stop":
            self.daemon.state.stop.set()
            return {"ok": True}
        if command in ("drain", "maint", "ready"):
            return self._admin(command, request)
        return {"ok": False, "error": f"unknown command {command!r}"}

    def _admin(self, command: str, request: dict[str, Any]) -> dict[str, Any]:
        key = (str(request.get("virtual")), str(request.get("server")))
        state = self.daemon.state
        if key not in state.servers:
            return {"ok": False, "error": f"no active real server {key[0]}/{key[1]}"}
        if command == "ready":
            state.admin.pop(key, None)
        else:
            state.admin[key] = command
        state.event("admin: %s %s/%s", command, *key)
        state.changed.set()
        return {"ok": True}


def _remove_stale(path: str) -> None:
    """Remove a socket left by a dead pulse; refuse if one still answers."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise OSError(f"{path} exists and is not a socket")
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)
            return
    raise OSError(f"another pulse answers on {path}")


def status(daemon: Daemon) -> dict[str, Any]:
    """Everything the status view shows."""
    state = daemon.state
    return {
        "state": state.phase,
        "role": state.role,
        "uptime": round(state.uptime(), 3),
        "config": state.config_path,
        "serial": state.config.serial_no,
        "sha256": state.sha256,
        "problems": list(state.problems),
        "dataplane": state.dataplane,
        "dataplane_error": state.dataplane_error,
        "services": _services(daemon),
        "servers": [
            s.as_dict(state.admin.get(key)) for key, s in state.servers.items()
        ],
        "sorry": sorted(state.sorry),
        "events": list(state.events),
    }


def _services(daemon: Daemon) -> list[dict[str, Any]]:
    counters = daemon.dataplane.counters()
    services = []
    for key, entry in daemon.dataplane.current().items():
        spec = entry.spec
        count = counters.get(key, {})
        dests = [
            {
                "address": a,
                "port": p,
                "weight": w,
                **count.get("dests", {}).get(f"{a}:{p}", {}),
            }
            for (a, p), w in entry.dests.items()
        ]
        services.append(
            {
                "service": str(key),
                "protocol": key.protocol,
                "address": key.address,
                "port": key.port,
                "scheduler": spec.scheduler,
                "flags": spec.flags(),
                "forward": FORWARD_NAMES.get(spec.forward, spec.forward),
                "virtuals": list(spec.names),
                "counters": {k: v for k, v in count.items() if k != "dests"},
                "dests": dests,
            }
        )
    return services


def format_status(status: dict[str, Any]) -> str:
    """`ipvsadm -L -n`'s layout with a health column, plus the state line."""
    lines = [
        f"pulse {status['state']} ({status['role']}), dataplane "
        f"{status['dataplane']}, serial {status['serial']}, "
        f"up {status['uptime']:.0f} s",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]
    by_service: dict[str, list[dict[str, Any]]] = {}
    for server in status["servers"]:
        by_service.setdefault(server["virtual"], []).append(server)
    for service in status["services"]:
        name = f"{service['protocol'].upper():<4} "
        where = (
            str(service["port"])
            if service["protocol"] == "fwm"
            else f"{service['address']}:{service['port']}"
        )
        lines.append(
            f"{name}{where} {service['scheduler']} {service['flags']}".rstrip()
        )
        lines.extend(_dest_lines(service, by_service, status["sorry"]))
    if status["dataplane_error"]:
        lines.append(f"dataplane error: {status['dataplane_error']}")
    return "\n".join(lines)


def _dest_lines(
    service: dict[str, Any],
    by_service: dict[str, list[dict[str, Any]]],
    sorry: list[str],
) -> list[str]:
    servers = [s for v in service["virtuals"] for s in by_service.get(v, [])]
    health = {(s["address"], s["port"]): s["health"] for s in servers}
    lines = []
    shown = set()
    for dest in service["dests"]:
        endpoint = (dest["address"], dest["port"])
        shown.add(endpoint)
        state = health.get(
            endpoint, "sorry" if set(service["virtuals"]) & set(sorry) else ""
        )
        lines.append(_dest_line(endpoint, service["forward"], dest, state))
    for server in servers:
        endpoint = (server["address"], server["port"])
        if endpoint not in shown:
            lines.append(
                _dest_line(endpoint, service["forward"], None, server["health"])
            )
    return lines


def _dest_line(
    endpoint: tuple[str, int], forward: str, dest: dict[str, Any] | None, health: str
) -> str:
    where = f"{endpoint[0]}:{endpoint[1]}"
    if dest is None:
        return f"  -> {where:<28}{forward:<8}{'-':<7}{'-':<11}{'-':<10} {health}"
    active, inactive = dest.get("active", 0), dest.get("inactive", 0)
    return (
        f"  -> {where:<28}{forward:<8}{dest['weight']:<7}{active:<11}{inactive:<10}"
        f" {health}"
    ).rstrip()


def request(
    path: str, message: dict[str, Any], timeout: float = CLIENT_TIMEOUT
) -> dict[str, Any]:
    """Send one request to a running pulse and return its answer."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer: dict[str, Any] = json.loads(data)
    return answer
