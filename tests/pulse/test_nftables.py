"""The nftables dataplane's ruleset, refusals and counters, without a kernel.

The same features against the kernel, with real traffic through namespaces:
tests/netns/test_nftables_kernel.py.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from pulse.dataplanes import DATAPLANES
from pulse.dataplanes.nftables import NftablesDataplane, refusals, transaction
from pulse.dataplanes.nftables.conntrack import parse, tally, unnatted
from pulse.dataplanes.nftables.wire import full_build
from pulse.lvs import DataplaneError, Entry, ServiceKey, ServiceSpec

from .factories import config, server, virtual

WEB = ServiceKey("tcp", "10.0.0.1", 80)
RS1, RS2, RS3 = ("10.0.2.11", 80), ("10.0.2.12", 80), ("10.0.2.13", 80)


def entry(scheduler="rr", dests=None, key=WEB, **spec):
    dests = {RS1: 1, RS2: 1} if dests is None else dests
    return Entry(ServiceSpec(key, scheduler, names=("web",), **spec), dests)


def script(*entries, old=None):
    return transaction(old, {e.spec.key: e for e in entries})


def rules(text, chain):
    """The rules of a chain as the script's table block writes them."""
    lines = text.splitlines()
    start = lines.index(f"    chain {chain} {{") + 1
    end = lines.index("    }", start)
    return [line.strip() for line in lines[start:end]]


def scheduling(text, chain="s_tcp_10_0_0_1_80"):
    """A service chain's one rule without the counter it starts with."""
    (rule,) = rules(text, chain)
    counter = f'counter name "c_{chain[2:]}"'
    assert rule.startswith(counter)
    return rule.removeprefix(counter).strip()


def test_the_dataplane_is_registered_as_nftables():
    assert DATAPLANES["nftables"] is NftablesDataplane


def test_a_first_apply_replaces_only_our_own_table():
    text = script(entry())
    assert text.startswith("table ip piranha\ndelete table ip piranha\n")
    assert "flush ruleset" not in text
    commands = [line for line in text.splitlines() if not line.startswith(" ")]
    assert all("ip piranha" in line for line in commands if line != "}")
    assert rules(text, "prerouting")[1:] == [
        "meta mark vmap @marks",
        "meta l4proto . ip daddr . th dport vmap @services",
    ]


def maps(text):
    """The named maps the script's table block declares, by name."""
    found = {}
    for line in text.splitlines():
        if line.startswith("    map "):
            name, _, body = line.strip()[len("map ") :].partition(" { ")
            found[name] = body.removesuffix(" }")
    return found


def test_round_robin_gives_each_real_server_one_slot_whatever_its_weight():
    text = script(entry("rr", {RS1: 1, RS2: 5}))
    assert scheduling(text) == (
        "meta l4proto tcp dnat ip to numgen inc mod 2 map @m_tcp_10_0_0_1_80 : 80"
    )
    assert maps(text)["m_tcp_10_0_0_1_80"] == (  # no runs: a plain hash map
        "typeof numgen inc mod 2 : ip daddr; "
        "elements = { 0 : 10.0.2.11, 1 : 10.0.2.12 }"
    )


def test_weighted_round_robin_splits_the_modulus_by_weight_reduced_by_their_gcd():
    text = script(entry("wrr", {RS1: 2, RS2: 10}))
    assert "numgen inc mod 6 map @m_tcp_10_0_0_1_80 : 80" in scheduling(text)
    assert maps(text)["m_tcp_10_0_0_1_80"].endswith(
        "elements = { 0 : 10.0.2.11, 1-5 : 10.0.2.12 }"
    )


def test_real_servers_on_different_ports_map_to_address_and_port():
    text = script(entry("wrr", {RS1: 1, ("10.0.2.12", 8080): 2}))
    assert scheduling(text) == (
        "meta l4proto tcp dnat ip addr . port to numgen inc mod 3 "
        "map @m_tcp_10_0_0_1_80"
    )
    assert maps(text)["m_tcp_10_0_0_1_80"] == (
        "typeof numgen inc mod 3 : ip daddr . th dport; flags interval; "
        "elements = { 0 : 10.0.2.11 . 80, 1-2 : 10.0.2.12 . 8080 }"
    )


