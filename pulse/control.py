"""The control socket: JSON lines over a Unix socket, mode 0660.

Each request is one JSON object with a "cmd" (status, reload, stop, drain,
maint, ready); each answer is one JSON object with "ok". The CLI and the web
talk to pulse only through here; what "status" answers is built in status.py.
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

from .status_cache import MATCH_LIMIT, SERVER_FORMS, compact_json, status_json

if TYPE_CHECKING:
    from .daemon import Daemon

logger = logging.getLogger(__name__)

SOCKET_MODE = 0o660  # root and the web's group; nobody else
LINE_LIMIT = 64 * 1024  # a request is a few hundred bytes
CLIENT_TIMEOUT = 30.0  # seconds the CLI waits for an answer (a reload included)


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
                if not isinstance(answer, bytes):
                    answer = json.dumps(answer).encode()
                writer.write(answer + b"\n")
                await writer.drain()
        except (ConnectionError, ValueError):
            pass  # a client that went away or sent an over-long line
        finally:
            self._clients.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def handle(self, line: bytes) -> dict[str, Any] | bytes:
        """Answer one request line (status comes serialized, from its cache)."""
        try:
            request = json.loads(line)
            command = request["cmd"]
        except (ValueError, KeyError, TypeError):
            return {"ok": False, "error": 'expected {"cmd": ...}'}
        if command == "status":
            return self._status(request)
        if command == "reload":
            error = await self.daemon.reload()
            return {"ok": not error, "error": error} if error else {"ok": True}
        if command == "stop":
            self.daemon.state.stop.set()
            return {"ok": True}
        if command in ("drain", "maint", "ready"):
            return self._admin(command, request)
        return {"ok": False, "error": f"unknown command {command!r}"}

    def _status(self, request: dict[str, Any]) -> dict[str, Any] | bytes:
        """The whole status, or the compact one when "servers" or "match" is given."""
        if "servers" not in request and "match" not in request:
            text = status_json(self.daemon)
        else:
            servers, match = request.get("servers", "all"), request.get("match", "")
            if servers not in SERVER_FORMS:
                return {"ok": False, "error": 'servers must be "all" or "not-up"'}
            if not isinstance(match, str) or len(match) > MATCH_LIMIT:
                error = f"match must be a name of at most {MATCH_LIMIT} characters"
                return {"ok": False, "error": error}
            text = compact_json(self.daemon, servers, match)
        return b'{"ok": true, "status": ' + text.encode() + b"}"

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
