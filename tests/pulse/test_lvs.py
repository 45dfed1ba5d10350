"""The routing table: desired table, sorry server, diff."""

from __future__ import annotations

from pulse.lvs import (
    Entry,
    ServiceKey,
    ServiceSpec,
    Slot,
    apply_op,
    desired_table,
    diff,
)

from .factories import config, server, virtual

KEY = ServiceKey("tcp", "192.0.2.1", 80)


def web(**keys):
    servers = (server("a", "10.0.0.1", weight=2), server("b", "10.0.0.2"))
    return virtual("web", "192.0.2.1", 80, servers, **keys)


def up(weight=1):
    return Slot(weight, True)


def test_only_active_virtuals_and_up_real_servers_count():
    servers = (server("a", "10.0.0.1"), server("b", "10.0.0.2", active=0))
    cfg = config(
        virtual("web", "192.0.2.1", 80, servers),
        virtual("off", "192.0.2.2", 80, servers, active=0),
    )
    table = desired_table(cfg, {("web", "a"): up(), ("web", "b"): up()})
    assert list(table) == [KEY]
    assert table[KEY].dests == {("10.0.0.1", 80): 1}


def test_service_settings_come_from_the_virtual():
    cfg = config(web(scheduler="sh", persistent=300, pmask="255.255.255.0"))
    spec = desired_table(cfg, {})[KEY].spec
    assert (spec.scheduler, spec.persistent, spec.pmask, spec.forward) == (
        "sh",
        300,
        "255.255.255.0",
        "g",
    )
    assert spec.flags() == "persistent 300 mask 255.255.255.0"


def test_down_and_unknown_servers_are_out_quiesced_ones_stay_at_zero():
    cfg = config(web())
    table = desired_table(
        cfg, {("web", "a"): Slot(0, False), ("web", "b"): Slot(None, None)}
    )
    assert table[KEY].dests == {("10.0.0.1", 80): 0}


def test_fwmark_virtuals_form_one_service():
    cfg = config(
        virtual("http", "192.0.2.1", 80, (server("a", "10.0.0.1"),), fwmark=7),
        virtual("https", "192.0.2.1", 443, (server("a", "10.0.0.1"),), fwmark=7),
    )
    slots = {("http", "a"): up(), ("https", "a"): up()}
    table = desired_table(cfg, slots)
    (key,) = table
    assert key == ServiceKey("fwm", "", 7)
    assert key.ipvsadm() == ["-f", "7"]
    assert table[key].spec.listen == (
        ("tcp", "192.0.2.1", 80),
        ("tcp", "192.0.2.1", 443),
    )
    assert table[key].dests == {("10.0.0.1", 80): 1, ("10.0.0.1", 443): 1}


def test_sorry_server_comes_when_no_real_server_is_up_and_goes_when_one_is():
    cfg = config(web(sorry_server="10.0.0.9"))
    down = {("web", "a"): Slot(None, False), ("web", "b"): Slot(None, False)}
    assert desired_table(cfg, down)[KEY].dests == {("10.0.0.9", 80): 1}
    back = {**down, ("web", "b"): up()}
    assert desired_table(cfg, back)[KEY].dests == {("10.0.0.2", 80): 1}


def test_sorry_server_waits_for_every_first_check():
    cfg = config(web(sorry_server="10.0.0.9"))
    assert desired_table(cfg, {("web", "a"): Slot(None, False)})[KEY].dests == {}


def test_a_quiesced_server_does_not_count_as_up_for_the_sorry_server():
    cfg = config(web(sorry_server="10.0.0.9"))
    slots = {("web", "a"): Slot(0, False), ("web", "b"): Slot(None, False)}
    assert desired_table(cfg, slots)[KEY].dests == {
        ("10.0.0.1", 80): 0,
        ("10.0.0.9", 80): 1,
    }


def spec(**changes):
    return ServiceSpec(KEY, **{"scheduler": "wlc", **changes})


def test_diff_from_empty_adds_services_before_their_servers():
    desired = {KEY: Entry(spec(), {("10.0.0.1", 80): 1})}
    assert [(op.kind, op.dest) for op in diff({}, desired)] == [
        ("add-service", None),
        ("add-dest", ("10.0.0.1", 80)),
    ]


def test_diff_of_equal_tables_is_empty():
    table = {KEY: Entry(spec(), {("10.0.0.1", 80): 1})}
    assert diff(table, dict(table)) == []


def test_diff_edits_changed_settings_and_weights_only():
    other = ServiceKey("tcp", "192.0.2.2", 80)
    current = {
        KEY: Entry(spec(), {("10.0.0.1", 80): 1, ("10.0.0.2", 80): 1}),
        other: Entry(ServiceSpec(other), {("10.0.0.5", 80): 1}),
    }
    desired = {
        KEY: Entry(spec(scheduler="rr", persistent=60), {("10.0.0.1", 80): 4}),
        other: current[other],
    }
    assert [(op.kind, op.dest, op.weight) for op in diff(current, desired)] == [
        ("edit-service", None, 0),
        ("edit-dest", ("10.0.0.1", 80), 4),
        ("del-dest", ("10.0.0.2", 80), 0),
    ]


def test_diff_removes_servers_then_the_service():
    current = {KEY: Entry(spec(), {("10.0.0.1", 80): 1})}
    assert [op.kind for op in diff(current, {})] == ["del-dest", "del-service"]


def test_a_forwarding_change_edits_every_server():
    current = {KEY: Entry(spec(forward="m"), {("10.0.0.1", 80): 1})}
    desired = {KEY: Entry(spec(forward="g"), {("10.0.0.1", 80): 1})}
    assert [op.kind for op in diff(current, desired)] == ["edit-dest"]


def test_applying_the_diff_reaches_the_desired_table():
    current = {
        KEY: Entry(spec(), {("10.0.0.1", 80): 1, ("10.0.0.2", 80): 1}),
        ServiceKey("udp", "192.0.2.3", 53): Entry(
            ServiceSpec(ServiceKey("udp", "192.0.2.3", 53)), {("10.0.0.7", 53): 1}
        ),
    }
    desired = {
        KEY: Entry(spec(scheduler="sh"), {("10.0.0.2", 80): 3, ("10.0.0.3", 80): 1})
    }
    table = dict(current)
    for op in diff(current, desired):
        apply_op(table, op)
    assert table == desired


def test_a_repeated_address_and_port_keeps_the_first_servers_weight():
    servers = (server("a", "10.0.0.1", weight=2), server("b", "10.0.0.1", weight=5))
    cfg = config(virtual("web", "192.0.2.1", 80, servers))
    slots = {("web", "a"): up(2), ("web", "b"): up(5)}
    assert desired_table(cfg, slots)[KEY].dests == {("10.0.0.1", 80): 2}
    slots[("web", "a")] = Slot(None, False)
    assert desired_table(cfg, slots)[KEY].dests == {("10.0.0.1", 80): 5}


def test_a_new_configuration_object_gets_its_own_servers():
    slots = {("web", "a"): up(), ("web", "b"): up(), ("web", "c"): up()}
    before = desired_table(config(web()), slots)
    servers = (server("a", "10.0.0.1"), server("c", "10.0.0.3"))
    after = desired_table(config(virtual("web", "192.0.2.1", 80, servers)), slots)
    assert set(before[KEY].dests) == {("10.0.0.1", 80), ("10.0.0.2", 80)}
    assert set(after[KEY].dests) == {("10.0.0.1", 80), ("10.0.0.3", 80)}
