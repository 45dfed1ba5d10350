"""Rules for the global settings: addresses, redundancy, NAT, timers, commands."""

from __future__ import annotations

from ..vocabulary import NETWORKS, SERVICES, SYNCD_ID_MAX
from .checker import Checker
from .fields import is_device, is_netmask


def global_settings(ck: Checker) -> None:
    """The service kind, the routers' addresses, and what pulse itself runs."""
    c = ck.config
    ck.enum(("service",), c.service, SERVICES)
    ck.enum(("network",), c.network, NETWORKS)
    if c.service == "fos":
        ck.warning(
            ("service",),
            "failover services (service = fos) are deprecated: the piranha-web "
            "runtime runs only virtual servers",
        )
    if c.primary is None:
        ck.warning(
            ("primary",),
            "no primary address: pulse cannot tell which router is the primary",
            "set primary to the public IP of the primary router",
        )
    ck.address(("primary",), c.primary)
    if c.backup is not None and c.backup != "0.0.0.0":
        ck.address(("backup",), c.backup)
    ck.address(("primary_private",), c.primary_private)
    ck.address(("backup_private",), c.backup_private)
    ck.port(("heartbeat_port",), c.heartbeat_port)
    _kernel_and_commands(ck)


def _kernel_and_commands(ck: Checker) -> None:
    """IPVS timeouts, the sync daemon, and the commands pulse runs."""
    c = ck.config
    for key in ("tcp_timeout", "tcpfin_timeout", "udp_timeout"):
        if getattr(c, key) < 0:
            ck.error((key,), f"{key} must be 0 (keep the kernel's) or more seconds")
    if c.syncdaemon and not is_device(c.syncd_iface):
        ck.error(("syncd_iface",), f"`{c.syncd_iface}` is not an interface name")
    if not 0 <= c.syncd_id <= SYNCD_ID_MAX:
        ck.warning(
            ("syncd_id",),
            f"syncd_id {c.syncd_id} is outside 0–{SYNCD_ID_MAX}: pulse uses "
            f"{c.syncd_id & 0xFF}",
        )
    for key in ("active_cmd", "inactive_cmd", "ipvsadm"):
        value = getattr(c, key)
        if value is not None and not value.startswith("/"):
            ck.error(
                (key,), f"{key} must be an absolute path (it runs without a shell)"
            )


def redundancy(ck: Checker) -> None:
    """With a backup router: its addresses and the heartbeat timers."""
    c = ck.config
    if not c.backup_active:
        return
    if c.backup in (None, "0.0.0.0"):
        ck.warning(
            ("backup",),
            "backup_active = 1 but no backup address: pulse turns redundancy off",
            "set backup to the public IP of the backup router",
        )
    elif c.backup == c.primary:
        ck.error(("backup",), "the backup address is the primary's")
    primary_private, backup_private = c.private_addresses()
    if (
        backup_private is not None
        and primary_private != c.primary
        and backup_private == primary_private
    ):
        ck.error(("backup_private",), "the backup private address is the primary's")
    timers(ck)


def timers(ck: Checker) -> None:
    """keepalive and deadtime: deadtime must outlast a missed heartbeat."""
    c = ck.config
    for key in ("keepalive", "deadtime"):
        if getattr(c, key) < 1:
            ck.error((key,), f"{key} must be at least 1 second")
    if c.keepalive >= 1 and c.deadtime >= 1 and c.keepalive >= c.deadtime:
        ck.error(
            ("deadtime",),
            f"deadtime ({c.deadtime} s) must be longer than keepalive "
            f"({c.keepalive} s), or the backup takes over between two heartbeats",
            "a common choice is deadtime = 3 × keepalive",
        )


def nat(ck: Checker) -> None:
    """NAT needs a nat_router; other networks ignore it."""
    c = ck.config
    if c.network == "nat" and c.service == "lvs" and c.virtual_servers:
        if c.nat_router is None:
            ck.error(
                ("network",),
                "network = nat needs a nat_router: the real servers' gateway "
                "address that moves with the active router",
                "add `nat_router = IP DEVICE`, or set network = direct",
            )
    elif c.nat_router is not None:
        ck.warning(("nat_router",), f"nat_router is ignored with network = {c.network}")
    if c.nat_router is not None:
        ck.address(("nat_router",), c.nat_router)
        ck.device(("nat_router_device",), c.nat_router_device)
    if c.nat_nmask is not None and not is_netmask(c.nat_nmask):
        ck.error(("nat_nmask",), f"{c.nat_nmask} is not a contiguous netmask")


def services(ck: Checker) -> None:
    """At least one active service, or pulse does not start."""
    c = ck.config
    blocks = c.failover_services if c.service == "fos" else c.virtual_servers
    if not any(vs.active for vs in blocks):
        kind = "failover service" if c.service == "fos" else "virtual server"
        ck.error(
            (),
            f"no active {kind}: pulse will not start "
            '("no active lvs services defined")',
            f"activate at least one {kind} with `active = 1`",
        )
