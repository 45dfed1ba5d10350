"""Gratuitous ARP, as the original's send_arp sent it.

One Ethernet frame to ff:ff:ff:ff:ff:ff, ARP op 2 (reply), sender *and*
target hardware address the link's own MAC, sender *and* target protocol
address the VIP, padded to the 60-byte minimum. Neighbours that already have
an entry for the VIP point it at us; a switch learns where the MAC is. pulse
sent five, one second apart, the first at once.

The target hardware address matters: Linux takes a reply as gratuitous only
when it equals the sender's, and only a gratuitous one replaces an entry
changed within the last `locktime` (1 s) — a client that had just been
talking to the dead router would otherwise keep its old entry until the
second announcement, a second later.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

logger = logging.getLogger(__name__)

ETH_P_ARP = 0x0806
BROADCAST = b"\xff" * 6
REPEAT = 5  # send_arp runs per address
INTERVAL = 1.0  # seconds between them
FRAME_SIZE = 60  # the Ethernet minimum without the FCS


def frame(mac: bytes, address: str) -> bytes:
    """The gratuitous ARP reply announcing `address` at `mac`."""
    ip = socket.inet_aton(address)
    header = BROADCAST + mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip + mac + ip
    return (header + arp).ljust(FRAME_SIZE, b"\0")


def send(link: str, address: str) -> None:
    """One gratuitous ARP for `address` on `link` (needs CAP_NET_RAW)."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as s:
        s.bind((link, 0))
        mac = s.getsockname()[4]
        if len(mac) != 6 or mac == b"\0" * 6:
            return  # loopback or a link without Ethernet addresses
        s.send(frame(mac, address))


async def announce(
    targets: list[tuple[str, str]], repeat: int = REPEAT, interval: float = INTERVAL
) -> None:
    """Send `repeat` rounds of gratuitous ARPs for (link, address) pairs."""
    for round_ in range(repeat):
        if round_:
            await asyncio.sleep(interval)
        for link, address in targets:
            try:
                send(link, address)
            except OSError as exc:
                logger.error("send_arp %s on %s failed: %s", address, link, exc)
    logger.info("gratuitous lvs arps finished")
