"""The namespace topology builder: it builds, it connects, it always cleans up."""

from __future__ import annotations

import os
import shutil
import socket
import urllib.request

import pytest

from .topology import NETNS_DIR, Topology, TopologyError, netns_unavailable, run


def namespaces_named(prefix: str) -> list[str]:
    return [
        name for name in run(["ip", "netns", "list"]).split() if name.startswith(prefix)
    ]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return str(answer.read().decode())


def test_two_namespaces_on_a_bridge_ping_each_other_and_vanish_on_close(netns_capable):
    with Topology() as topology:
        switch, a, b = (topology.namespace(role) for role in ("sw", "a", "b"))
        bridge = topology.bridge(switch, "br0")
        topology.attach(a, "eth0", switch, bridge)
        topology.attach(b, "eth0", switch, bridge)
        a.add_address("eth0", "10.9.0.1/24")
        b.add_address("eth0", "10.9.0.2/24")
        assert a.ping("10.9.0.2")
        assert b.neighbours("eth0") == {"10.9.0.1": a.mac("eth0")}
        assert not a.ping("10.9.0.3", timeout=0.3)
        assert len(namespaces_named(topology.prefix)) == 3
    assert namespaces_named(topology.prefix) == []


def test_a_failing_body_still_removes_namespaces_and_processes(netns_capable):
    with pytest.raises(ZeroDivisionError), Topology() as topology:
        ns = topology.namespace("lonely")
        sleeper = ns.popen("sleep", "60")
        1 / 0  # noqa: B018 (the failure under test)
    assert sleeper.poll() is not None
    assert not (NETNS_DIR / ns.name).exists()


def test_a_failing_command_names_the_command_and_its_error(topology):
    ns = topology.namespace("a")
    with pytest.raises(TopologyError, match="nosuchlink"):
        ns.link_up("nosuchlink")


def test_a_function_called_in_a_namespace_sees_only_its_links(topology):
    a, b = topology.namespace("a"), topology.namespace("b")
    topology.veth(a, "va", b, "vb")
    names = a.call(lambda: sorted(name for _, name in socket.if_nameindex()))
    assert names == ["lo", "va"]
    a.link_down("va")
    assert "state DOWN" in a.ip("link", "show", "va")


def test_the_lvs_topology_serves_each_real_server_through_a_floating_router(lvs):
    a = lvs.addresses
    lvs.float_up(lvs.primary)
    assert a.vip in lvs.primary.addresses("eth0")
    # From the client's side the real servers sit behind the router: route there.
    lvs.client.add_route("10.200.2.0/24", a.primary_public)
    bodies = [lvs.client.call(fetch, f"http://{address}/") for address in a.servers]
    assert bodies == ["rs1\n", "rs2\n", "rs3\n"]
    assert lvs.client.ping(a.vip)
    lvs.float_down(lvs.primary)
    lvs.float_up(lvs.backup)
    lvs.servers[0].ip("neigh", "flush", "dev", "eth0")
    assert lvs.servers[0].ping(a.client)  # replies now leave through the backup
    assert lvs.servers[0].neighbours("eth0")[a.nat_router] == lvs.backup.mac("eth1")


def test_without_root_namespace_tests_skip_with_the_reason(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert netns_unavailable() == "network namespaces need root"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert netns_unavailable() == "the ip program (iproute2) is not installed"
