"""The schedulers behave as the kernel's documentation describes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from pulse.schedulers import SCHEDULERS, PersistenceTable, hash_address, make_scheduler


@dataclass(eq=False)
class Dest:
    name: str
    weight: int = 1
    active: int = 0
    inactive: int = 0


def picks(name, dests, count, client="10.0.0.1", target="192.0.2.1"):
    scheduler = make_scheduler(name)
    scheduler.update(dests)
    return [scheduler.pick(client, target) for _ in range(count)]


def test_registry_covers_every_lvs_cf_scheduler_and_sed_nq():
    assert set(SCHEDULERS) == {
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq"
    }  # fmt: skip


def test_rr_cycles_and_skips_weight_zero():
    a, b, c = Dest("a"), Dest("b", weight=0), Dest("c")
    assert [d.name for d in picks("rr", [a, b, c], 4)] == ["a", "c", "a", "c"]


def test_wrr_one_to_five_gives_five_to_one():
    a, b = Dest("a", weight=1), Dest("b", weight=5)
    got = Counter(d.name for d in picks("wrr", [a, b], 600))
    assert got == {"a": 100, "b": 500}


def test_wrr_interleaves_like_the_kernel():
    a, b, c = Dest("a", 4), Dest("b", 3), Dest("c", 2)
    names = "".join(d.name for d in picks("wrr", [a, b, c], 9))
    assert names == "aababcabc"


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_scheduler_returns_none_when_all_weights_are_zero(name):
    assert picks(name, [Dest("a", 0), Dest("b", 0)], 1) == [None]


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_scheduler_returns_none_for_an_empty_pool(name):
    assert picks(name, [], 1) == [None]


def test_lc_picks_the_least_loaded():
    a, b, c = Dest("a", active=3), Dest("b", active=1), Dest("c", active=2)
    assert picks("lc", [a, b, c], 1)[0] is b


def test_lc_counts_active_as_256_inactive():
    a, b = Dest("a", active=1), Dest("b", inactive=255)
    assert picks("lc", [a, b], 1)[0] is b


def test_wlc_divides_by_weight():
    a, b = Dest("a", weight=1, active=2), Dest("b", weight=4, active=4)
    assert picks("wlc", [a, b], 1)[0] is b


def test_sed_counts_the_new_connection():
    # wlc would tie (0/1 vs 0/3 both zero) and take a; sed: 1/1 vs 1/3 -> b.
    a, b = Dest("a", weight=1), Dest("b", weight=3)
    assert picks("sed", [a, b], 1)[0] is b
    assert picks("wlc", [a, b], 1)[0] is a


def test_nq_prefers_an_idle_server_over_a_better_ratio():
    a, b = Dest("a", weight=10, active=1), Dest("b", weight=1)
    assert picks("nq", [a, b], 1)[0] is b
    b.active = 5
    assert picks("nq", [a, b], 1)[0] is a


def test_sh_keeps_a_client_on_its_server():
    dests = [Dest(str(i)) for i in range(5)]
    scheduler = make_scheduler("sh")
    scheduler.update(dests)
    for client in ("10.0.0.1", "10.0.0.2", "172.16.9.9"):
        first = scheduler.pick(client, "192.0.2.1")
        assert all(scheduler.pick(client, "192.0.2.1") is first for _ in range(20))


def test_sh_spreads_clients_by_weight():
    a, b = Dest("a", weight=1), Dest("b", weight=3)
    scheduler = make_scheduler("sh")
    scheduler.update([a, b])
    clients = [f"10.0.{i // 256}.{i % 256}" for i in range(4096)]
    got = Counter(getattr(scheduler.pick(c, "x"), "name", None) for c in clients)
    assert 0.15 < got["a"] / 4096 < 0.35


def test_sh_gives_no_server_when_the_clients_bucket_is_quiesced():
    a, b = Dest("a"), Dest("b")
    scheduler = make_scheduler("sh")
    scheduler.update([a, b])
    client = next(
        f"10.0.0.{i}" for i in range(256) if scheduler.pick(f"10.0.0.{i}", "") is a
    )
    a.weight = 0
    assert scheduler.pick(client, "") is None


def test_dh_hashes_the_destination_address():
    dests = [Dest(str(i)) for i in range(4)]
    scheduler = make_scheduler("dh")
    scheduler.update(dests)
    first = scheduler.pick("10.0.0.1", "192.0.2.7")
    assert all(scheduler.pick(f"10.9.0.{i}", "192.0.2.7") is first for i in range(50))


def test_hash_address_accepts_ipv6():
    assert 0 <= hash_address("2001:db8::1") < 256


def test_lblc_sticks_to_a_server_per_destination_until_overloaded():
    a, b = Dest("a", weight=2), Dest("b", weight=2)
    scheduler = make_scheduler("lblc")
    scheduler.update([a, b])
    first = scheduler.pick("c", "192.0.2.1")
    assert first is a
    a.active = 1  # busier than b, but not overloaded: still a
    assert scheduler.pick("c", "192.0.2.1") is a
    a.active = 3  # more than its weight while b is idle: overloaded
    assert scheduler.pick("c", "192.0.2.1") is b


def test_lblc_forgets_removed_servers():
    a, b = Dest("a"), Dest("b")
    scheduler = make_scheduler("lblc")
    scheduler.update([a, b])
    assert scheduler.pick("c", "t") is a
    scheduler.update([b])
    assert scheduler.pick("c", "t") is b


def test_lblcr_grows_the_set_when_overloaded_and_shrinks_it_later():
    now = [0.0]
    from pulse.schedulers import LocalityLeastConnectionReplicated

    scheduler: LocalityLeastConnectionReplicated[Dest]
    scheduler = LocalityLeastConnectionReplicated(clock=lambda: now[0])
    a, b = Dest("a", weight=1), Dest("b", weight=1)
    scheduler.update([a, b])
    assert scheduler.pick("c", "t") is a
    a.active = 2
    assert scheduler.pick("c", "t") is b  # a overloaded: b joins the set
    a.active = 0
    assert scheduler.pick("c", "t") is a  # least loaded of the set {a, b}
    b.active = 3
    now[0] = 1000.0  # past the expiry: the busiest member leaves
    assert scheduler.pick("c", "t") is a
    scheduler.update([b])
    assert scheduler.pick("c", "t") is b


def test_persistence_keeps_a_client_and_pmask_groups_a_subnet():
    now = [0.0]
    a, b = Dest("a"), Dest("b")
    table: PersistenceTable[Dest] = PersistenceTable(
        60, "255.255.255.0", lambda: now[0]
    )
    table.remember("10.0.0.1", b)
    assert table.lookup("10.0.0.99", [a, b]) is b  # same /24
    assert table.lookup("10.0.1.1", [a, b]) is None  # another /24
    now[0] = 61.0
    assert table.lookup("10.0.0.1", [a, b]) is None  # expired


def test_persistence_survives_quiesce_but_not_removal():
    a, b = Dest("a"), Dest("b")
    table: PersistenceTable[Dest] = PersistenceTable(60, None, lambda: 0.0)
    table.remember("10.0.0.1", b)
    b.weight = 0
    assert table.lookup("10.0.0.1", [a, b]) is b
    assert table.lookup("10.0.0.1", [a]) is None
    assert table.lookup("10.0.0.2", [a, b]) is None  # no pmask: one address each


def test_persistence_accepts_ipv6_clients():
    a = Dest("a")
    table: PersistenceTable[Dest] = PersistenceTable(60, None, lambda: 0.0)
    table.remember("2001:db8::1", a)
    assert table.lookup("2001:db8::1", [a]) is a
