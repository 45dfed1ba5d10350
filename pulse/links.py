"""monitor_links: the state of the router's links, read over netlink.

A link is up when it is administratively up and has its carrier (the kernel's
IFF_UP and IFF_RUNNING flags, i.e. operstate up): a pulled cable, a peer veth
taken down or `ip link set dev down` all count as down, and so does a link
that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyroute2 import IPRoute

IFF_UP = 0x1
IFF_RUNNING = 0x40
POLL = 0.2  # seconds between two reads of the link table


def down_links(names: Iterable[str]) -> list[str]:
    """The links of `names` that are down or missing, in the given order."""
    with IPRoute() as ipr:
        flags = {
            str(msg.get("IFLA_IFNAME")): int(msg["flags"]) for msg in ipr.get_links()
        }
    wanted = IFF_UP | IFF_RUNNING
    return [name for name in names if flags.get(name, 0) & wanted != wanted]


def links_holding(addresses: Iterable[str]) -> list[str]:
    """The names of the links that carry any of `addresses`."""
    wanted = set(addresses)
    with IPRoute() as ipr:
        names = {
            int(msg["index"]): str(msg.get("IFLA_IFNAME")) for msg in ipr.get_links()
        }
        indexes = {
            int(msg["index"])
            for msg in ipr.get_addr(family=2)
            if msg.get("IFA_ADDRESS") in wanted
        }
    return sorted(names[i] for i in indexes if i in names)
