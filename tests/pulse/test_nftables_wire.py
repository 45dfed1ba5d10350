"""The netlink full build is the batch nft sends for the same nft text.

`wire.full_build(table)` and `nft -f` of `transaction(None, table)` must hand
the kernel the same messages (ids renumbered, flags included), so a table
built either way is the same table and `nft list` reads it back the same.
Every rule shape of the dataplane is here: the schedulers, weights that give
runs (interval maps) or not, mixed ports, port 0, drained servers,
firewall marks, persistence with and without a netmask.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pulse.dataplanes.nftables import transaction
from pulse.dataplanes.nftables.netlink import (
    NEWRULE,
    NLM_F_APPEND,
    NLM_F_CREATE,
    Channel,
    KernelRefused,
    commit,
    strz,
)
from pulse.dataplanes.nftables.ruleset import ShortNames, readable_names
from pulse.dataplanes.nftables.wire import full_build
from pulse.lvs import DataplaneError, Entry, ServiceKey, ServiceSpec
from tests.netns.topology import Topology
from tests.pulse.nft_wire import (
    ALL_FLAGS,
    Attr,
    decode,
    diff,
    encode,
    nft_batch_exact,
    nft_unavailable,
    split_messages,
)

pytestmark = pytest.mark.skipif(
    bool(nft_unavailable(strace=True)), reason=str(nft_unavailable(strace=True))
)


def service(proto, address, port, scheduler, dests, **options):
    key = ServiceKey(proto, address, port)
    return key, Entry(ServiceSpec(key, scheduler, **options), dests)


RS = [f"192.168.9.{n}" for n in range(1, 7)]
SHAPES = dict(
    [
        service("tcp", "10.1.1.1", 80, "rr", {(RS[0], 80): 1, (RS[1], 80): 5}),
        service("tcp", "10.1.1.2", 80, "wrr", {(RS[0], 8080): 2, (RS[1], 8080): 10}),
        service("tcp", "10.1.1.3", 80, "wrr", {(RS[0], 80): 1, (RS[1], 81): 2}),
        service("tcp", "10.1.1.4", 80, "sh", {(RS[0], 0): 1, (RS[1], 0): 2}),
        service("udp", "10.1.1.5", 53, "dh", {(RS[4], 53): 1}),
        service("tcp", "10.1.1.6", 25, "wrr", {(RS[0], 25): 0, (RS[1], 25): 0}),
        service("fwm", "", 7, "rr", {(RS[2], 80): 1, (RS[3], 81): 1}),
        service("tcp", "10.1.1.12", 80, "rr", {(RS[2], 0): 1, (RS[3], 8080): 1}),
        service("fwm", "", 11, "rr", {(RS[5], 0): 1}),
        service(
            "tcp",
            "10.1.1.7",
            443,
            "sh",
            {(RS[0], 443): 1, (RS[1], 443): 2},
            persistent=300,
            pmask="255.255.255.0",
        ),
        service(
            "tcp",
            "10.1.1.8",
            80,
            "rr",
            {(RS[0], 80): 1, (RS[1], 81): 2, (RS[2], 0): 0},
            persistent=60,
        ),
        service(
            "fwm",
            "",
            9,
            "wrr",
            {(RS[0], 80): 1, (RS[1], 80): 2, (RS[2], 80): 3},
            persistent=30,
            pmask="255.255.0.0",
        ),
    ]
)


SHAPES_FIRST = next(iter(SHAPES.items()))


NEWSET, NEWSETELEM = 0xA09, 0xA0C


def with_set_names(messages):
    """Our batch with the set name put back into each NEWSETELEM that names
    its set by id alone (on purpose: see wire.Builder.elements), where nft
    sends both; everything else stays as it is."""
    names = {}
    for message in messages:
        if message.type == NEWSET:
            found = {attr.type: attr.data for attr in decode(message.body, NEWSET)}
            names[found[10]] = found[2]  # NFTA_SET_ID -> NFTA_SET_NAME
    named = []
    for message in messages:
        attrs = decode(message.body, message.type) if message.type == NEWSETELEM else []
        if attrs and all(attr.type != 2 for attr in attrs):
            set_id = next(attr.data for attr in attrs if attr.type == 4)
            attrs.insert(1, Attr(2, 0, names[set_id]))
            message = replace(message, body=encode(attrs))
        named.append(message)
    return named


def same_as_nft(table, names=None):
    ours = full_build(table, names or ShortNames()).encode()
    nfts = nft_batch_exact(transaction(None, table, names or ShortNames()))
    return diff(with_set_names(split_messages(ours)), nfts, flags_mask=ALL_FLAGS)


@pytest.mark.parametrize("key", list(SHAPES), ids=str)
def test_each_service_shape_is_sent_as_nft_sends_it(key):
    assert not (problem := same_as_nft({key: SHAPES[key]})), problem


def test_a_table_of_every_shape_is_sent_as_nft_sends_it():
    assert not (problem := same_as_nft(SHAPES)), problem


def test_readable_map_names_are_sent_as_nft_sends_them():
    table = dict(list(SHAPES.items())[:4])
    assert not (problem := same_as_nft(table, names=readable_names)), problem


def test_an_empty_table_is_the_skeleton_nft_sends():
    assert not (problem := same_as_nft({})), problem


def test_what_nftables_cannot_do_is_refused_before_anything_is_built():
    key, entry = service("tcp", "10.1.1.9", 80, "wlc", {(RS[0], 80): 1})
    with pytest.raises(DataplaneError, match="wlc cannot be expressed"):
        full_build({key: entry})


def test_a_map_too_big_for_one_message_is_split_and_the_kernel_takes_it():
    dests = {(f"10.{n // 250}.{n % 250}.1", 80): 1 + n % 3 for n in range(4000)}
    key, entry = service("tcp", "10.1.1.10", 80, "wrr", dests)
    batch = full_build({key: entry}, ShortNames())
    elements = [label for label in batch.labels if label == "m_0"]
    assert len(elements) > 2  # the map, and its elements in several messages
    with Topology() as topology:
        router = topology.namespace("router")
        router.call(commit, batch)
        listing = router.run("nft", "list", "map", "ip", "piranha", "m_0")
    assert listing.count(" : 10.") == 4000


def test_a_refused_batch_names_the_message_and_changes_nothing():
    key, entry = service("tcp", "10.1.1.11", 80, "rr", {(RS[0], 80): 1})
    good = full_build({key: entry}, ShortNames())
    bad = full_build({key: entry, **dict([SHAPES_FIRST])}, ShortNames())
    table, chain = strz(1, "piranha"), strz(2, "s_missing")
    bad.add(NEWRULE, NLM_F_CREATE | NLM_F_APPEND, table + chain, "s_missing")
    with Topology() as topology:
        router = topology.namespace("router")
        router.call(commit, good)
        before = router.run("nft", "list", "table", "ip", "piranha")
        with pytest.raises(KernelRefused, match="add rule s_missing: No such file"):
            router.call(commit, bad)
        assert router.run("nft", "list", "table", "ip", "piranha") == before


def test_a_batch_the_kernel_drops_without_a_word_is_not_taken_for_applied():
    key, entry = service("tcp", "10.1.1.12", 80, "rr", {(RS[0], 80): 1})
    bad = full_build({key: entry}, ShortNames())
    kind, flags, body = bad.messages[-1]  # a rule whose chain attribute lies
    short = body.replace(b"s_tcp_10_1_1_12_80", b"s_tcp_10_1_12_80")
    bad.messages[-1] = (kind, flags, short)
    with Topology() as topology:
        router = topology.namespace("router")
        with pytest.raises(KernelRefused):
            router.call(commit, bad)
        assert "piranha" not in router.run("nft", "list", "tables")


@pytest.mark.parametrize(
    ("servers", "weights", "ports"),
    [
        (339, (1,), (80,)),  # the map's length header holds a "%" byte
        (296, (1,), (80, 81)),
        (183, (1, 2), (80,)),
        (170, (1, 2), (80, 81)),
    ],
)
def test_a_map_whose_length_holds_a_percent_byte_is_sent_as_nft_sends_it(
    servers, weights, ports
):
    dests = {
        (f"10.9.{n // 250}.{n % 250 + 1}", ports[n % len(ports)]): weights[
            n % len(weights)
        ]
        for n in range(servers)
    }
    key, entry = service("tcp", "10.1.2.1", 80, "wrr", dests)
    assert not (problem := same_as_nft({key: entry})), problem


def test_a_long_lived_socket_wraps_its_sequence_numbers_at_32_bits():
    key, entry = service("tcp", "10.1.1.13", 80, "rr", {(RS[0], 80): 1})
    batch = full_build({key: entry}, ShortNames())
    channel = Channel()
    channel._seq = 0xFFFFFFFF - 3  # as after ~4 billion messages
    with Topology() as topology:
        router = topology.namespace("router")
        try:
            router.call(channel.commit, batch)
            router.call(channel.commit, batch)
        finally:
            channel.close()
        assert "s_tcp_10_1_1_13_80" in router.run(
            "nft", "list", "table", "ip", "piranha"
        )
