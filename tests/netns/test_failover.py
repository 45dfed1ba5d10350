"""Failover between two real pulse processes, in network namespaces (root).

client ─ br-pub ─ {primary, backup} ─ br-priv ─ rs1..rs3, both routers running
`python -m pulse run` on the same lvs.cf (keepalive 1, deadtime 2). A client
keeps requesting the VIP while the primary is killed, loses its cable, is
stopped, loses a real server mid-failover, or is partitioned from the backup.
After each the service answers through the other router, the client's ARP
entry has moved (gratuitous ARP), the VIP is on exactly one router, and a
restarted primary stays passive. No timing is asserted: see
bench/failover_bench.py.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from pulse.control import request
from pulse.dataplanes import DATAPLANES

from .pulse_pair import DEADTIME, Prober, PulsePair, wait


@pytest.fixture(params=["userspace", "nftables"])
def pair(request, lvs, tmp_path):
    """Both routers running pulse, the primary active; a client probing the VIP."""
    if request.param not in DATAPLANES:
        pytest.skip(f"the {request.param} dataplane is not registered in DATAPLANES")
    pulses = PulsePair(lvs, tmp_path, request.param)
    prober = Prober(lvs)
    try:
        pulses.start("primary")
        pulses.start("backup")
        pulses.settle("primary")
        prober.start()
        prober.wait_healthy(time.monotonic())
        wait(lambda: pulses.arp_points_to() == "primary", 5, "the ARP on primary")
        yield pulses, prober
    finally:
        prober.stop()
        pulses.close()


def took_over(pulses, prober, start, active="backup"):
    """The service is back through `active`, which alone holds the VIP."""
    prober.wait_healthy(start)
    pulses.settle(active)
    wait(lambda: pulses.arp_points_to() == active, 5, f"the client's ARP on {active}")
    prober.wait_healthy(time.monotonic())


def restarted_primary_stays_passive(pulses, prober):
    pulses.start("primary")
    time.sleep(DEADTIME + 0.5)  # past the deadline it would have taken over at
    assert not pulses.active("primary")
    assert pulses.holders() == ["backup"]
    wait(lambda: pulses.arp_points_to() == "backup", 5, "the ARP entry on backup")
    prober.wait_healthy(time.monotonic())
    failovers = pulses.status("primary")["heartbeat"]["failovers"]
    assert not any("activating" in f["message"] for f in failovers)


def test_a_killed_primary_is_replaced_and_its_stale_vip_removed_on_restart(pair):
    pulses, prober = pair
    start = time.monotonic()
    pulses.stop("primary", signal.SIGKILL)
    prober.wait_healthy(start)
    wait(lambda: pulses.active("backup"), 10, "backup active")
    assert "backup" in pulses.holders()  # the killed primary still has it, stale
    wait(lambda: pulses.arp_points_to() == "backup", 5, "the ARP entry on backup")
    restarted_primary_stays_passive(pulses, prober)
    messages = [f["message"] for f in pulses.status("backup")["heartbeat"]["failovers"]]
    assert "partner dead: activating lvs" in messages
    assert "removed stale address" in pulses.log("primary")


def test_a_primary_losing_its_public_link_steps_down_and_stays_passive(pair):
    pulses, prober = pair
    start = time.monotonic()
    pulses.cable("primary", up=False)
    took_over(pulses, prober, start)
    assert "Local NIC link failure: Pulse disabled (eth0)" in pulses.log("primary")
    assert pulses.status("primary")["heartbeat"]["links"] == {
        "ok": False,
        "down": ["eth0"],
    }
    pulses.cable("primary", up=True)
    wait(lambda: pulses.status("primary")["heartbeat"]["links"]["ok"], 5, "link ok")
    time.sleep(DEADTIME + 0.5)  # past the fresh deadline
    assert not pulses.active("primary")
    assert pulses.holders() == ["backup"]
    prober.wait_healthy(time.monotonic())


def test_a_cleanly_stopped_primary_hands_over_at_once(pair):
    pulses, prober = pair
    start = time.monotonic()
    assert pulses.stop("primary") == 0
    took_over(pulses, prober, start)
    messages = [f["message"] for f in pulses.status("backup")["heartbeat"]["failovers"]]
    assert "primary inactive: activating lvs" in messages  # told, not timed out
    a = pulses.lvs.addresses
    assert labelled(pulses.lvs.backup, "eth0")[a.vip] == ("eth0:1", 32)
    assert labelled(pulses.lvs.backup, "eth1")[a.nat_router] == ("eth1:1", 32)

    # A reload brings a new virtual server's VIP up with its label and netmask.
    text = pulses.config.read_text()
    second = text[text.index("virtual web") :].replace("virtual web", "virtual two")
    second = second.replace(f"{a.vip} eth0:1", "10.200.1.101 eth0:2").replace(
        "active = 1\n", "active = 1\n     vip_nmask = 255.255.255.0\n", 1
    )
    pulses.config.write_text(text + second)
    assert request(pulses.socket_path("backup"), {"cmd": "reload"})["ok"]
    wait(lambda: "10.200.1.101" in labelled(pulses.lvs.backup, "eth0"), 5, "new VIP")
    assert labelled(pulses.lvs.backup, "eth0")["10.200.1.101"] == ("eth0:2", 24)
    restarted_primary_stays_passive(pulses, prober)
    assert "10.200.1.101" not in pulses.lvs.primary.addresses("eth0")


def labelled(router, ifname):
    """address: (label, prefix length) of the IPv4 addresses on a link."""
    (link,) = json.loads(router.ip("-j", "-4", "addr", "show", "dev", ifname))
    return {
        a["local"]: (a.get("label", ifname), a["prefixlen"]) for a in link["addr_info"]
    }


def test_a_real_server_dying_during_a_failover_is_left_out(pair):
    pulses, prober = pair
    rs1 = pulses.lvs.servers[0]
    start = time.monotonic()
    pulses.stop("primary", signal.SIGKILL)
    pulses.lvs.stop_http(rs1)
    prober.wait_healthy(start)
    wait(lambda: pulses.active("backup"), 10, "backup active")
    wait(lambda: pulses.arp_points_to() == "backup", 5, "the ARP entry on backup")
    health = {s["server"]: s["health"] for s in pulses.status("backup")["servers"]}
    assert health == {"rs1": "down", "rs2": "up", "rs3": "up"}
    since = time.monotonic()
    prober.wait_healthy(since, run=30)
    assert {s.body for s in prober.since(since)} <= {"rs2", "rs3"}
    restarted_primary_stays_passive(pulses, prober)


def test_a_healed_partition_leaves_the_primary_alone_active(pair):
    pulses, prober = pair
    pulses.partition(cut=True)
    wait(lambda: pulses.active("backup"), 10, "the partitioned backup active")
    assert pulses.active("primary")  # split-brain: both hold the VIP
    wait(lambda: pulses.holders() == ["primary", "backup"], 5, "both holding")
    start = time.monotonic()
    pulses.partition(cut=False)
    took_over(pulses, prober, start, active="primary")
    backup = [f["message"] for f in pulses.status("backup")["heartbeat"]["failovers"]]
    assert backup[-1] == "partner active: deactivating LVS"
    assert "partner active: resending arps" in pulses.log("primary")