def test_real_servers_on_port_zero_keep_the_clients_port():
    text = script(entry("rr", {("10.0.2.11", 0): 1, ("10.0.2.12", 0): 1}))
    assert scheduling(text).endswith("map @m_tcp_10_0_0_1_80")
    assert (
        "elements = { 0 : 10.0.2.11, 1 : 10.0.2.12 }" in maps(text)["m_tcp_10_0_0_1_80"]
    )


def test_port_zero_beside_given_ports_is_the_vips_port_and_a_mark_refuses_it():
    text = script(entry("rr", {("10.0.2.11", 0): 1, ("10.0.2.12", 8080): 1}))
    assert (
        "elements = { 0 : 10.0.2.11 . 80, 1 : 10.0.2.12 . 8080 }"
        in (maps(text)["m_tcp_10_0_0_1_80"])
    )
    fwm = ServiceKey("fwm", "", 7)
    mixed = entry("rr", {("10.0.2.11", 0): 1, ("10.0.2.12", 80): 1}, key=fwm)
    with pytest.raises(DataplaneError, match="port 0 .* cannot share a mark"):
        script(mixed)


def test_source_and_destination_hashing_use_jhash_of_the_address():
    sh_text = script(entry("sh", {RS1: 1, RS2: 2}))
    sh = scheduling(sh_text)
    dh = scheduling(script(entry("dh")))
    assert "jhash ip saddr mod 3 seed 0x70697261 map @m_tcp_10_0_0_1_80 : 80" in sh
    assert (
        "elements = { 0 : 10.0.2.11, 1-2 : 10.0.2.12 }"
        in maps(sh_text)["m_tcp_10_0_0_1_80"]
    )
    assert "jhash ip daddr mod 2 seed 0x70697261 map @m_tcp_10_0_0_1_80" in dh


def test_a_changed_service_remakes_its_map_and_a_removed_one_deletes_it():
    old = {WEB: entry("wrr", {RS1: 1, RS2: 1})}
    text = transaction(old, {WEB: entry("wrr", {RS1: 1, RS2: 3})})
    lines = text.splitlines()
    flush = lines.index("flush chain ip piranha s_tcp_10_0_0_1_80")
    assert lines[flush + 1] == "delete map ip piranha m_tcp_10_0_0_1_80"
    assert (
        "elements = { 0 : 10.0.2.11, 1-3 : 10.0.2.12 }"
        in maps(text)["m_tcp_10_0_0_1_80"]
    )
    assert "delete map ip piranha m_tcp_10_0_0_1_80" in transaction(old, {})
    single = transaction(old, {WEB: entry("wrr", {RS1: 1})})
    assert "m_tcp_10_0_0_1_80" not in maps(single)


def test_a_single_real_server_is_a_plain_dnat():
    assert rules(script(entry(dests={RS1: 3})), "s_tcp_10_0_0_1_80") == [
        'counter name "c_tcp_10_0_0_1_80" meta l4proto tcp dnat ip to 10.0.2.11:80',
    ]


def test_weight_zero_takes_no_new_connections_and_no_weight_leaves_no_dnat():
    text = script(entry("wrr", {RS1: 0, RS2: 4, RS3: 0}))
    assert scheduling(text) == "meta l4proto tcp dnat ip to 10.0.2.12:80"
    drained = script(entry("wrr", {RS1: 0, RS2: 0}))
    assert rules(drained, "s_tcp_10_0_0_1_80") == ['counter name "c_tcp_10_0_0_1_80"']


