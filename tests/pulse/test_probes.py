"""Each check kind against real loopback servers, misbehaving ones included."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time

import pytest

from pulse.probes import Check, ConnectProbe, probe, program_argv, unescape

from . import backends
from .factories import config, server, virtual


def check(**fields):
    return Check(**{"timeout": 1.0, **fields})


def test_unescape_translates_nannys_escapes_only():
    assert unescape(r"GET / HTTP/1.0\r\n\r\n") == "GET / HTTP/1.0\r\n\r\n"
    assert unescape(r"a\tb\\c\'\"\x") == "a\tb\\c'\"\\x"
    assert unescape("trailing\\") == "trailing\\"


def test_the_http_check_is_the_default_on_port_80_only():
    cfg = config(
        virtual("web", "127.0.0.1", 80, (server("a", "127.0.0.1"),)),
        virtual("other", "127.0.0.2", 81, (server("a", "127.0.0.1"),)),
        virtual("given", "127.0.0.3", 80, (server("a", "127.0.0.1"),), send='""'),
    )
    web, other, given = (Check.for_virtual(v) for v in cfg.virtual_servers)
    assert (web.send, web.expect) == (b"GET / HTTP/1.0\r\n\r\n", b"HTTP")
    assert (other.send, other.expect) == (None, None)
    assert (given.send, given.expect) == (b"", None)  # an empty send counts as given


def test_a_bad_regex_fails_every_check():
    cfg = config(
        virtual("web", "127.0.0.1", 81, (), expect='"(("', use_regex=1),
    )
    assert Check.for_virtual(cfg.virtual_servers[0]).regex_error


def test_send_program_tokens_are_whole():
    argv = program_argv("/bin/check  -h %h -p %p %h:%p", "10.0.0.1", 80)
    assert argv == ["/bin/check", "-h", "10.0.0.1", "-p", "80", "%h:%p"]


@pytest.mark.asyncio
async def test_tcp_connect_is_up_and_refused_is_down():
    async with backends.tcp_server(backends.silent, "127.0.0.21") as port:
        assert (await probe("127.0.0.21", port, check())).ok
    result = await probe("127.0.0.21", port, check())
    assert not result.ok and "refused" in result.error.lower()


async def fast_check(host, port, timeout=1.0):
    """The callback fast path: (error, latency) from one ConnectProbe."""
    loop = asyncio.get_running_loop()
    answer = loop.create_future()
    ConnectProbe(loop, host, port, timeout, lambda *got: answer.set_result(got))
    return await asyncio.wait_for(answer, timeout + 2)


@pytest.mark.asyncio
async def test_the_connect_fast_path_is_up_refused_and_timed_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.21", 0))
        listener.listen(1)
        where = listener.getsockname()
        assert (await fast_check(*where))[0] == ""
    error, _ = await fast_check(*where)
    assert "refused" in error.lower()
    # A listener whose accept queue is full drops the SYN: the connect hangs.
    with socket.socket() as full, socket.socket() as queued:
        full.bind(("127.0.0.21", 0))
        full.listen(0)
        queued.connect(full.getsockname())
        fds = len(os.listdir("/proc/self/fd"))
        started = time.monotonic()
        host, port = full.getsockname()
        error, latency = await fast_check(host, port, timeout=0.3)
        assert error == "timed out after 0.3 s"
        assert 0.25 < latency < 1.5 and time.monotonic() - started < 1.5
        assert len(os.listdir("/proc/self/fd")) == fds  # the check's socket closed


@pytest.mark.asyncio
async def test_send_and_expect_prefix():
    async with backends.tcp_server(backends.http_ok, "127.0.0.22") as port:
        send = b"GET / HTTP/1.0\r\n\r\n"
        assert (await probe("127.0.0.22", port, check(send=send, expect=b"HTTP"))).ok
        # The prefix rule: "200" is in the reply but not at its start.
        result = await probe("127.0.0.22", port, check(send=send, expect=b"200"))
        assert not result.ok and "unexpected reply" in result.error
        assert (await probe("127.0.0.22", port, check(send=send, expect=b"*"))).ok


@pytest.mark.asyncio
async def test_regex_runs_on_the_first_read():
    async with backends.tcp_server(backends.http_ok, "127.0.0.22") as port:
        send = b"GET / HTTP/1.0\r\n\r\n"
        good = check(send=send, expect=b"x", regex=re.compile(rb"HTTP/1\.[01] 200"))
        assert (await probe("127.0.0.22", port, good)).ok
        bad = check(send=send, expect=b"x", regex=re.compile(rb" 404 "))
        assert not (await probe("127.0.0.22", port, bad)).ok


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("handler", "ok", "error"),
    [
        (backends.silent, False, "timed out"),
        (backends.trickle, False, "timed out"),
        (backends.reset, False, "reset"),
        (backends.flood, True, ""),
        # Closed before our request is read: "too short", or a reset.
        (backends.close_at_once, False, ""),
    ],
)
async def test_misbehaving_servers_are_judged_within_the_timeout(handler, ok, error):
    async with backends.tcp_server(handler, "127.0.0.23") as port:
        started = time.monotonic()
        result = await probe(
            "127.0.0.23", port, check(send=b"GET /\r\n", expect=b"HTTP")
        )
        assert time.monotonic() - started < 1.5
    assert result.ok is ok
    assert error.lower() in result.error.lower()


@pytest.mark.asyncio
async def test_the_trickling_server_passes_with_a_long_enough_timeout():
    async with backends.tcp_server(backends.trickle, "127.0.0.23") as port:
        result = await probe("127.0.0.23", port, check(expect=b"HT", timeout=3.0))
    assert result.ok


@pytest.mark.asyncio
async def test_udp_expect_and_unreachable():
    async with backends.udp_echo("127.0.0.24") as port:
        good = check(protocol="udp", send=b"PING", expect=b"PONG")
        assert (await probe("127.0.0.24", port, good)).ok
        silent = check(protocol="udp", send=b"PING")
        assert (await probe("127.0.0.24", port, silent)).ok
    closed = check(protocol="udp", send=b"PING", expect=b"PONG")
    result = await probe("127.0.0.24", port, closed)
    assert not result.ok and "refused" in result.error.lower()


def script(tmp_path, body):
    path = tmp_path / "check.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.asyncio
async def test_program_output_is_compared_without_one_trailing_newline(tmp_path):
    prog = script(tmp_path, 'echo "$1:$2"')
    assert (
        await probe(
            "10.0.0.1", 80, check(program=f"{prog} %h %p", expect=b"10.0.0.1:80")
        )
    ).ok
    result = await probe("10.0.0.1", 80, check(program=f"{prog} %h %p", expect=b"nope"))
    assert not result.ok


@pytest.mark.asyncio
async def test_a_failing_program_is_a_failed_check(tmp_path):
    prog = script(tmp_path, "echo OK; exit 1")
    result = await probe("10.0.0.1", 80, check(program=prog, expect=b"OK"))
    assert not result.ok and "exited with 1" in result.error
    assert not (await probe("h", 1, check(program="/nonexistent/prog"))).ok
    assert (await probe("h", 1, check(program=script(tmp_path, "exit 0")))).ok


@pytest.mark.asyncio
async def test_a_program_is_killed_at_the_timeout_with_its_children(tmp_path):
    marker = tmp_path / "pid"
    prog = script(tmp_path, f"sleep 30 & echo $! > {marker}; wait")
    started = time.monotonic()
    result = await probe("h", 1, check(program=prog, timeout=0.5))
    assert not result.ok and "timed out" in result.error
    assert time.monotonic() - started < 2
    child = int(marker.read_text())
    for _ in range(50):
        if not os.path.exists(f"/proc/{child}") or _zombie(child):
            break
        await asyncio.sleep(0.02)
    assert not os.path.exists(f"/proc/{child}") or _zombie(child)


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.asyncio
async def test_many_checks_leave_file_descriptors_and_memory_flat():
    async with backends.tcp_server(backends.http_ok, "127.0.0.25") as port:
        c = check(send=b"GET / HTTP/1.0\r\n\r\n", expect=b"HTTP")
        await asyncio.gather(*(probe("127.0.0.25", port, c) for _ in range(50)))
        fds = len(os.listdir("/proc/self/fd"))
        rss = _rss()
        for _ in range(40):
            await asyncio.gather(*(probe("127.0.0.25", port, c) for _ in range(50)))
        assert len(os.listdir("/proc/self/fd")) <= fds + 2
        assert _rss() - rss < 8 * 1024 * 1024


def _rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


assert sys.platform.startswith("linux")
