"""The fast path: plain `key = value` lines and whole server blocks, no checks.

A large router's file is almost all such lines; the driver's hot loop converts
them here with one dict lookup and one call, and leaves every other line (and
every value these converters return `MISS` for) to the general path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from ..lexer import is_dotted_quad
from ..model import RealServer, VirtualServer
from ..vocabulary import (
    NETWORKS,
    PROTOCOLS,
    RESERVATION_CONFLICT_ACTIONS,
    SCHEDULERS,
    SERVICES,
)

# A whole server block in the GUI's layout with plain values: 96 % of the lines of
# a large file, taken in one regex match instead of six lines.
PLAIN_SERVER = re.compile(
    r"[ \t]*server[ \t]+([^\s\"'{}#=]+)[ \t]+\{[ \t]*\n"
    r"[ \t]*address[ \t]+=[ \t]+([0-9.]{7,15})[ \t]*\n"
    r"[ \t]*active[ \t]+=[ \t]+([01])[ \t]*\n"
    r"(?:[ \t]*port[ \t]+=[ \t]+(0|[1-9][0-9]{0,8})[ \t]*\n)?"  # GUI: if set
    r"[ \t]*weight[ \t]+=[ \t]+(0|[1-9][0-9]{0,8})[ \t]*\n"
    r"[ \t]*\}[ \t]*(?:\n|\Z)",
)

# `key = "value"` with nothing after the closing quote, the usual send/expect line.
QUOTED_LINE = re.compile(r'[ \t]*([a-z_]+)[ \t]+=[ \t]+"([^"]*)"')

MISS = object()  # "not a plain value: take the general path"
FastConvert = Callable[[str], Any]


def _fast_int(v: str) -> Any:
    if v.isdigit() and v.isascii() and len(v) < 10 and (v[0] != "0" or v == "0"):
        return int(v)
    return MISS


def _fast_bool(v: str) -> Any:
    return True if v == "1" else False if v == "0" else MISS


def _fast_host(v: str) -> Any:
    return v if is_dotted_quad(v) else MISS


def _fast_mask(v: str) -> Any:
    return v if v != "0.0.0.0" and is_dotted_quad(v) else MISS


def fast_str(v: str) -> Any:
    """Any token: a plain string value is taken as it stands."""
    return v


def _fast_enum(choices: tuple[str, ...]) -> FastConvert:
    allowed = frozenset(choices)
    return lambda v: v if v in allowed else MISS


_FAST_GLOBAL: dict[str, FastConvert] = {
    **dict.fromkeys(
        ("serial_no", "heartbeat_port", "keepalive", "deadtime", "syncd_id")
        + ("tcp_timeout", "tcpfin_timeout", "udp_timeout"),
        _fast_int,
    ),
    **dict.fromkeys(
        ("backup_active", "heartbeat", "syncdaemon", "hard_shutdown", "sync"),
        _fast_bool,
    ),
    **dict.fromkeys(
        ("primary_shared", "rsh_command", "backup_shared", "debug_level")
        + ("syncd_iface", "active_cmd", "inactive_cmd", "ipvsadm"),
        fast_str,
    ),
    "backup": _fast_host,
    "nat_nmask": _fast_mask,
    "service": _fast_enum(SERVICES),
    "network": _fast_enum(NETWORKS),
    "reservation_conflict_action": _fast_enum(RESERVATION_CONFLICT_ACTIONS),
}
_FAST_VIRTUAL: dict[str, FastConvert] = {
    **dict.fromkeys(("fwmark", "persistent", "timeout", "reentry"), _fast_int),
    **dict.fromkeys(("active", "use_regex", "quiesce_server"), _fast_bool),
    **dict.fromkeys(
        ("load_monitor", "client_monitor", "send", "expect", "start_cmd", "stop_cmd"),
        fast_str,
    ),
    "vip_nmask": _fast_mask,
    "protocol": _fast_enum(PROTOCOLS),
    "scheduler": _fast_enum(SCHEDULERS),
}
_FAST_VIRTUAL["port"] = _fast_int  # a plain number; names take the general path
FAST_VIRTUAL_INHERITED = {k: v for k, v in _FAST_VIRTUAL.items() if k != "port"}
_FAST_SERVER: dict[str, FastConvert] = {
    "address": _fast_host,
    "active": _fast_bool,
    "weight": _fast_int,
    "port": _fast_int,
}
FAST = {
    "top": _FAST_GLOBAL,
    "virtual": _FAST_VIRTUAL,
    "failover": _FAST_VIRTUAL,
    "server": _FAST_SERVER,
    "foreign": {},
}

_T = TypeVar("_T")
_DEFAULTS: dict[type, dict[str, Any]] = {
    cls: {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    for cls in (RealServer, VirtualServer)
}


def new_block(cls: type[_T], values: dict[str, Any], **extra: Any) -> _T:
    """Build a frozen block object without its __init__ (17,000 servers a file).

    Equivalent to ``cls(**values, **extra)`` for RealServer and VirtualServer,
    which have no __post_init__; a frozen dataclass's __init__ costs several
    times more because every field goes through object.__setattr__.
    """
    obj = object.__new__(cls)
    attrs = obj.__dict__
    attrs.update(_DEFAULTS[cls])
    attrs.update(values)
    attrs.update(extra)
    return obj
