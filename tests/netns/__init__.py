"""Network-namespace topologies for tests and benchmarks (root only).

from tests.netns import Topology, build_lvs, netns_unavailable
"""

from __future__ import annotations

from .topology import (
    LvsAddresses,
    LvsTopology,
    Namespace,
    Topology,
    TopologyError,
    build_lvs,
    lvs_topology,
    netns_unavailable,
    remove_stale_namespaces,
)

__all__ = [
    "LvsAddresses",
    "LvsTopology",
    "Namespace",
    "Topology",
    "TopologyError",
    "build_lvs",
    "lvs_topology",
    "netns_unavailable",
    "remove_stale_namespaces",
]
