"""Floating addresses, gratuitous ARP and link state, on real links (root).

The functions run on a thread switched into a test namespace
(`Namespace.call`), so they act on that namespace's links only.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pulse import addresses, arp, links
from pulse.addresses import AddressError, Floating
from pulse.control import request

from .pulse_pair import wait
from .topology import REPO_ROOT

VIP = "10.9.0.100"


@pytest.fixture
def lan(topology):
    """Three hosts on one bridge: a (10.9.0.1), b (10.9.0.2), observer (10.9.0.3)."""
    switch = topology.namespace("sw")
    bridge = topology.bridge(switch, "br0")
    hosts = {}
    for number, role in enumerate(("a", "b", "observer"), start=1):
        ns = topology.namespace(role)
        port = topology.attach(ns, "eth0", switch, bridge)
        ns.add_address("eth0", f"10.9.0.{number}/24")
        hosts[role] = (ns, port)
    return switch, hosts


def addr_info(ns, address):
    (link,) = json.loads(ns.ip("-j", "-4", "addr", "show", "dev", "eth0"))
    return next((a for a in link["addr_info"] if a["local"] == address), None)


def test_an_address_comes_up_with_its_label_netmask_and_broadcast_and_goes(lan):
    _, hosts = lan
    a = hosts["a"][0]
    item = Floating(VIP, "eth0:1", 24)
    assert a.call(addresses.add, item) is True
    info = addr_info(a, VIP)
    assert (info["label"], info["prefixlen"], info["broadcast"]) == (
        "eth0:1",
        24,
        "10.9.0.255",
    )
    assert a.call(addresses.add, item) is False  # already up
    assert VIP in a.call(addresses.local_addresses)
    assert a.call(addresses.held, [item]) == [VIP]
    assert a.call(addresses.remove, item, frozenset({VIP})) is False  # kept
    assert a.call(addresses.remove, item) is True
    assert addr_info(a, VIP) is None and "10.9.0.1" in a.addresses("eth0")
    assert a.call(addresses.remove, item) is False
    with pytest.raises(AddressError, match="no network device eth9"):
        a.call(addresses.add, Floating(VIP, "eth9:1"))


def test_a_gratuitous_arp_moves_a_neighbours_entry_without_traffic(lan):
    _, hosts = lan
    a, b, observer = (hosts[r][0] for r in ("a", "b", "observer"))
    a.call(addresses.add, Floating(VIP, "eth0:1"))
    assert observer.ping(VIP)
    assert observer.neighbours("eth0")[VIP] == a.mac("eth0")
    a.call(addresses.remove, Floating(VIP, "eth0:1"))
    b.call(addresses.add, Floating(VIP, "eth0:1"))
    # The kernel ignores a changed address within locktime (1 s) of the entry's
    # last update, which is why pulse sends five, a second apart.
    started = time.monotonic()
    b.call(lambda: asyncio.run(arp.announce([("eth0", VIP)], 3, 0.6)))
    assert time.monotonic() - started >= 1.2  # three rounds, 0.6 s apart
    assert observer.neighbours("eth0")[VIP] == b.mac("eth0")


def test_the_first_gratuitous_arp_moves_an_entry_the_neighbour_just_updated(lan):
    """Within locktime (1 s) of an entry's last change Linux replaces it only
    for a true gratuitous ARP: target hardware address = sender's, as
    send_arp wrote it. A client that was just talking to the dead router has
    such an entry."""
    _, hosts = lan
    a, b, observer = (hosts[r][0] for r in ("a", "b", "observer"))
    b.call(addresses.add, Floating(VIP, "eth0:1"))
    observer.ip("neigh", "replace", VIP, "lladdr", a.mac("eth0"), "dev", "eth0",
                "nud", "reachable")  # fmt: skip
    b.call(arp.send, "eth0", VIP)
    wait(
        lambda: observer.neighbours("eth0").get(VIP) == b.mac("eth0"),
        2,
        "the observer's entry for the VIP to point at b",
    )


def test_a_pulled_cable_and_a_missing_link_count_as_down(lan):
    switch, hosts = lan
    a, port = hosts["a"]
    assert a.call(links.down_links, ["eth0", "eth9"]) == ["eth9"]
    assert a.call(links.links_holding, ["10.9.0.1", "10.9.9.9"]) == ["eth0"]
    switch.ip("link", "set", port, "down")  # the kernel reports carrier late
    wait(lambda: a.call(links.down_links, ["eth0"]) == ["eth0"], 5, "carrier lost")
    switch.ip("link", "set", port, "up")
    wait(lambda: a.call(links.down_links, ["eth0"]) == [], 5, "carrier back")
    a.link_down("eth0")
    assert a.call(links.down_links, ["eth0"]) == ["eth0"]


STANDALONE_CF = """serial_no = 1
primary = 10.9.0.1
service = lvs
network = direct
keepalive = 1
deadtime = 2
virtual web {
     active = 1
     address = 10.9.0.100 eth0:1
     port = 8080
     scheduler = rr
     timeout = 1
     server r1 {
         address = 10.9.0.2
         active = 1
     }
}
"""


def test_a_standalone_primary_waits_deadtime_then_takes_its_vip(lan, tmp_path):
    _, hosts = lan
    a = hosts["a"][0]
    config, sock = tmp_path / "lvs.cf", str(tmp_path / "pulse.sock")
    config.write_text(STANDALONE_CF)
    argv = [sys.executable, "-m", "pulse", "run", "--foreground", "--config",
            str(config), "--control-socket", sock]  # fmt: skip
    process = a.popen(*argv, cwd=REPO_ROOT, stderr=subprocess.DEVNULL)
    wait(lambda: os.path.exists(sock), 10, "the control socket")
    status = request(sock, {"cmd": "status"})["status"]
    assert status["role"] == "standalone" and not status["heartbeat"]["active"]
    assert addr_info(a, VIP) is None
    wait(lambda: addr_info(a, VIP) is not None, 10, "the VIP taken")
    heartbeat = request(sock, {"cmd": "status"})["status"]["heartbeat"]
    assert heartbeat["active"]
    assert heartbeat["failovers"][-1]["message"] == "partner dead: activating lvs"
    assert addr_info(a, VIP)["label"] == "eth0:1"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert addr_info(a, VIP) is None


TWO_VIPS_CF = """serial_no = {serial}
primary = 10.9.0.1
service = lvs
network = direct
virtual one {{
     active = {first}
     address = 10.8.0.1 eth0:1
     vip_nmask = 255.255.255.0
     port = 8080
     scheduler = rr
     timeout = 1
}}
virtual two {{
     active = 1
     address = 10.8.0.2 eth0:2
     vip_nmask = 255.255.255.0
     port = 8080
     scheduler = rr
     timeout = 1
}}
"""


def test_a_reload_that_drops_a_vip_keeps_the_other_vip_of_its_subnet(lan, tmp_path):
    """Deleting a subnet's first address deletes its secondaries; pulse re-adds."""
    a = lan[1]["a"][0]
    config, sock = tmp_path / "lvs.cf", str(tmp_path / "pulse.sock")
    config.write_text(TWO_VIPS_CF.format(serial=1, first=1))
    argv = [sys.executable, "-m", "pulse", "run", "--foreground", "--force-active",
            "--config", str(config), "--control-socket", sock]  # fmt: skip
    process = a.popen(*argv, cwd=REPO_ROOT, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: os.path.exists(sock), 10, "the control socket")
        wait(lambda: addr_info(a, "10.8.0.2") is not None, 10, "both VIPs up")
        assert addr_info(a, "10.8.0.1") is not None
        config.write_text(TWO_VIPS_CF.format(serial=2, first=0))
        assert request(sock, {"cmd": "reload"})["ok"]
        assert addr_info(a, "10.8.0.1") is None
        assert addr_info(a, "10.8.0.2")["label"] == "eth0:2"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
