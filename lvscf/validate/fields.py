"""What one field may hold: IPv4 addresses, netmasks, interface names, block names.

Shared with the web forms (`lbconfig.validators` imports `is_device` and
`is_netmask` through `lvscf.validate`).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address

from ..vocabulary import IFNAMSIZ

_DOTTED = re.compile(
    r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
)
_IFNAME = re.compile(r"[^\s/:]+")

# A block name the original GUI cannot read back: blanks, quotes, braces, or `=`.
bad_name = re.compile(r"[\s\"'{}]|^=$").search


def is_ipv4(value: str | None) -> bool:
    """True for a dotted-quad IPv4 address (what the model holds after parsing)."""
    return value is not None and _DOTTED.fullmatch(value) is not None


def is_netmask(value: str) -> bool:
    """True for a dotted netmask whose one-bits are contiguous."""
    if not is_ipv4(value):
        return False
    bits = int(IPv4Address(value))
    inverted = ~bits & 0xFFFFFFFF
    return inverted & (inverted + 1) == 0


def is_device(value: str | None) -> bool:
    """A Linux interface name (`eth0`) or alias label (`eth0:1`), at most 15 bytes."""
    if not value or len(value.encode("utf-8", "surrogatepass")) >= IFNAMSIZ:
        return False
    base, _, alias = value.partition(":")
    if base in (".", "..") or not _IFNAME.fullmatch(base):
        return False
    return not alias or _IFNAME.fullmatch(alias) is not None
