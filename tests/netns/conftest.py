"""Fixtures for tests that build network namespaces; they skip without root.

They serve tests under tests/netns. Elsewhere (benchmarks, other test
directories) use the context managers: `with Topology() as topology:` or
`with lvs_topology() as lvs:`, after checking `netns_unavailable()`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .topology import (
    LvsTopology,
    Topology,
    build_lvs,
    netns_unavailable,
    remove_stale_namespaces,
)


@pytest.fixture(scope="session")
def netns_capable() -> None:
    """Skip unless this process can create namespaces; sweeps stale ones once."""
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    remove_stale_namespaces()


@pytest.fixture
def topology(netns_capable: None) -> Iterator[Topology]:
    """An empty topology, removed after the test whatever happened."""
    with Topology() as built:
        yield built


@pytest.fixture
def lvs(topology: Topology) -> LvsTopology:
    """The two-router LVS topology (client, primary, backup, rs1..rs3), no pulse."""
    return build_lvs(topology)
