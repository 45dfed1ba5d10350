"""Health-check probes: what one nanny check did, as small coroutines.

Each probe returns a `Result` and never raises for a server's misbehaviour;
every wait is bounded by the check's timeout. Sockets are raw non-blocking
sockets driven by the loop (no stream objects), which keeps a check cheap
enough for thousands of real servers in one process.
"""

from __future__ import annotations

import _socket
import asyncio
import errno
import os
import re
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import lvscf

# Running a program bounded lives in programs.py; these names stay importable
# from here, where nanny, the dataplanes and the tests take them.
from .programs import load_argv as load_argv
from .programs import parse_load as parse_load
from .programs import read_load as read_load
from .programs import run_bounded as run_bounded

HTTP_SEND = "GET / HTTP/1.0\\r\\n\\r\\n"  # nanny's built-in check (rhbz#495005)
HTTP_EXPECT = "HTTP"
REGEX_READ = 254  # nanny reads up to 254 bytes for --regex
PROGRAM_OUTPUT = 4095  # nanny's first read of the program's output
_ESCAPES = {"\\": "\\", "r": "\r", "n": "\n", "t": "\t", "'": "'", '"': '"'}
# Close with a reset: a check socket never lingers in TIME_WAIT, so thousands of
# checks a second do not fill the port table.
_LINGER_RESET = struct.pack("ii", 1, 0)
# The fast path's names, bound once (it runs thousands of times a second).
_INET, _INET6 = socket.AF_INET, socket.AF_INET6
_STREAM_NONBLOCK = socket.SOCK_STREAM | socket.SOCK_NONBLOCK
_SOL_SOCKET, _SO_LINGER, _SO_ERROR = (
    socket.SOL_SOCKET,
    socket.SO_LINGER,
    socket.SO_ERROR,
)
_EINPROGRESS = errno.EINPROGRESS
_strerror = os.strerror
monotonic = time.monotonic


def unescape(text: str) -> str:
    """nanny's convert_str: \\\\ \\r \\n \\t \\' \\" translated, others kept."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Check:
    """How to check the real servers of one virtual server."""

    protocol: str = "tcp"
    send: bytes | None = None
    expect: bytes | None = None
    regex: re.Pattern[bytes] | None = None
    regex_error: str = ""
    program: str | None = None
    timeout: float = 10.0

    @property
    def connect_only(self) -> bool:
        """A plain TCP connect: the callback fast path can run it."""
        return (
            self.protocol == "tcp"
            and self.send is None
            and self.expect is None
            and not self.program
        )

    @classmethod
    def for_virtual(cls, virtual: lvscf.VirtualServer) -> Check:
        """The check nanny would run for this virtual server."""
        send, expect = virtual.send, virtual.expect
        if virtual.port == 80 and None in (send, expect) and not _given(virtual):
            send, expect = HTTP_SEND, HTTP_EXPECT
        expect_bytes = _encode(expect)
        regex, error = None, ""
        if virtual.use_regex and expect_bytes is not None:
            try:
                regex = re.compile(expect_bytes)
            except re.error as exc:
                error = f"bad regular expression: {exc}"
        return cls(
            protocol=virtual.protocol,
            send=_encode(send),
            expect=expect_bytes,
            regex=regex,
            regex_error=error,
            program=virtual.send_program,
            timeout=float(virtual.timeout),
        )


def _given(virtual: lvscf.VirtualServer) -> bool:
    # An empty string counts as given, as in nanny.
    return any(
        x is not None for x in (virtual.send, virtual.expect, virtual.send_program)
    )


def _encode(text: str | None) -> bytes | None:
    if text is None:
        return None
    return unescape(text).encode("latin-1", "replace")


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one check."""

    ok: bool
    latency: float
    error: str = ""


def _judge(check: Check, data: bytes) -> str:
    """Empty when the reply satisfies the check, otherwise why not."""
    if check.regex_error:
        return check.regex_error
    if check.regex is not None:
        return "" if check.regex.search(data) else "reply does not match the regex"
    expect = check.expect or b""
    if expect == b"*":
        return "" if data else "no reply"
    if data[: len(expect)] == expect:
        return ""
    if len(data) < len(expect) and expect.startswith(data):
        return "reply was too short"
    return f"unexpected reply {data[:40]!r}"


async def _read_reply(sock: socket.socket, check: Check) -> bytes:
    """The first read (regex, `*`), or enough bytes to compare the prefix."""
    loop = asyncio.get_running_loop()
    if check.regex is not None or check.expect == b"*":
        return await loop.sock_recv(sock, REGEX_READ)
    want = len(check.expect or b"")
    data = b""
    while len(data) < want:
        chunk = await loop.sock_recv(sock, want - len(data))
        if not chunk or not (check.expect or b"").startswith(data + chunk):
            return data + chunk
        data += chunk
    return data


async def _exchange(sock: socket.socket, host: str, port: int, check: Check) -> str:
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, port))
    if check.send:
        await loop.sock_sendall(sock, check.send)
    if check.expect is None:
        if check.protocol == "udp":
            return await _udp_silence(sock)
        return ""
    return _judge(check, await _read_reply(sock, check))


