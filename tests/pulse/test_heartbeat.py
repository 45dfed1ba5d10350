"""The failover decision and the heartbeat's bytes, without sockets."""

from __future__ import annotations

import struct

import pytest

from pulse.failover import RUNNING, STOPPED, Failover
from pulse.heartbeat import decode, encode, paths_for

DEADTIME = 2.0


def must(action):
    assert action is not None
    return action


def kinds(*actions):
    return [a.kind if a else None for a in actions]


def test_a_backup_activates_when_no_heartbeat_came_for_deadtime():
    fo = Failover(master=False, deadtime=DEADTIME, now=0.0)
    assert fo.expired(1.9) is None
    action = must(fo.expired(2.0))
    assert (action.kind, action.message) == ("activate", "partner dead: activating lvs")
    assert fo.active and fo.says() == RUNNING


def test_every_valid_heartbeat_pushes_the_deadline_back():
    fo = Failover(master=False, deadtime=DEADTIME, now=0.0)
    assert fo.heard(RUNNING, 1.5) is None
    assert fo.expired(3.0) is None  # 1.5 + 2 not reached
    assert must(fo.expired(3.5)).kind == "activate"


def test_the_deadline_is_re_armed_after_each_expiry():
    fo = Failover(master=True, deadtime=DEADTIME, now=0.0)
    assert must(fo.expired(2.0)).kind == "activate"
    assert fo.deadline == 4.0
    assert fo.expired(4.0) is None  # already active: nothing more to do


@pytest.mark.parametrize(
    ("master", "message"),
    [
        (True, "backup inactive: activating lvs"),
        (False, "primary inactive: activating lvs"),
    ],
)
def test_a_partner_saying_stopped_makes_a_passive_router_activate(master, message):
    fo = Failover(master=master, deadtime=DEADTIME, now=0.0)
    action = must(fo.heard(STOPPED, 0.5))
    assert (action.kind, action.message) == ("activate", message)


def test_the_master_wins_a_split_brain():
    master = Failover(master=True, deadtime=DEADTIME, now=0.0)
    backup = Failover(master=False, deadtime=DEADTIME, now=0.0)
    assert (
        must(master.expired(2.0)).kind == must(backup.expired(2.0)).kind == "activate"
    )
    resend = must(master.heard(RUNNING, 2.5))
    assert (resend.kind, resend.message) == ("resend", "partner active: resending arps")
    assert master.active
    step_down = must(backup.heard(RUNNING, 2.5))
    assert step_down.kind == "deactivate" and step_down.send_first
    assert step_down.message == "partner active: deactivating LVS"
    assert not backup.active and backup.says() == STOPPED


def test_there_is_no_automatic_fail_back():
    restarted_primary = Failover(master=True, deadtime=DEADTIME, now=10.0)
    for t in (10.5, 11.5, 12.5, 13.5):  # the active backup's heartbeats
        assert restarted_primary.heard(RUNNING, t) is None
        assert restarted_primary.expired(t + 0.1) is None
    assert not restarted_primary.active


def test_both_passive_routers_activate_and_the_tie_resolves_to_the_master():
    master = Failover(master=True, deadtime=DEADTIME, now=0.0)
    backup = Failover(master=False, deadtime=DEADTIME, now=0.0)
    assert kinds(master.heard(STOPPED, 1), backup.heard(STOPPED, 1)) == [
        "activate",
        "activate",
    ]
    assert kinds(master.heard(RUNNING, 2), backup.heard(RUNNING, 2)) == [
        "resend",
        "deactivate",
    ]


def test_running_heard_while_passive_changes_nothing():
    fo = Failover(master=False, deadtime=DEADTIME, now=0.0)
    assert fo.heard(RUNNING, 1.0) is None and not fo.active


def test_a_lost_link_deactivates_and_blocks_takeover_until_it_is_back():
    fo = Failover(master=False, deadtime=DEADTIME, now=0.0)
    fo.expired(2.0)
    lost = fo.link_lost(["eth0"])
    assert lost.kind == "deactivate"
    assert lost.message == "Local NIC link failure: Pulse disabled (eth0)"
    assert fo.expired(10.0) is None and fo.heard(STOPPED, 10.5) is None
    assert not fo.active
    restored = fo.link_restored(11.0)
    assert restored.kind == "log" and fo.deadline == 11.0 + DEADTIME
    assert fo.expired(12.9) is None  # a full deadtime for the partner's heartbeats
    assert must(fo.expired(13.0)).kind == "activate"


def test_a_link_lost_while_passive_only_logs():
    fo = Failover(master=True, deadtime=DEADTIME, now=0.0)
    assert fo.link_lost(["eth0", "eth1"]).kind == "log"
    assert fo.blocked


def test_a_failed_table_steps_down_until_the_partner_runs():
    fo = Failover(master=True, deadtime=DEADTIME, now=0.0)
    fo.expired(2.0)
    assert fo.table_failed().kind == "deactivate" and fo.says() == STOPPED
    assert fo.expired(10.0) is None and fo.heard(STOPPED, 10.0) is None
    assert fo.heard(RUNNING, 11.0) is None  # clears the block, stays passive
    assert not fo.blocked
    assert must(fo.heard(STOPPED, 12.0)).kind == "activate"


def test_the_magic_is_four_bytes_in_host_byte_order():
    assert encode(RUNNING) == struct.pack("=I", 0xBDADDBDA)
    assert encode(STOPPED) == struct.pack("=I", 0xADBDDABD)
    assert decode(encode(RUNNING)) == RUNNING and decode(encode(STOPPED)) == STOPPED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "bad heartbeat packet"),
        (encode(RUNNING) + b"\0", "bad heartbeat packet"),
        (struct.pack("=I", 0x12345678), "bad heartbeat packet"),
        (struct.pack("=I", 0xDEADBEEF), "Incompatible heartbeat received"),
        (struct.pack("=I", 0xDEADDADA), "Incompatible heartbeat received"),
    ],
)
def test_other_datagrams_are_refused_with_the_original_messages(data, message):
    with pytest.raises(ValueError, match=message):
        decode(data)


def test_a_private_path_exists_only_when_both_ends_have_their_own():
    assert [
        p.name for p in paths_for(("1.0.0.1", "1.0.0.1"), ("1.0.0.2", "1.0.0.2"))
    ] == ["public"]
    both = paths_for(("1.0.0.1", "10.0.0.1"), ("1.0.0.2", "10.0.0.2"))
    assert [(p.name, p.local, p.partner) for p in both] == [
        ("public", "1.0.0.1", "1.0.0.2"),
        ("private", "10.0.0.1", "10.0.0.2"),
    ]
    assert both[1].as_dict(0.0) == {
        "name": "private",
        "local": "10.0.0.1",
        "partner": "10.0.0.2",
        "last_age": None,
        "partner_says": None,
    }