def test_persistence_looks_the_masked_client_up_per_real_server_before_scheduling():
    text = script(entry("rr", {RS1: 1, RS2: 0}, persistent=300, pmask="255.255.255.0"))
    sets = [line.strip() for line in text.splitlines() if line.startswith("    set")]
    assert sets == [
        f"set p_tcp_10_0_0_1_80_10_0_2_1{n}_80 {{ type ipv4_addr; "
        "size 262144; flags dynamic, timeout; timeout 300s; }"
        for n in (1, 2)
    ]
    assert rules(text, "s_tcp_10_0_0_1_80")[1:] == [
        "ip saddr & 255.255.255.0 @p_tcp_10_0_0_1_80_10_0_2_11_80 "
        "goto d_tcp_10_0_0_1_80_10_0_2_11_80",
        "ip saddr & 255.255.255.0 @p_tcp_10_0_0_1_80_10_0_2_12_80 "
        "goto d_tcp_10_0_0_1_80_10_0_2_12_80",
        # the quiesced server keeps its clients but takes no new ones
        "numgen inc mod 1 vmap @m_tcp_10_0_0_1_80",
    ]
    assert maps(text)["m_tcp_10_0_0_1_80"] == (
        "typeof numgen inc mod 1 : verdict; "
        "elements = { 0 : goto d_tcp_10_0_0_1_80_10_0_2_11_80 }"
    )
    assert rules(text, "d_tcp_10_0_0_1_80_10_0_2_12_80") == [
        "update @p_tcp_10_0_0_1_80_10_0_2_12_80 { ip saddr & 255.255.255.0 }",
        "meta l4proto tcp dnat ip to 10.0.2.12:80",
    ]


def test_a_persistent_real_server_on_port_0_is_refreshed_on_the_vips_port():
    # DNAT kept the client's port, so the forward hook sees the VIP's port 80
    text = script(entry("rr", {("10.0.2.11", 0): 1}, persistent=300))
    assert "tcp . 10.0.0.1 . 10.0.2.11 . 80 : goto u_" in maps(text)["refresh"]


def test_a_firewall_mark_service_is_found_by_mark_and_natted_for_tcp_and_udp():
    key = ServiceKey("fwm", "", 7)
    text = script(entry("rr", {RS1: 1}, key=key))
    assert maps(text)["marks"] == (
        "type mark : verdict; elements = { 7 : goto s_fwm_7 }"
    )
    assert "add element" not in text  # nft would fetch every interval map first
    assert scheduling(text, "s_fwm_7") == (
        "meta l4proto { tcp, udp } dnat ip to 10.0.2.11:80"
    )


def test_udp_services_are_dispatched_by_protocol_address_and_port():
    key = ServiceKey("udp", "10.0.0.1", 53)
    text = script(entry("rr", {("10.0.2.11", 53): 1}, key=key))
    assert maps(text)["services"].endswith(
        "elements = { udp . 10.0.0.1 . 53 : goto s_udp_10_0_0_1_53 }"
    )
    assert scheduling(text, "s_udp_10_0_0_1_53") == (
        "meta l4proto udp dnat ip to 10.0.2.11:53"
    )


def test_a_reapply_leaves_unchanged_services_alone_and_removes_vanished_ones():
    web, dns = entry(), entry(key=ServiceKey("udp", "10.0.0.1", 53))
    old = {web.spec.key: web, dns.spec.key: dns}
    text = transaction(old, {web.spec.key: web})
    assert "s_tcp_10_0_0_1_80" not in text.replace("goto s_tcp_10_0_0_1_80", "")
    assert "delete element ip piranha services { udp . 10.0.0.1 . 53 }" in text
    assert "delete chain ip piranha s_udp_10_0_0_1_53" in text
    assert "delete counter ip piranha c_udp_10_0_0_1_53" in text
    assert not text.startswith("table ip piranha\ndelete")


def test_a_new_persistence_timeout_recreates_the_sets_and_keeps_the_others():
    old = entry(persistent=300)
    new = entry(persistent=60)
    text = transaction({WEB: old}, {WEB: new})
    assert "delete set ip piranha p_tcp_10_0_0_1_80_10_0_2_11_80" in text
    assert "timeout 60s" in text
    same = transaction({WEB: old}, {WEB: entry(persistent=300, dests={RS1: 1})})
    assert "delete set ip piranha p_tcp_10_0_0_1_80_10_0_2_11_80" not in same
    assert "delete set ip piranha p_tcp_10_0_0_1_80_10_0_2_12_80" in same


@pytest.mark.parametrize("scheduler", ["lc", "wlc", "lblc", "lblcr", "sed", "nq"])
def test_schedulers_nftables_cannot_express_are_refused_naming_who_can(scheduler):
    with pytest.raises(DataplaneError) as refused:
        script(entry(scheduler))
    message = str(refused.value)
    assert f"virtual server web: scheduler {scheduler} cannot be expressed" in message
    assert "--dataplane userspace or ipvs" in message


