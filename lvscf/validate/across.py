"""Rules across blocks: colliding services, shared marks, names, representability."""

from __future__ import annotations

import re

from ..model import Config, VirtualServer
from ..render import render_problem
from .checker import Checker

_UNWRITABLE = re.compile(r"[\n\r\0\"']")


def collisions(ck: Checker) -> None:
    """Two active virtual servers on one address, protocol and port."""
    owners: dict[tuple[str, str, int], str] = {}
    for vs in ck.config.virtual_servers:
        if not vs.active or vs.fwmark or vs.address is None:
            continue
        key = (vs.address, vs.protocol, vs.port)
        if key in owners:
            ck.error(
                ("virtual", vs.name, "port"),
                f"{vs.address}:{vs.port}/{vs.protocol} is already used by "
                f"virtual server `{owners[key]}`",
            )
        else:
            owners[key] = vs.name


def firewall_marks(ck: Checker) -> None:
    """Virtual servers sharing a firewall mark: one persistence, one scheduler."""
    groups: dict[int, VirtualServer] = {}
    for vs in ck.config.virtual_servers:
        if not vs.active or not vs.fwmark:
            continue
        first = groups.setdefault(vs.fwmark, vs)
        if first is vs:
            continue
        if (first.persistent, first.pmask) != (vs.persistent, vs.pmask):
            ck.error(
                ("virtual", vs.name, "persistent"),
                f"virtual servers sharing firewall mark {vs.fwmark} must share "
                f"persistence: `{first.name}` has {first.persistent} s",
            )
        if first.scheduler != vs.scheduler:
            ck.warning(
                ("virtual", vs.name, "scheduler"),
                f"firewall mark {vs.fwmark} is one service: its scheduler is "
                f"`{first.scheduler}` from `{first.name}`",
            )


def names(ck: Checker) -> None:
    """Block names: repeated ones, and ones the GUI cannot read."""
    for kind, blocks in (
        ("virtual", ck.config.virtual_servers),
        ("failover", ck.config.failover_services),
    ):
        seen: dict[str, int] = {}
        for vs in blocks:
            if vs.name in seen:
                ck.add(
                    "warning",
                    (kind, vs.name),
                    f"two {kind} blocks are called `{vs.name}`: both are used, "
                    "but tools that go by name see only the first",
                    "give each block its own name",
                    nth=seen[vs.name],
                )
            seen[vs.name] = seen.get(vs.name, 0) + 1
            ck.block_name((kind, vs.name), vs.name)


def representable(ck: Checker) -> None:
    """Report the first value render would refuse, if any."""
    if not _maybe_unwritable(ck.config):
        return
    problem = render_problem(ck.config)
    if problem is not None:
        ck.problems.append(problem)


def _maybe_unwritable(config: Config) -> bool:
    """Cheap test before a full render: could any string break the syntax?"""
    strings = [v for v in vars(config).values() if isinstance(v, str)]
    for vs in config.failover_services + config.virtual_servers:
        strings.extend(v for v in vars(vs).values() if isinstance(v, str))
        strings.extend(rs.name + "\x01" + rs.address for rs in vs.servers)
        if vs.dirs or vs.comments:
            return True
        if any(rs.comments for rs in vs.servers):
            return True
    return bool(config.comments) or _UNWRITABLE.search("\x01".join(strings)) is not None
