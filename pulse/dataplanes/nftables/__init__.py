"""The nftables dataplane: kernel NAT like IPVS-NAT, in a table of its own.

`ruleset` renders the `ip piranha` table from routing tables (pure),
`conntrack` counts connections per real server, `dataplane` runs `nft -f`.
docs/dataplane-nftables.md describes the rule shapes and the differences
from IPVS.
"""

from __future__ import annotations

from .dataplane import NftablesDataplane, refusals
from .ruleset import NATIVE, REFUSED, TABLE, transaction

__all__ = ["NATIVE", "REFUSED", "TABLE", "NftablesDataplane", "refusals", "transaction"]