def test_configure_refuses_a_configuration_with_kernel_only_schedulers():
    cfg = config(
        virtual("web", "10.0.0.1", 80, [server("a", "10.0.2.11")], scheduler="rr"),
        virtual("db", "10.0.0.1", 3306, [server("b", "10.0.2.12")], scheduler="wlc"),
        network="nat",
    )
    assert refusals(cfg) == [
        "virtual server db: scheduler wlc cannot be expressed in nftables (only rr, "
        "wrr, sh, dh); use --dataplane userspace or ipvs, which support lc, wlc, "
        "lblc, lblcr, sed, nq"
    ]
    with pytest.raises(DataplaneError, match="virtual server db: scheduler wlc"):
        asyncio.run(NftablesDataplane().configure(cfg))


def test_direct_routing_is_refused():
    cfg = config(virtual("web", "10.0.0.1", 80, scheduler="rr"), network="direct")
    assert refusals(cfg) == [
        "network = direct: the nftables dataplane forwards by NAT only; use "
        "--dataplane ipvs for direct routing or tunnelling"
    ]


def test_configure_names_a_missing_nft_program(tmp_path):
    cfg = config(virtual("web", "10.0.0.1", 80, scheduler="rr"), network="nat")
    with pytest.raises(DataplaneError, match="nft program .* is not installed"):
        asyncio.run(NftablesDataplane(nft=str(tmp_path / "nft")).configure(cfg))


@pytest.mark.parametrize(
    "bad",
    [
        {"key": ServiceKey("tcp", "10.0.0.1; flush ruleset", 80)},
        {"dests": {("10.0.2.11 accept", 80): 1}},
        {"dests": {("10.0.2.11\x00", 80): 1}},
        {"dests": {("0x0a.0.2.11", 80): 1}},
        {"dests": {("10.0.2.11", 70000): 1}},
        {"key": ServiceKey("sctp", "10.0.0.1", 80)},
        {"persistent": 10, "pmask": "255.255.255.0 }"},
    ],
)
def test_anything_that_is_not_an_address_or_port_never_reaches_nft(bad):
    bad_entry = entry(**bad)
    with pytest.raises(DataplaneError, match="not an IPv4 address|out of range|tcp or"):
        script(bad_entry)
    with pytest.raises(DataplaneError, match="not an IPv4 address|out of range|tcp or"):
        full_build({bad_entry.spec.key: bad_entry})  # nor the kernel directly


CONNTRACK = """\
ipv4 2 tcp 6 431999 ESTABLISHED src=10.200.1.10 dst=10.0.0.1 sport=40001 dport=80 \
src=10.0.2.11 dst=10.200.1.10 sport=80 dport=40001 [ASSURED] mark=0 zone=0 use=2
ipv4     2 tcp      6 119 TIME_WAIT src=10.200.1.10 dst=10.0.0.1 sport=40002 dport=80 \
packets=6 bytes=400 src=10.0.2.12 dst=10.200.1.10 sport=80 dport=40002 packets=5 \
bytes=900 [ASSURED] mark=0 zone=0 use=2
ipv4     2 udp      17 29 src=10.200.1.10 dst=10.0.0.2 sport=5000 dport=53 \
[UNREPLIED] src=10.0.2.11 dst=10.200.1.10 sport=80 dport=5000 mark=0 zone=0 use=2
ipv4     2 tcp      6 50 ESTABLISHED src=10.200.1.10 dst=10.200.1.1 sport=4 dport=22 \
src=10.200.1.1 dst=10.200.1.10 sport=22 dport=4 [ASSURED] mark=0 zone=0 use=2
ipv4     2 icmp     1 29 src=10.200.1.10 dst=10.0.0.1 type=8 code=0 id=1 src=10.0.0.1 \
dst=10.200.1.10 type=0 code=0 id=1 mark=0 zone=0 use=2
"""


