"""The one path between the database and lvs.cf: models <-> lvscf.Config.

Import, export, preview, publish and sync all go through `to_config` and
`import_config`, so what the panels show is exactly what the file says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from django.db import transaction

import lvscf
import lvscf.errors
from lbconfig.models import (
    FailoverService,
    GlobalSettings,
    RealServer,
    Redundancy,
    VirtualServer,
)

# Config fields kept in GlobalSettings.extra: no panel edits them (FOS, legacy).
GLOBAL_EXTRA = (
    "primary_shared",
    "backup_shared",
    "reservation_conflict_action",
    "heartbeat",
    "sync",
)
VIRTUAL_EXTRA = ("master", "dirs", "start_cmd", "stop_cmd")
# The keys of a failover block with a FAILOVER field; the other virtual keys an
# imported block carries are kept in FailoverService.extra.
FAILOVER_FIELDS = (
    "name active address device vip_nmask port timeout start_cmd stop_cmd "
    "send_program send expect use_regex"
).split()
FAILOVER_EXTRA = tuple(
    f.name
    for f in dataclasses.fields(lvscf.VirtualServer)
    if f.name not in FAILOVER_FIELDS and f.name not in ("servers", "comments")
)


def to_config() -> lvscf.Config:
    """Build the whole configuration from the database (five queries)."""
    glob = GlobalSettings.load()
    red = Redundancy.load()
    virtuals = VirtualServer.objects.all()
    reals = _real_servers()
    extra = dict(glob.extra)
    failovers = tuple(_failover(fs) for fs in FailoverService.objects.all())
    return lvscf.Config(
        serial_no=glob.serial_no,
        primary=glob.primary or None,
        primary_private=glob.primary_private or None,
        service=glob.service,
        rsh_command=glob.rsh_command,
        backup_active=red.backup_active,
        backup=red.backup or None,
        backup_private=red.backup_private or None,
        heartbeat=bool(extra.get("heartbeat", True)),
        heartbeat_port=red.heartbeat_port,
        keepalive=red.keepalive,
        deadtime=red.deadtime,
        network=glob.network,
        nat_router=glob.nat_router or None if glob.network == "nat" else None,
        nat_router_device=(glob.nat_router_device or None)
        if glob.network == "nat" and glob.nat_router
        else None,
        nat_nmask=(glob.nat_nmask or None) if glob.network == "nat" else None,
        debug_level=glob.debug_level,
        monitor_links=red.monitor_links,
        syncdaemon=red.syncdaemon,
        syncd_iface=red.syncd_iface,
        syncd_id=red.syncd_id,
        tcp_timeout=glob.tcp_timeout,
        tcpfin_timeout=glob.tcpfin_timeout,
        udp_timeout=glob.udp_timeout,
        hard_shutdown=glob.hard_shutdown,
        active_cmd=glob.active_cmd or None,
        inactive_cmd=glob.inactive_cmd or None,
        ipvsadm=glob.ipvsadm,
        sync=bool(extra.get("sync", False)),
        primary_shared=extra.get("primary_shared"),
        backup_shared=extra.get("backup_shared"),
        reservation_conflict_action=extra.get("reservation_conflict_action"),
        failover_services=failovers,
        virtual_servers=tuple(_virtual(vs, reals.get(vs.pk, ())) for vs in virtuals),
        comments=_comments(glob.comments, glob.notes),
    )


# The real server columns to_config reads, in the order of _real's row.
_REAL_COLUMNS = (
    "virtual_server_id name address active port weight notes comments".split()
)
RealRow = tuple[int, str, str, bool, int | None, int, str, dict[str, Any]]


def _real_servers() -> dict[int, list[RealRow]]:
    """Every real server as a row, by virtual server (one query).

    Rows, not model instances: at 1,000 × 16 building 16,000 instances was
    a third of publish's time.
    """
    grouped: dict[int, list[RealRow]] = {}
    rows = RealServer.objects.order_by("id").values_list(*_REAL_COLUMNS)
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped


def _virtual(vs: VirtualServer, reals: Iterable[RealRow]) -> lvscf.VirtualServer:
    extra = vs.extra or {}
    dirs = extra.get("dirs")
    return lvscf.VirtualServer(
        **_checked_service(vs),
        sorry_server=vs.sorry_server or None,
        fwmark=vs.fwmark,
        persistent=vs.persistent,
        pmask=(vs.pmask or None) if vs.persistent else None,
        load_monitor=vs.load_monitor,
        scheduler=vs.scheduler,
        protocol=vs.protocol,
        reentry=vs.reentry,
        quiesce_server=vs.quiesce_server,
        client_monitor=vs.client_monitor,
        start_cmd=extra.get("start_cmd"),
        stop_cmd=extra.get("stop_cmd"),
        master=extra.get("master"),
        dirs=tuple(dirs) if dirs is not None else None,
        servers=tuple(_real(row, vs.port) for row in reals),
    )


def _checked_service(row: VirtualServer | FailoverService) -> dict[str, Any]:
    """The keys a virtual and a failover block share: address, port, the check."""
    unset = row.address == "0.0.0.0" and not row.device  # imported without address
    return {
        "name": row.name,
        "active": row.active,
        "address": None if unset else row.address,
        "device": None if unset else row.device,
        "vip_nmask": row.vip_nmask or None,
        "port": row.port,
        "timeout": row.timeout,
        "send_program": row.send_program or None,
        "send": row.send or None,
        "expect": row.expect or None,
        "use_regex": row.use_regex,
        "comments": _comments(row.comments, row.notes),
    }


def _real(row: RealRow, default_port: int) -> lvscf.RealServer:
    _, name, address, active, port, weight, notes, comments = row
    return lvscf.RealServer(
        name=name,
        address=address,
        active=active,
        port=port if port is not None else default_port,
        weight=weight,
        comments=_comments(comments, notes),
    )


def _comments(stored: dict[str, Any], notes: str) -> lvscf.Comments:
    """Notes are the `#` lines above a block; key comments come from an import."""
    keys = tuple((k, tuple(v)) for k, v in (stored or {}).get("keys", {}).items())
    above = tuple(notes.split("\n")) if notes else ()
    return lvscf.Comments(above=above, keys=keys, end=tuple(stored.get("end", ())))


def _stored_comments(comments: lvscf.Comments) -> dict[str, Any]:
    return {"keys": {k: list(v) for k, v in comments.keys}, "end": list(comments.end)}


def _failover(fs: FailoverService) -> lvscf.VirtualServer:
    """A failover block: the FAILOVER fields, then what an import kept."""
    kept = {k: v for k, v in (fs.extra or {}).items() if k in FAILOVER_EXTRA}
    if kept.get("dirs") is not None:
        kept["dirs"] = tuple(kept["dirs"])
    return lvscf.VirtualServer(
        **_checked_service(fs),
        start_cmd=fs.start_cmd or None,
        stop_cmd=fs.stop_cmd or None,
        servers=tuple(_real_from_dict(s) for s in (fs.extra or {}).get("servers", ())),
        **kept,
    )


def _real_from_dict(data: dict[str, Any]) -> lvscf.RealServer:
    """A server block kept inside a failover block's `extra`."""
    return lvscf.RealServer(
        name=data["name"],
        address=data["address"],
        active=data["active"],
        port=data["port"],
        weight=data["weight"],
        comments=_comments(data.get("comments", {}), data.get("notes", "")),
    )


