"""The nftables dataplane in a real kernel: traffic from a client namespace.

One LVS topology for the module (client, router "primary" holding the VIP and
the NAT router IP, rs1..rs3 answering HTTP and UDP with their name); each test
applies its own table from an lvs.cf and removes it. The dataplane runs on a
thread inside the router namespace, as pulse would run there.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import signal
import socket
import sys
import threading
import time
from collections import Counter

import pytest

from pulse.dataplanes.nftables import NftablesDataplane
from pulse.lvs import (
    DataplaneError,
    Entry,
    ServiceKey,
    ServiceSpec,
    Slot,
    desired_table,
)
from tests.pulse.factories import config, config_text, server, virtual

from .topology import REPO_ROOT, LvsAddresses, lvs_topology
from .wire import udp_ask

A = LvsAddresses()
VIP, VIP2 = A.vip, "10.200.1.101"
RS1, RS2, RS3 = A.servers
SOURCES = [f"10.200.1.{n}" for n in range(20, 30)]  # extra client addresses
UDP_PORT = 5353


@pytest.fixture(scope="module")
def net(netns_capable):
    with lvs_topology() as built:
        built.float_up(built.primary)
        built.primary.add_address("eth0", f"{VIP2}/32", label="eth0:2")
        for source in SOURCES:
            built.client.add_address("eth0", f"{source}/24")
        for rs in built.servers:
            built.start_udp(rs, UDP_PORT)
        yield built


@pytest.fixture
def dp(net):
    dataplane = NftablesDataplane()
    yield dataplane
    net.primary.call(asyncio.run, dataplane.close())


def apply(net, dp, *virtuals, down=()):
    """Apply the table of these virtual servers, every real server up but `down`."""
    cfg = config(*virtuals, network="nat")
    slots = {
        (v.name, s.name): Slot(None, False) if s.name in down else Slot(s.weight, True)
        for v in cfg.virtual_servers
        for s in v.servers
    }
    table = desired_table(cfg, slots)

    async def settled():
        await dp.apply(table)
        await dp.idle()

    net.primary.call(asyncio.run, settled())
    return table


def servers(weights=(1, 1, 1), port=None):
    return [
        server(f"rs{n}", address, port=port, weight=w)
        for n, (address, w) in enumerate(zip(A.servers, weights, strict=False), 1)
    ]


def fetch(host=VIP, port=80, source=None):
    source_address = (source, 0) if source else None
    conn = http.client.HTTPConnection(
        host, port, timeout=5, source_address=source_address
    )
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode().strip()
    finally:
        conn.close()


def spread(net, count, **where):
    return net.client.call(lambda: Counter(fetch(**where) for _ in range(count)))


def nft(net, *args):
    return net.primary.run("nft", *args)


def test_weighted_round_robin_sends_one_connection_in_six_to_the_light_server(net, dp):
    apply(net, dp, virtual("web", VIP, 80, servers((1, 5)), scheduler="wrr"))
    assert spread(net, 60) == {"rs1": 10, "rs2": 50}


def test_source_hashing_keeps_each_client_on_one_server(net, dp):
    apply(net, dp, virtual("web", VIP, 80, servers(), scheduler="sh"))
    chosen = {src: spread(net, 3, source=src) for src in SOURCES}
    assert all(len(answers) == 1 for answers in chosen.values())
    assert len({server for answers in chosen.values() for server in answers}) > 1


def test_persistence_keeps_each_client_and_its_netmask_keeps_the_subnet(net, dp):
    apply(net, dp, virtual("web", VIP, 80, servers(), scheduler="rr", persistent=30))
    chosen = {src: spread(net, 3, source=src) for src in SOURCES}
    assert all(len(answers) == 1 for answers in chosen.values())
    assert len({server for answers in chosen.values() for server in answers}) == 3
    web = virtual(
        "web", VIP, 80, servers(), scheduler="rr", persistent=30, pmask="255.255.255.0"
    )
    apply(net, dp, web)
    together: Counter[str] = Counter()
    for src in SOURCES:
        together += spread(net, 2, source=src)
    assert len(together) == 1
    assert "10.200.1.0" in nft(net, "list", "table", "ip", "piranha")


def test_a_persistent_client_stays_while_its_traffic_flows_and_is_forgotten_after(
    net, dp
):
    apply(net, dp, virtual("web", VIP, 80, servers(), scheduler="rr", persistent=1))
    source = SOURCES[0]
    held = http.client.HTTPConnection(VIP, 80, timeout=5, source_address=(source, 0))

    def ask():
        held.request("GET", "/")
        return held.getresponse().read().decode().strip()

    try:
        first = net.client.call(ask)
        for _ in range(6):  # 1.8 s of traffic: past the 1 s timeout
            time.sleep(0.3)
            assert net.client.call(ask) == first
        assert net.client.call(fetch, VIP, 80, source) == first
    finally:
        held.close()
    time.sleep(1.6)  # idle past the timeout: the template is gone
    assert net.client.call(fetch, VIP, 80, source) != first


def test_weight_zero_drains_while_an_open_connection_keeps_flowing(net, dp):
    apply(net, dp, virtual("web", VIP, 80, servers((1, 1)), scheduler="wrr"))
    held = http.client.HTTPConnection(VIP, 80, timeout=5)

    def ask():
        held.request("GET", "/")
        return held.getresponse().read().decode().strip()

    try:
        first = net.client.call(ask)
        weights = (0, 1) if first == "rs1" else (1, 0)
        apply(net, dp, virtual("web", VIP, 80, servers(weights), scheduler="wrr"))
        assert first not in spread(net, 6)
        assert net.client.call(ask) == first
        key = next(iter(dp.current()))
        counts = net.primary.call(dp.read_now)[key]
        assert counts["conns"] >= 7
        assert counts["dests"][f"{A.servers[int(first[2]) - 1]}:80"]["active"] >= 1
        assert counts["inactive"] >= 6  # the closed ones, in TIME_WAIT
        down = {first}
        web = virtual("web", VIP, 80, servers((1, 1)), scheduler="wrr")
        apply(net, dp, web, down=down)
        assert net.client.call(ask) == first  # conntrack keeps its NAT mapping
    finally:
        held.close()


def test_a_service_without_a_server_of_weight_above_zero_refuses_connections(net, dp):
    apply(net, dp, virtual("web", VIP, 80, servers((0, 0)), scheduler="wrr"))
    with pytest.raises(ConnectionRefusedError):
        net.client.call(fetch)


def test_the_sorry_server_answers_when_no_real_server_is_up(net, dp):
    web = virtual("web", VIP, 80, servers((1, 1)), scheduler="rr", sorry_server=RS3)
    apply(net, dp, web, down={"rs1", "rs2"})
    assert spread(net, 3) == {"rs3": 3}
    apply(net, dp, web, down={"rs2"})
    assert spread(net, 3) == {"rs1": 3}


def test_firewall_mark_virtual_servers_share_one_scheduler(net, dp):
    marks = (
        "table ip admin { chain marking { type filter hook prerouting priority mangle; "
    )
    marks += f"ip daddr {{ {VIP}, {VIP2} }} tcp dport 80 meta mark set 7; }}; }}"
    net.primary.run("nft", marks)
    try:
        apply(
            net,
            dp,
            virtual("a", VIP, 80, servers((1, 1)), scheduler="rr", fwmark=7),
            virtual("b", VIP2, 80, servers((1, 1)), scheduler="rr", fwmark=7),
        )
        answers = [net.client.call(fetch, vip) for vip in (VIP, VIP2, VIP, VIP2)]
    finally:
        net.primary.run("nft", "delete table ip admin")
    assert answers == ["rs1", "rs2", "rs1", "rs2"]


def test_udp_services_round_robin_per_flow(net, dp):
    apply(
        net,
        dp,
        virtual("dns", VIP, UDP_PORT, servers(), scheduler="rr", protocol="udp"),
    )
    answers = [net.client.call(udp_ask, VIP, UDP_PORT) for _ in range(6)]
    assert Counter(a.strip() for a in answers) == {"rs1": 2, "rs2": 2, "rs3": 2}


def retry(sock, attempts=10):
    """Send from the same port every 0.2 s until an answer comes (~2 s at most;
    without the fix the untranslated entry would last 30 s)."""
    sock.settimeout(0.2)
    for _ in range(attempts):
        sock.sendto(b"?", (VIP, UDP_PORT))
        try:
            return sock.recv(2048).decode()
        except OSError:
            continue
    raise AssertionError("no answer from the same client port")


def test_a_flow_begun_before_the_table_existed_is_served_once_the_table_is_built(
    net, dp
):
    """A client retrying from one port (DNS does): its first datagram reached
    the router itself, so conntrack noted the flow untranslated; the build of
    the table forgets that entry, and the next datagram is NATed at once."""

    def bound_socket():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("", 0))
        sock.settimeout(0.5)
        return sock

    # a firewall of the router's own makes conntrack follow flows without us
    net.primary.run("nft", "add", "table", "ip", "firewall")
    net.primary.run(
        "nft", "add", "chain", "ip", "firewall", "input",
        "{ type filter hook input priority 0; ct state established accept; }",
    )  # fmt: skip
    with net.client.call(bound_socket) as sock:
        sock.sendto(b"?", (VIP, UDP_PORT))  # no table yet: the router refuses it
        with pytest.raises(OSError):
            sock.recv(2048)
        port = sock.getsockname()[1]
        assert f"sport={port} dport={UDP_PORT}" in net.primary.run(
            "cat", "/proc/net/nf_conntrack"
        )
        dns = virtual("dns", VIP, UDP_PORT, servers(), scheduler="rr", protocol="udp")
        apply(net, dp, dns)
        try:  # the client retries from its port (the entry goes in the background)
            assert retry(sock).strip() in {"rs1", "rs2", "rs3"}
        finally:
            net.primary.run("nft", "delete", "table", "ip", "firewall")


def test_real_servers_on_different_ports_get_their_own_port(net, dp):
    net.start_udp(net.servers[1], UDP_PORT + 1)  # rs2 answers on another port
    rs1 = server("rs1", RS1, port=UDP_PORT, weight=1)
    rs2 = server("rs2", RS2, port=UDP_PORT + 1, weight=2)
    apply(
        net,
        dp,
        virtual("dns", VIP, UDP_PORT, [rs1, rs2], scheduler="wrr", protocol="udp"),
    )
    answers = [net.client.call(udp_ask, VIP, UDP_PORT) for _ in range(6)]
    assert Counter(a.strip() for a in answers) == {"rs1": 2, "rs2": 4}


def test_a_real_server_on_port_0_beside_one_on_its_own_port_gets_the_vips_port(net, dp):
    net.start_http(net.servers[0], 81)  # rs1 on port 0 keeps the VIP's port, 81
    net.start_http(net.servers[1], 8081)  # rs2 on its own port; nothing on its 81
    try:
        rs1 = server("rs1", RS1, port=0, weight=1)
        rs2 = server("rs2", RS2, port=8081, weight=1)
        apply(net, dp, virtual("web", VIP, 81, [rs1, rs2], scheduler="rr"))
        assert spread(net, 4, port=81) == {"rs1": 2, "rs2": 2}
    finally:
        net.stop_http(net.servers[0], 81)
        net.stop_http(net.servers[1], 8081)


def test_other_tables_are_left_untouched_and_close_removes_ours(net, dp):
    other = (
        "table ip admin { set blocked { type ipv4_addr; elements = { 192.0.2.1 } }; "
    )
    other += (
        "chain input { type filter hook input priority 0; ip saddr @blocked drop; }; }"
    )
    net.primary.run("nft", other)
    try:
        before = nft(net, "list", "table", "ip", "admin")
        apply(net, dp, virtual("web", VIP, 80, servers(), scheduler="rr"))
        apply(net, dp, virtual("web", VIP, 80, servers((1, 2)), scheduler="wrr"))
        assert nft(net, "list", "table", "ip", "admin") == before
        net.primary.call(asyncio.run, dp.close())
        assert nft(net, "list", "tables").split("\n")[:-1] == ["table ip admin"]
    finally:
        net.primary.run("nft", "delete table ip admin")


def test_a_rejected_transaction_changes_nothing_and_the_next_rebuilds(
    net, dp, tmp_path
):
    apply(net, dp, virtual("web", VIP, 80, servers((1, 1)), scheduler="rr"))
    before = nft(net, "list", "table", "ip", "piranha")
    broken = tmp_path / "nft"
    broken.write_text(
        "#!/bin/sh\n{ cat; echo 'add rule ip piranha nosuchchain accept'; }"
        " | exec nft -f -\n"
    )
    broken.chmod(0o755)
    dp.nft = str(broken)
    with pytest.raises(DataplaneError, match="nft -f failed"):
        apply(net, dp, virtual("web", VIP, 80, servers((1, 1, 1)), scheduler="rr"))
    assert nft(net, "list", "table", "ip", "piranha") == before
    assert spread(net, 4) == {"rs1": 2, "rs2": 2}
    dp.nft = "nft"
    apply(net, dp, virtual("web", VIP, 80, servers((1, 1, 1)), scheduler="rr"))
    assert spread(net, 3) == {"rs1": 1, "rs2": 1, "rs3": 1}


def test_reapplying_under_traffic_loses_no_connection(net, dp):
    tables = [servers((1, 1)), servers((1, 2, 1)), servers((0, 1, 1))]
    apply(net, dp, virtual("web", VIP, 80, tables[0], scheduler="wrr"))
    answers: list[object] = []

    def traffic():
        try:
            answers.append(spread(net, 60))
        except Exception as error:  # shown by the assertion below
            answers.append(error)

    client = threading.Thread(target=traffic)
    client.start()
    try:
        for n in range(12):
            apply(net, dp, virtual("web", VIP, 80, tables[n % 3], scheduler="wrr"))
    finally:
        client.join(60)
    assert isinstance(answers[0], Counter), answers
    assert sum(answers[0].values()) == 60  # every request answered


def test_pulse_runs_the_nftables_dataplane_and_removes_its_table_on_stop(net, tmp_path):
    cfg = tmp_path / "lvs.cf"
    web = virtual("web", VIP, 80, servers((1, 1)), scheduler="rr", timeout=1)
    cfg.write_text(config_text(web, primary=A.primary_public, network="nat"))
    argv = [sys.executable, "-m", "pulse", "run", "--config", str(cfg)]
    argv += ["--dataplane", "nftables", "--foreground"]
    argv += ["--control-socket", str(tmp_path / "pulse.sock")]
    pulse = net.primary.popen(*argv, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 15
        while not spread_or_none(net):
            assert time.monotonic() < deadline, "pulse never served the VIP"
            assert pulse.poll() is None, "pulse exited"
            time.sleep(0.2)
        assert spread(net, 4) == {"rs1": 2, "rs2": 2}
    finally:
        pulse.send_signal(signal.SIGTERM)
        assert pulse.wait(15) == 0
    assert "piranha" not in nft(net, "list", "tables")


def spread_or_none(net):
    try:
        return len(spread(net, 2)) == 2  # both real servers are in
    except OSError:
        return False


def test_a_full_build_cancelled_midway_ends_before_close_removes_the_table(net):
    """Pulse stopping cancels an apply in flight: the build's thread cannot be
    stopped, so close() waits for it and only then deletes the table."""
    table = {}
    for s in range(3000):  # a few hundred milliseconds of building
        key = ServiceKey("tcp", f"10.{100 + s // 250}.{s % 250}.1", 80)
        dests = {(f"192.168.{s % 250}.{10 + d}", 80): 1 for d in range(10)}
        table[key] = Entry(ServiceSpec(key, "rr"), dests)
    dataplane = NftablesDataplane()

    async def stop_midway():
        applying = asyncio.create_task(dataplane.apply(table))
        await asyncio.sleep(0.02)
        applying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await applying
        await dataplane.close()

    net.primary.call(asyncio.run, stop_midway(), timeout=60)
    assert "piranha" not in nft(net, "list", "tables")