def test_flows_to_a_vip_no_rule_translated_are_found_for_forgetting():
    fwm = ServiceKey("fwm", "", 7)
    listen = (("udp", "10.0.0.2", 53),)
    table = {WEB: entry(), fwm: entry(key=fwm, dests={RS1: 1}, listen=listen)}
    untranslated = """\
ipv4     2 tcp      6 8 CLOSE src=10.200.1.10 dst=10.0.0.1 sport=5 dport=80 \
src=10.0.0.1 dst=10.200.1.10 sport=80 dport=5 mark=0 zone=0 use=2
ipv4     2 udp      17 25 src=10.200.1.11 dst=10.0.0.2 sport=6 dport=53 [UNREPLIED] \
src=10.0.0.2 dst=10.200.1.11 sport=53 dport=6 mark=0 zone=0 use=2
ipv4     2 udp      17 25 src=10.200.1.11 dst=10.0.0.9 sport=6 dport=53 [UNREPLIED] \
src=10.0.0.9 dst=10.200.1.11 sport=53 dport=6 mark=0 zone=0 use=2
"""
    found = unnatted(table, parse(CONNTRACK + untranslated))
    assert [(flow.client, flow.destination) for flow in found] == [
        (("10.200.1.10", 5), ("10.0.0.1", 80)),  # the service's VIP:port, not NATed
        (("10.200.1.11", 6), ("10.0.0.2", 53)),  # a firewall-mark member
    ]  # NATed flows, the router's own ssh and other addresses stay


def test_conntrack_entries_count_as_active_and_inactive_per_real_server():
    fwm = ServiceKey("fwm", "", 7)
    listen = (("udp", "10.0.0.2", 53),)
    table = {WEB: entry(), fwm: entry(key=fwm, dests={RS1: 1}, listen=listen)}
    counts = tally(table, parse(CONNTRACK))
    assert counts[WEB]["dests"] == {
        "10.0.2.11:80": {"active": 1, "inactive": 0, "bytes_in": 0, "bytes_out": 0},
        "10.0.2.12:80": {"active": 0, "inactive": 1, "bytes_in": 400, "bytes_out": 900},
    }
    assert (counts[WEB]["active"], counts[WEB]["inactive"]) == (1, 1)
    assert counts[fwm]["dests"]["10.0.2.11:80"]["inactive"] == 1  # UDP: inactive


class FakeNft:
    """An nft program that keeps each script it is given; can be made to fail."""

    def __init__(self, directory):
        self.path, self.log = directory / "nft", directory / "scripts"
        self.fail = directory / "fail"
        self.log.mkdir()
        self.path.write_text(
            "#!/bin/sh\n"
            f"n=$(ls {self.log} | wc -l); cat > {self.log}/$n\n"
            f'[ -e {self.fail} ] && {{ echo "Error: Could not process rule" >&2; '
            "exit 1; }\nexit 0\n"
        )
        self.path.chmod(0o755)

    def scripts(self):
        return [
            (self.log / str(n)).read_text()
            for n in range(len(list(self.log.iterdir())))
        ]


def test_applies_rebuild_first_then_send_only_changes_and_nothing_when_unchanged(
    tmp_path,
):
    nft = FakeNft(tmp_path)
    dp = NftablesDataplane(nft=str(nft.path), direct=False)
    web, smaller = {WEB: entry()}, {WEB: entry(dests={RS1: 1})}

    async def steps():
        await dp.apply(web)
        await dp.apply(web)
        await dp.apply(smaller)
        await dp.close()

    asyncio.run(steps())
    first, change, close = nft.scripts()
    assert first.startswith("table ip piranha\ndelete table ip piranha\n")
    assert change.startswith("flush chain ip piranha s_tcp_10_0_0_1_80\n")
    assert close == "table ip piranha\ndelete table ip piranha\n"
    assert dp.current() == {}


def test_a_failed_apply_reports_nft_and_the_next_one_rebuilds(tmp_path):
    nft = FakeNft(tmp_path)
    dp = NftablesDataplane(nft=str(nft.path), direct=False)
    asyncio.run(dp.apply({WEB: entry()}))
    nft.fail.touch()
    with pytest.raises(DataplaneError, match="nft -f failed: Error: Could not process"):
        asyncio.run(dp.apply({WEB: entry(dests={RS1: 1})}))
    assert dp.current() == {WEB: entry()}  # the kernel refused it all: unchanged
    nft.fail.unlink()
    asyncio.run(dp.apply({WEB: entry(dests={RS1: 1})}))
    assert nft.scripts()[-1].startswith("table ip piranha\ndelete table ip piranha\n")
    assert dp.current() == {WEB: entry(dests={RS1: 1})}


