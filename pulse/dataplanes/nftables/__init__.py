"""The nftables dataplane: kernel NAT like IPVS-NAT, in a table of its own.

`ruleset` renders a service's rules, `transaction` the script that turns
one routing table into another, `refresh` keeps persistence alive while a
client's traffic flows (all pure); `conntrack` counts connections per real
server; `dataplane` runs `nft -f`.
docs/dataplane-nftables.md describes the rule shapes and the differences
from IPVS.
"""

from __future__ import annotations

from .dataplane import NftablesDataplane, refusals
from .ruleset import NATIVE, REFUSED, TABLE
from .transaction import transaction

__all__ = ["NATIVE", "REFUSED", "TABLE", "NftablesDataplane", "refusals", "transaction"]
