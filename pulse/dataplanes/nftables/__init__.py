"""The nftables dataplane: kernel NAT like IPVS-NAT, in a table of its own.

`ruleset` renders a service's rules, `transaction` the script that turns
one routing table into another, `refresh` keeps persistence alive while a
client's traffic flows (all pure); `wire` (with `builder`, `exprs`, `sets`)
encodes a full build as the nf_tables netlink messages nft would send, which
`netlink` commits; `conntrack` counts connections per real server and
forgets flows that began before their rules; `dataplane` ties them together.
docs/dataplane-nftables.md describes the rule shapes and the differences
from IPVS.
"""

from __future__ import annotations

from .dataplane import NftablesDataplane, refusals
from .ruleset import NATIVE, REFUSED, TABLE
from .transaction import transaction

__all__ = ["NATIVE", "REFUSED", "TABLE", "NftablesDataplane", "refusals", "transaction"]
