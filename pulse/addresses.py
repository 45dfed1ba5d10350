"""Floating addresses: the VIPs and the NAT router IP, brought up with pyroute2.

`floating(config)` lists what the active router holds, as the original pulse
did: the NAT router address (network = nat with nat_router set) and every
distinct VIP of an active virtual server, each on its device with its label
(`eth0:1`), the netmask from lvs.cf and the broadcast that follows from it.
Without a netmask an address is a /32: it adds no route, and removing it can
never take other addresses with it. Addresses in 127.0.0.0/8 are local on
every host already; they are never added, removed or announced.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
from dataclasses import dataclass

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

import lvscf

from .lvs import active_virtuals

logger = logging.getLogger(__name__)

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


@dataclass(frozen=True)
class Floating:
    """One address that moves with the active router."""

    address: str
    label: str  # the lvs.cf device, `eth0:1`; the link is the part before ":"
    prefixlen: int = 32

    @property
    def link(self) -> str:
        return self.label.split(":", 1)[0]

    @property
    def broadcast(self) -> str | None:
        if self.prefixlen >= 31:
            return None
        network = ipaddress.IPv4Network(f"{self.address}/{self.prefixlen}", False)
        return str(network.broadcast_address)

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen} on {self.label}"


def _prefixlen(netmask: str | None) -> int:
    if not netmask:
        return 32
    return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen


def floating(config: lvscf.Config) -> list[Floating]:
    """The NAT router address, then each distinct VIP, in file order."""
    found: list[Floating] = []
    if config.network == "nat" and config.nat_router and config.nat_router_device:
        found.append(
            Floating(
                config.nat_router,
                config.nat_router_device,
                _prefixlen(config.nat_nmask),
            )
        )
    for virtual in active_virtuals(config):
        if virtual.address and virtual.device:
            found.append(
                Floating(virtual.address, virtual.device, _prefixlen(virtual.vip_nmask))
            )
    unique = []
    seen = set()
    for item in found:
        if item.address not in seen and not is_loopback(item.address):
            seen.add(item.address)
            unique.append(item)
    return unique


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.IPv4Address(address) in LOOPBACK
    except ValueError:
        return False


def local_addresses() -> set[str]:
    """Every IPv4 address configured on this namespace's interfaces."""
    with IPRoute() as ipr:
        return {str(msg.get("IFA_ADDRESS")) for msg in ipr.get_addr(family=2)}


class AddressError(Exception):
    """An address could not be added or removed."""


def _index(ipr: IPRoute, link: str) -> int:
    found = ipr.link_lookup(ifname=link)
    if not found:
        raise AddressError(f"no network device {link}")
    return int(found[0])


def add(item: Floating) -> bool:
    """Bring one address up; False when it was up already."""
    with IPRoute() as ipr:
        index = _index(ipr, item.link)
        extra = {"broadcast": item.broadcast} if item.broadcast else {}
        try:
            ipr.addr(
                "add",
                index=index,
                address=item.address,
                prefixlen=item.prefixlen,
                label=item.label,
                **extra,
            )
        except NetlinkError as exc:
            if exc.code == errno.EEXIST:
                return False
            raise AddressError(f"cannot add {item}: {exc}") from exc
    return True


def remove(item: Floating, keep: frozenset[str] = frozenset()) -> bool:
    """Take an address off its link whatever its prefix; False if it was absent.

    Addresses in `keep` (the router's own) are never removed.
    """
    if item.address in keep:
        return False
    removed = False
    with IPRoute() as ipr:
        try:
            index = _index(ipr, item.link)
        except AddressError:
            return False
        for msg in ipr.get_addr(family=2, index=index):
            if msg.get("IFA_ADDRESS") != item.address:
                continue
            try:
                ipr.addr("del", index=index, address=item.address,
                         prefixlen=msg["prefixlen"])  # fmt: skip
                removed = True
            except NetlinkError as exc:
                if exc.code != errno.EADDRNOTAVAIL:
                    raise AddressError(f"cannot remove {item}: {exc}") from exc
    return removed


def held(items: list[Floating]) -> list[str]:
    """Which of `items` are configured here now (for status and tests)."""
    local = local_addresses()
    return [item.address for item in items if item.address in local]
