"""Dataplanes, chosen by name from a registry (uvicorn's LOOP_FACTORIES idea)."""

from __future__ import annotations

from collections.abc import Callable

from .base import Dataplane
from .ipvs import IpvsDataplane
from .nftables import NftablesDataplane
from .userspace import UserspaceDataplane

DATAPLANES: dict[str, Callable[[], Dataplane]] = {
    "userspace": UserspaceDataplane,
    "ipvs": IpvsDataplane,
    "nftables": NftablesDataplane,
}

__all__ = [
    "DATAPLANES",
    "Dataplane",
    "IpvsDataplane",
    "NftablesDataplane",
    "UserspaceDataplane",
]