async def _udp_silence(sock: socket.socket) -> str:
    """UDP without expect: up unless the port answers unreachable.

    nanny crashed here (NULL expect); we wait for a reply or an ICMP error and
    take silence until the timeout as up.
    """
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_recv(sock, 1)
    except TimeoutError:
        raise
    return ""


class ConnectProbe:
    """A TCP connect check driven by loop callbacks, with no task or future.

    The hot path for thousands of plain-TCP real servers: about a third of
    the CPU of the coroutine path. `done(error, latency)` is called once, ""
    meaning success (possibly before the constructor returns); `cancel` drops
    the check. The socket is a bare `_socket.socket` created non-blocking:
    the `socket.socket` wrapper's Python-level constructor and close cost
    more than the connect itself does in user space.
    """

    __slots__ = ("loop", "sock", "fd", "timer", "done", "started", "timeout")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        host: str,
        port: int,
        timeout: float,
        done: Callable[[str, float], None],
    ) -> None:
        self.loop, self.done, self.timeout = loop, done, timeout
        self.started = monotonic()
        self.timer: asyncio.TimerHandle | None = None
        self.fd = -1  # registered with the loop while >= 0
        self.sock = sock = _socket.socket(
            _INET6 if ":" in host else _INET, _STREAM_NONBLOCK
        )
        sock.setsockopt(_SOL_SOCKET, _SO_LINGER, _LINGER_RESET)
        code = sock.connect_ex((host, port))
        if code == _EINPROGRESS:
            code = self._settled()
        if code != _EINPROGRESS:
            self._finish(_strerror(code) if code else "")
            return
        self.fd = fd = sock.fileno()
        loop.add_writer(fd, self._writable)
        self.timer = loop.call_later(timeout, self._expired)

    def _settled(self) -> int:
        """0 or an errno if the connect is already decided, else EINPROGRESS.

        On loopback (and other local paths) the handshake completes inside
        connect(): answering now saves a poll registration and a loop turn.
        """
        try:
            self.sock.getpeername()
        except OSError:
            code: int = self.sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
            return code or _EINPROGRESS
        return 0

    def _writable(self) -> None:
        code = self.sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
        self._finish(_strerror(code) if code else "")

    def _expired(self) -> None:
        self.timer = None
        self._finish(f"timed out after {self.timeout:g} s")

    def _close(self) -> None:
        if self.fd >= 0:
            self.loop.remove_writer(self.fd)
            self.fd = -1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.sock.close()

    def _finish(self, error: str) -> None:
        self._close()
        self.done(error, monotonic() - self.started)

    def cancel(self) -> None:
        self._close()


async def probe_socket(host: str, port: int, check: Check) -> Result:
    """TCP or UDP check: connect, send, compare the first reply."""
    started = time.monotonic()
    kind = socket.SOCK_DGRAM if check.protocol == "udp" else socket.SOCK_STREAM
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    sock.setblocking(False)
    if kind == socket.SOCK_STREAM:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    error = ""
    try:
        async with asyncio.timeout(check.timeout):
            error = await _exchange(sock, host, port, check)
    except TimeoutError:
        if check.protocol == "udp" and check.expect is None:
            error = ""
        else:
            error = f"timed out after {check.timeout:g} s"
    except OSError as exc:
        # asyncio's connect error carries a message of its own; name the errno.
        error = os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
    finally:
        sock.close()
    return Result(not error, time.monotonic() - started, error)


def program_argv(program: str, host: str, port: int) -> list[str]:
    """nanny's split: single spaces, whole-token %h and %p substituted."""
    swap = {"%h": host, "%p": str(port)}
    return [swap.get(token, token) for token in program.split(" ") if token]


def _chop_newline(output: bytes) -> bytes:
    # Deliberate: nanny chopped the last byte whatever it was ("OK" became "O").
    return output[:-1] if output.endswith(b"\n") else output


async def probe_program(
    host: str, port: int, check: Check, children: set[int] | None = None
) -> Result:
    """send_program: run without a shell, killed at the timeout, output vs expect."""
    started = time.monotonic()
    assert check.program is not None
    argv = program_argv(check.program, host, port)
    if not argv:
        return Result(False, 0.0, "empty send_program")
    code, output, error = await run_bounded(argv, check.timeout, children)
    if error:
        return Result(False, time.monotonic() - started, error)
    return Result(*_judge_program(check, code, output, started))


def _judge_program(
    check: Check, code: int | None, output: bytes, started: float
) -> tuple[bool, float, str]:
    latency = time.monotonic() - started
    if code != 0:
        return False, latency, f"program exited with {code}"
    if check.expect is not None:
        got = _chop_newline(output[:PROGRAM_OUTPUT])
        if got != check.expect:
            return False, latency, f"program printed {got[:40]!r}"
    return True, latency, ""


async def probe(
    host: str, port: int, check: Check, children: set[int] | None = None
) -> Result:
    """One nanny check of host:port."""
    if check.program:
        return await probe_program(host, port, check, children)
    return await probe_socket(host, port, check)
