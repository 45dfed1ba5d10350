"""Small socket tools for namespace tests: ICMP echo, UDP ask, tiny servers.

`Namespace.call` runs the client side inside a namespace; the servers run as
programs there: ``python -c SERVE ADDR PORT BODY`` (HTTP/1.1 keep-alive) and
``python -c SERVE_UDP ADDR PORT BODY``, from the repository root.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any

SERVE = "import sys; from tests.netns.wire import serve; serve(*sys.argv[1:])"
SERVE_UDP = (
    "import sys; from tests.netns.wire import serve_udp; serve_udp(*sys.argv[1:])"
)


def icmp_echo(address: str, timeout: float) -> bool:
    """Send one ICMP echo request (raw socket, root) and wait for its reply."""
    ident, payload = os.getpid() & 0xFFFF, b"piranha-web"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    packet = header[:2] + struct.pack("!H", _checksum(header + payload)) + header[4:]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet + payload, (address, 0))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                reply, (source, _) = sock.recvfrom(2048)
            except TimeoutError:
                return False
            start = (reply[0] & 0x0F) * 4  # past the IP header
            kind, _, _, rid, _ = struct.unpack("!BBHHH", reply[start : start + 8])
            if kind == 0 and rid == ident and source == address:
                return True
    return False


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def udp_ask(address: str, port: int, timeout: float = 2.0, source: str = "") -> str:
    """Send one datagram from a fresh socket and return the answer's text.

    Retries every 0.2 s until `timeout`, so it also waits for a server to start.
    """
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        while True:
            sock.sendto(b"?", (address, port))
            sock.settimeout(min(0.2, max(0.01, deadline - time.monotonic())))
            try:
                return sock.recv(2048).decode()
            except OSError:  # a timeout, or ICMP unreachable before the server is up
                if time.monotonic() > deadline:
                    raise


def wait_for_port(address: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class _NameHandler(BaseHTTPRequestHandler):
    """Answers every GET with the server's name; HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    body = b""

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def server_bind(self) -> None:
        # HTTPServer's own looks up the FQDN, which waits on an unreachable DNS.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


def serve(address: str, port: str, body: str) -> None:
    """Serve `body` + newline on address:port until killed (see SERVE)."""
    handler = type("Handler", (_NameHandler,), {"body": (body + "\n").encode()})
    with _Server((address, int(port)), handler) as server:
        server.serve_forever()


def serve_udp(address: str, port: str, body: str) -> None:
    """Answer every datagram on address:port with `body` + newline until killed."""
    answer = (body + "\n").encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, int(port)))
        while True:
            _, peer = sock.recvfrom(2048)
            sock.sendto(answer, peer)
