"""nanny's decisions: hysteresis, slow start, load rule, spreading."""

from __future__ import annotations

import pytest

from pulse.nanny import Hysteresis, initial_weight, load_weight, spread
from pulse.probes import load_argv, parse_load


def hysteresis(weight=1, timeout=6, reentry=18, quiesce=False):
    return Hysteresis.for_timing(weight, timeout, reentry, quiesce)


def test_the_first_success_adds_the_server():
    h = hysteresis()
    assert h.up is None and h.slot_weight() is None
    assert h.record(True) == "up"
    assert h.slot_weight() == 1


def test_one_failure_takes_it_out():
    h = hysteresis()
    h.record(True)
    assert h.record(False) == "down"
    assert h.slot_weight() is None
    assert h.record(False) is None


def test_it_returns_after_reentry_over_timeout_consecutive_successes():
    h = hysteresis(timeout=6, reentry=18)  # countThresh = 3
    h.record(True)
    h.record(False)
    assert [h.record(True) for _ in range(3)] == [None, None, "up"]


def test_a_failure_restarts_the_reentry_count():
    h = hysteresis(timeout=1, reentry=3)
    h.record(False)
    h.record(True)
    h.record(True)
    h.record(False)
    assert [h.record(True) for _ in range(3)] == [None, None, "up"]


def test_a_first_failure_reports_down_without_having_been_up():
    h = hysteresis()
    assert h.record(False) == "down"
    assert h.up is False


def test_quiesce_keeps_the_server_at_weight_zero():
    h = hysteresis(weight=8, quiesce=True)
    h.record(True)
    h.record(False)
    assert h.slot_weight() == 0


def test_reentry_shorter_than_timeout_needs_one_success():
    h = hysteresis(timeout=10, reentry=0)
    h.record(False)
    assert h.record(True) == "up"


@pytest.mark.parametrize(
    ("weight", "initial"), [(0, 0), (1, 1), (31, 1), (64, 2), (100, 3), (1000, 31)]
)
def test_slow_start_begins_at_weight_shifted_by_five(weight, initial):
    assert initial_weight(weight) == initial


def test_slow_start_doubles_up_to_the_configured_weight():
    h = hysteresis(weight=100)
    h.record(True)
    grown = [h.grow() for _ in range(7)]
    assert grown == [6, 12, 24, 48, 96, 100, None]


def test_slow_start_does_nothing_while_down():
    h = hysteresis(weight=100)
    h.record(False)
    assert h.grow() is None


def test_load_rule_raises_below_one_and_lowers_above_one():
    assert load_weight(10, 10, 0.0) == 15  # +5 * cbrt(1)
    assert load_weight(40, 10, 9.0) == 30  # -5 * cbrt(8)
    assert load_weight(20, 10, 9.0) == 10  # never below the configured weight
    assert load_weight(12, 10, 9.0) == 12  # a change under weight/4 is skipped
    assert load_weight(97, 10, 0.0) == 100  # nor above scale * weight


def test_load_rule_ignores_small_changes():
    assert load_weight(10, 10, 0.99) == 10


def test_parse_load_reads_the_one_minute_value():
    uptime = b" 10:00:01 up 3 days,  2 users,  load average: 0.52, 0.41, 0.30\n"
    assert parse_load(uptime) == 0.52
    rup = b"host   up 3 days,  load average: 1.00, 0.5, 0.2"
    assert parse_load(rup) == 1.0
    assert parse_load(b"host up 3+02:01, 2 users, load 0.00, 0.01, 0.05") is None


def test_load_commands_are_the_originals():
    assert load_argv("none", "rsh", "10.0.0.1") is None
    assert load_argv("uptime", "ssh", "10.0.0.1") == ["ssh", "10.0.0.1", "uptime"]
    assert load_argv("rup", "rsh", "10.0.0.1") == ["rup", "10.0.0.1"]


def test_checks_are_spread_over_the_interval():
    offsets = [spread(f"web/r{i}", 1.0) for i in range(1000)]
    assert all(0 <= o < 1 for o in offsets)
    assert sum(o < 0.1 for o in offsets) < 150  # no burst in any tenth
    assert spread("web/r1", 1.0) == spread("web/r1", 1.0)


@pytest.mark.asyncio
@pytest.mark.parametrize("load_monitor", ["none", "script"])
async def test_a_monitor_slow_starts_then_follows_the_load(
    tmp_path, monkeypatch, load_monitor
):
    import asyncio

    from pulse import nanny
    from pulse.probes import Check
    from pulse.state import ServerStatus

    from . import backends
    from .helpers import until

    monkeypatch.setattr(nanny, "ADJUST_PERIOD", 0)  # adjust after every check
    if load_monitor == "script":
        script = tmp_path / "load"
        script.write_text("#!/bin/sh\necho 'host: load average: 0.00, 0.1, 0.2'\n")
        script.chmod(0o755)
        load_monitor = str(script)
    changes = []
    async with backends.tcp_server(backends.silent, "127.0.0.26") as port:
        target = nanny.Target(
            "127.0.0.26", port, Check(timeout=1.0), 0.05, load_monitor=load_monitor
        )
        status = ServerStatus("web", "r1", "127.0.0.26", port, 64)
        monitor = nanny.Monitor(
            target,
            Hysteresis.for_timing(64, 1, 1, False),
            status,
            lambda m, change: changes.append((change, m.hysteresis.current)),
        )
        assert monitor.fast is (load_monitor == "none")
        monitor.start(0.0)
        try:
            want = 96 if monitor.fast is False else 64
            await until(lambda: monitor.hysteresis.current == want, timeout=5)
        finally:
            monitor.stop()
            await asyncio.sleep(0)
    assert changes[:4] == [("up", 2), ("weight", 4), ("weight", 8), ("weight", 16)]
    assert status.checks >= 5 and status.successes == status.checks