class ImportRefused(Exception):
    """The configuration cannot be held by the panels as it is."""

    def __init__(self, problems: list[lvscf.Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def import_problems(config: lvscf.Config) -> list[lvscf.Problem]:
    """What keeps `config` from being imported (names the panels need unique)."""
    problems = []
    failovers: set[str] = set()
    for fs in config.failover_services:
        if fs.name in failovers:
            message = f"two failover blocks are called `{fs.name}`: rename one first"
            problems.append(_problem(config, ("failover", fs.name), message, True))
        failovers.add(fs.name)
    seen: set[str] = set()
    for vs in config.virtual_servers:
        path: lvscf.errors.Path = ("virtual", vs.name)
        if vs.name in seen:
            message = f"two virtual blocks are called `{vs.name}`: rename one first"
            problems.append(_problem(config, path, message, second=True))
        seen.add(vs.name)
        names = [rs.name for rs in vs.servers]
        for name in sorted({n for n in names if names.count(n) > 1}):
            message = f"two real servers of `{vs.name}` are called `{name}`"
            problems.append(_problem(config, path + ("server", name), message, True))
    return problems


def _problem(
    config: lvscf.Config, path: lvscf.errors.Path, message: str, second: bool
) -> lvscf.Problem:
    """An import error at the second block of `path` when the text is known."""
    line: int | None = None
    if config.source is not None:
        lines = config.source.opener_lines(path)
        if lines:
            line = lines[1] if second and len(lines) > 1 else lines[0]
    return lvscf.Problem("error", message, path, line)


@transaction.atomic
def import_config(config: lvscf.Config) -> None:
    """Replace the whole database configuration with `config` (all or nothing)."""
    problems = import_problems(config)
    if problems:
        raise ImportRefused(problems)
    glob = GlobalSettings.load()
    for field in (
        "serial_no primary primary_private network nat_router nat_router_device "
        "tcp_timeout tcpfin_timeout udp_timeout hard_shutdown active_cmd "
        "inactive_cmd ipvsadm rsh_command debug_level service"
    ).split():
        value = getattr(config, field)
        setattr(glob, field, "" if value is None and field not in _NULLABLE else value)
    glob.nat_nmask = config.nat_nmask or ""
    glob.extra = {key: getattr(config, key) for key in GLOBAL_EXTRA}
    glob.notes = "\n".join(config.comments.above)
    glob.comments = _stored_comments(config.comments)
    glob.version += 1
    glob.save()
    _import_redundancy(config)
    VirtualServer.objects.all().delete()
    for position, vs in enumerate(config.virtual_servers):
        _import_virtual(vs, position)
    FailoverService.objects.all().delete()
    for position, fs in enumerate(config.failover_services):
        _import_failover(fs, position)


_NULLABLE = {"primary", "primary_private", "nat_router"}


def _import_redundancy(config: lvscf.Config) -> None:
    red = Redundancy.load()
    for field in (
        "backup_active backup backup_private keepalive deadtime heartbeat_port "
        "monitor_links syncdaemon syncd_iface syncd_id"
    ).split():
        setattr(red, field, getattr(config, field))
    red.version += 1
    red.save()


def _import_virtual(vs: lvscf.VirtualServer, position: int) -> None:
    row = VirtualServer.objects.create(
        **_checked_service_row(vs, position),
        protocol=vs.protocol,
        fwmark=vs.fwmark,
        sorry_server=vs.sorry_server,
        reentry=vs.reentry,
        quiesce_server=vs.quiesce_server,
        load_monitor=vs.load_monitor,
        scheduler=vs.scheduler,
        persistent=vs.persistent,
        pmask=vs.pmask or "",
        client_monitor=vs.client_monitor,
        extra={key: getattr(vs, key) for key in VIRTUAL_EXTRA},
    )
    RealServer.objects.bulk_create(
        RealServer(
            virtual_server=row,
            name=rs.name,
            address=rs.address,
            port=None if rs.port == vs.port else rs.port,
            weight=rs.weight,
            active=rs.active,
            notes="\n".join(rs.comments.above),
            comments=_stored_comments(rs.comments),
        )
        for rs in vs.servers
    )


def _import_failover(fs: lvscf.VirtualServer, position: int) -> None:
    kept: dict[str, Any] = {key: getattr(fs, key) for key in FAILOVER_EXTRA}
    kept["servers"] = [
        {
            "name": rs.name,
            "address": rs.address,
            "active": rs.active,
            "port": rs.port,
            "weight": rs.weight,
            "notes": "\n".join(rs.comments.above),
            "comments": _stored_comments(rs.comments),
        }
        for rs in fs.servers
    ]
    FailoverService.objects.create(
        **_checked_service_row(fs, position),
        start_cmd=fs.start_cmd or "",
        stop_cmd=fs.stop_cmd or "",
        extra=kept,
    )


def _checked_service_row(vs: lvscf.VirtualServer, position: int) -> dict[str, Any]:
    """The columns a virtual and a failover row share (see `_checked_service`)."""
    return {
        "name": vs.name,
        "active": vs.active,
        "address": vs.address or "0.0.0.0",
        "device": vs.device or "",
        "vip_nmask": vs.vip_nmask or "",
        "port": vs.port,
        "timeout": vs.timeout,
        "send_program": vs.send_program or "",
        "send": vs.send or "",
        "expect": vs.expect or "",
        "use_regex": vs.use_regex,
        "position": position,
        "notes": "\n".join(vs.comments.above),
        "comments": _stored_comments(vs.comments),
    }
