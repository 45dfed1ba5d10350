"""Rules for the real servers of one virtual server."""

from __future__ import annotations

from ..errors import Path
from ..model import RealServer, VirtualServer
from ..vocabulary import PORT_MAX, PORT_MIN, WEIGHT_MAX, WEIGHT_MIN
from .checker import Checker
from .fields import bad_name, is_ipv4


def real_servers(ck: Checker, path: Path, vs: VirtualServer) -> None:
    """The real servers of one virtual: names, addresses, duplicates."""
    # One pass per virtual with the common case inlined: a large router has
    # 17,000 real servers and validation must stay well under 100 ms.
    addresses: dict[tuple[str, int], str] = {}
    names: dict[str, int] = {}
    for rs in vs.servers:
        name, address, port, weight = rs.name, rs.address, rs.port, rs.weight
        if name in names:
            ck.add(
                "error",
                path + ("server", name),
                f"two real servers are called `{name}` in this virtual server",
                nth=names[name],
            )
        names[name] = names.get(name, 0) + 1
        if bad_name(name) or not name:
            ck.block_name(path + ("server", name), name)
        plain = (
            is_ipv4(address)
            and address != "0.0.0.0"
            and PORT_MIN <= port <= PORT_MAX
            and WEIGHT_MIN <= weight <= WEIGHT_MAX
            and not (address == vs.address and port == vs.port)
        )
        if not plain:
            real_server(ck, path + ("server", name), vs, rs)
        if rs.active:
            key = (address, port)
            if key in addresses:
                ck.error(
                    path + ("server", name, "address"),
                    f"{address}:{port} is already real server `{addresses[key]}` "
                    "of this virtual server",
                )
            addresses[key] = name


def real_server(ck: Checker, path: Path, vs: VirtualServer, rs: RealServer) -> None:
    """One real server whose values are not all plain: the full rules."""
    if rs.address == "0.0.0.0":
        if rs.active:
            ck.error(path + ("address",), "an active real server needs an address")
    else:
        ck.address(path + ("address",), rs.address)
    if rs.address == vs.address and rs.port == vs.port:
        ck.error(
            path + ("address",),
            "the real server is the virtual server itself: traffic would loop",
        )
    ck.port(path + ("port",), rs.port)
    if not WEIGHT_MIN <= rs.weight <= WEIGHT_MAX:
        ck.error(
            path + ("weight",),
            f"weight {rs.weight} is out of range {WEIGHT_MIN}–{WEIGHT_MAX}",
        )