def test_a_persistent_clients_traffic_refreshes_its_template_in_the_forward_hook():
    text = script(entry("rr", {RS1: 1}, persistent=300))
    assert rules(text, "u_tcp_10_0_0_1_10_0_2_11_80") == [
        "meta l4proto tcp ct original proto-dst 80 "
        "update @p_tcp_10_0_0_1_80_10_0_2_11_80 { ip saddr }"
    ]
    assert maps(text)["refresh"].endswith(
        "elements = { tcp . 10.0.0.1 . 10.0.2.11 . 80 : "
        "goto u_tcp_10_0_0_1_10_0_2_11_80 }"
    )
    assert "u_" not in script(entry("rr", {RS1: 1}))  # not persistent: nothing


def test_services_of_one_vip_sharing_a_real_server_share_its_refresh_chain():
    other = entry(
        "rr", {RS1: 1}, key=ServiceKey("tcp", "10.0.0.1", 8080), persistent=60
    )
    text = script(entry("rr", {RS1: 1}, persistent=300), other)
    assert [
        rule.split(" update ")[0] for rule in rules(text, "u_tcp_10_0_0_1_10_0_2_11_80")
    ] == [
        "meta l4proto tcp ct original proto-dst 80",
        "meta l4proto tcp ct original proto-dst 8080",
    ]


def test_a_new_timeout_empties_the_refresh_chain_before_its_set_is_deleted():
    text = transaction({WEB: entry(persistent=300)}, {WEB: entry(persistent=60)})
    lines = text.splitlines()
    flush = lines.index("flush chain ip piranha u_tcp_10_0_0_1_10_0_2_11_80")
    delete = lines.index("delete set ip piranha p_tcp_10_0_0_1_80_10_0_2_11_80")
    assert flush < delete
    assert "refresh" not in maps(text)  # the element stays


def test_a_removed_persistent_service_takes_its_refresh_chains_along():
    text = transaction({WEB: entry(persistent=300)}, {})
    assert (
        "delete element ip piranha refresh { tcp . 10.0.0.1 . 10.0.2.11 . 80 }" in text
    )
    assert "delete chain ip piranha u_tcp_10_0_0_1_10_0_2_11_80" in text


def test_counters_are_read_on_a_thread_so_a_status_poll_never_waits(
    tmp_path, monkeypatch
):
    """Reading runs nft and parses conntrack: never on the event loop's thread."""
    nft = FakeNft(tmp_path)
    dp = NftablesDataplane(nft=str(nft.path), direct=False)
    readers = []

    def read_now():
        readers.append(threading.get_ident())
        return {WEB: {"active": 3, "dests": {}}}

    monkeypatch.setattr(dp, "read_now", read_now)

    async def steps():
        await dp.apply({WEB: entry()})
        first = dp.counters()  # answers at once with what it has: nothing yet
        assert dp._reading is not None
        await dp._reading
        second = dp.counters()  # fresh: no second read within COUNTERS_AGE
        await dp.close()
        return first, second

    first, second = asyncio.run(steps())
    assert first == {}
    assert second == {WEB: {"active": 3, "dests": {}}}
    assert len(readers) == 1 and readers[0] != threading.get_ident()


def test_flows_are_forgotten_for_new_services_and_a_marks_new_vips_only(
    tmp_path, monkeypatch
):
    nft = FakeNft(tmp_path)
    dp = NftablesDataplane(nft=str(nft.path), direct=False)
    forgotten = []
    monkeypatch.setattr(
        dp, "_forget_unnatted", lambda table: forgotten.append(sorted(map(str, table)))
    )
    fwm = ServiceKey("fwm", "", 7)
    one = (("tcp", "10.0.0.2", 80),)
    two = (*one, ("tcp", "10.0.0.3", 80))
    mark = entry(key=fwm, listen=one)

    async def steps():
        for table in (
            {WEB: entry(), fwm: mark},  # the first apply: everything is new
            {WEB: entry(dests={RS1: 2}), fwm: mark},  # a weight: nothing new
            {WEB: entry(), fwm: entry(key=fwm, listen=two)},  # a VIP joins the mark
        ):
            await dp.apply(table)
            await dp.idle()

    asyncio.run(steps())
    assert forgotten == [sorted([str(WEB), str(fwm)]), [str(fwm)]]
