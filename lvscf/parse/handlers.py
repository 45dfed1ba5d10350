"""One handler per keyword: check the statement's shape, read its value, store it.

The tables say which keywords each block accepts (`HANDLERS[block kind]`), as the
original's keyword tables do; a keyword missing from its block's table is an
"unknown command".
"""

from __future__ import annotations

from collections.abc import Callable

from ..lexer import c_strtol, inet_aton
from ..vocabulary import (
    DEFAULT_VIRTUAL_PORT,
    NETWORKS,
    PROTOCOLS,
    RESERVATION_CONFLICT_ACTIONS,
    SCHEDULERS,
    SERVICE_PORTS,
    SERVICES,
)
from .hints import (
    BAD_ARGUMENT,
    BAD_HOSTNAME,
    BAD_NETMASK,
    INT_EXPECTED,
    LIST_EXPECTED,
    Fail,
    check_args,
    check_equal,
    choice_hint,
    short,
)
from .lines import Block, Statement
from .values import Reader

Handler = Callable[[Reader, Block, Statement], None]


def _int_key(key: str, unsigned: bool = False) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, "NUMBER")
        value = p.number(st)
        if unsigned and value < 0:
            value &= 0xFFFFFFFF
            p.warn_at(st, 2, f"`{st.toks[2]}` is read as {value}", None)
        p.assign(block, st, key, value)

    return handle


def _bool_key(key: str) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, "1")
        p.assign(block, st, key, p.boolean(st))

    return handle


def _str_key(key: str) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, "VALUE", text=True)
        p.assign(block, st, key, st.toks[2])

    return handle


def _quoted_key(key: str) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, '"VALUE"', text=True)
        value = p.quoted(st, key)
        if key == "send_program":
            _program_token_warning(p, st, value)
        p.assign(block, st, key, value)

    return handle


def _program_token_warning(p: Reader, st: Statement, value: str) -> None:
    for token in value.split(" "):
        if ("%h" in token or "%p" in token) and token not in ("%h", "%p"):
            p.warn_at(
                st,
                2,
                f"`{token}` is passed literally: nanny replaces only whole "
                "arguments `%h` and `%p`",
                "give the address and port as separate arguments, e.g. `%h %p`",
            )
            return


def _enum_key(key: str, choices: tuple[str, ...], what: str) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, choices[0])
        value = st.toks[2]
        if value not in choices:
            raise Fail(BAD_ARGUMENT, choice_hint(value, choices, what), 2)
        p.assign(block, st, key, value)

    return handle


def _host_key(key: str, nonzero: bool = False, zero_is_unset: bool = False) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, "IP")
        value: str | None = p.host(st, nonzero=nonzero)
        if zero_is_unset and value == "0.0.0.0":
            value = None
        p.assign(block, st, key, value)

    return handle


def _address_key(key: str, device_field: str) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 2, "192.168.1.10 eth0:1")
        address = p.host(st)
        p.assign(block, st, key, address)
        block.values[device_field] = st.toks[3]
        block.seen[device_field] = st.lineno

    return handle


def _mask_key(key: str) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, "255.255.255.0")
        p.assign(block, st, key, p.mask(st, BAD_NETMASK))

    return handle


def _handle_sorry_server(p: Reader, block: Block, st: Statement) -> None:
    check_args(st, 1, "IP")
    address = inet_aton(st.toks[2])
    if address is None:
        raise Fail(BAD_HOSTNAME, "the sorry server must be an IP address", 2)
    p.assign(block, st, "sorry_server", None if address == "0.0.0.0" else address)


def _handle_pmask(p: Reader, block: Block, st: Statement) -> None:
    check_args(st, 1, "255.255.255.0")
    address = inet_aton(st.toks[2])
    if address is None:
        p.warn_at(
            st,
            2,
            f"`{short(st.toks[2])}` is not a netmask: the original ignores this line",
            "write a dotted netmask such as 255.255.255.0",
        )
        return
    unset = address in ("0.0.0.0", "255.255.255.255")  # all-ones is ipvsadm's default
    p.assign(block, st, "pmask", None if unset else address)


def _port_key(key: str) -> Handler:
    def handle(p: Reader, block: Block, st: Statement) -> None:
        check_args(st, 1, "80")
        value = p.port(st)
        if key == "port" and block.inherited_port and value != block.values.get("port"):
            names = ", ".join(block.inherited_port)
            old = block.values.get("port", DEFAULT_VIRTUAL_PORT)
            p.warn_at(
                st,
                2,
                f"`port = {st.toks[2]}` comes after server blocks that keep port "
                f"{old}: {names}",
                "move `port` above the server blocks (a server takes the "
                "virtual's port as it is when the server block is read)",
            )
        p.assign(block, st, key, value)

    return handle


def _handle_server_port(p: Reader, block: Block, st: Statement) -> None:
    check_args(st, 1, "80")
    tok = st.toks[2]
    if c_strtol(tok) is None and tok in SERVICE_PORTS:
        raise Fail(
            INT_EXPECTED,
            f"a real server's port must be a number: write `{SERVICE_PORTS[tok]}` "
            "(service names work only for the virtual's port)",
            2,
        )
    p.assign(block, st, "port", p.number(st))


def _handle_monitor_links(p: Reader, block: Block, st: Statement) -> None:
    check_args(st, 1, "1")
    value = p.number(st)
    if value not in (0, 1):
        p.warn_at(st, 2, f"monitor_links = {value} is read as on", "write 1")
    p.assign(block, st, "monitor_links", value != 0)


def _handle_dirs(p: Reader, block: Block, st: Statement) -> None:
    check_equal(st)
    toks = st.toks
    if len(toks) < 3 or toks[2] != "[" or "]" not in toks[3:]:
        raise Fail(LIST_EXPECTED, "write `dirs = [ /first /second ]`", 2)
    close = toks.index("]", 3)
    if close + 1 < len(toks):
        p.warn_at(st, close + 1, "text after `]` is ignored", None)
    p.assign(block, st, "dirs", tuple(toks[3:close]))


def _handle_primary(p: Reader, block: Block, st: Statement) -> None:
    check_args(st, 1, "IP")
    p.assign(block, st, "primary", p.host(st, nonzero=True))


def _handle_private(key: str) -> Handler:
    return _host_key(key, nonzero=True)


GLOBAL: dict[str, Handler] = {
    "serial_no": _int_key("serial_no"),
    "primary": _handle_primary,
    "primary_private": _handle_private("primary_private"),
    "primary_shared": _str_key("primary_shared"),
    "service": _enum_key("service", SERVICES, "service"),
    "rsh_command": _str_key("rsh_command"),
    "backup_active": _bool_key("backup_active"),
    "backup": _host_key("backup"),
    "backup_private": _handle_private("backup_private"),
    "backup_shared": _str_key("backup_shared"),
    "reservation_conflict_action": _enum_key(
        "reservation_conflict_action", RESERVATION_CONFLICT_ACTIONS, "action"
    ),
    "heartbeat": _bool_key("heartbeat"),
    "heartbeat_port": _port_key("heartbeat_port"),
    "keepalive": _int_key("keepalive"),
    "deadtime": _int_key("deadtime"),
    "network": _enum_key("network", NETWORKS, "network type"),
    "nat_router": _address_key("nat_router", "nat_router_device"),
    "nat_nmask": _mask_key("nat_nmask"),
    "debug_level": _str_key("debug_level"),
    "monitor_links": _handle_monitor_links,
    "syncdaemon": _bool_key("syncdaemon"),
    "syncd_iface": _str_key("syncd_iface"),
    "syncd_id": _int_key("syncd_id"),
    "tcp_timeout": _int_key("tcp_timeout"),
    "tcpfin_timeout": _int_key("tcpfin_timeout"),
    "udp_timeout": _int_key("udp_timeout"),
    "hard_shutdown": _bool_key("hard_shutdown"),
    "active_cmd": _str_key("active_cmd"),
    "inactive_cmd": _str_key("inactive_cmd"),
    "ipvsadm": _str_key("ipvsadm"),
    "sync": _bool_key("sync"),
}

VIRTUAL: dict[str, Handler] = {
    "active": _bool_key("active"),
    "address": _address_key("address", "device"),
    "sorry_server": _handle_sorry_server,
    "vip_nmask": _mask_key("vip_nmask"),
    "fwmark": _int_key("fwmark", unsigned=True),
    "protocol": _enum_key("protocol", PROTOCOLS, "protocol"),
    "port": _port_key("port"),
    "scheduler": _enum_key("scheduler", SCHEDULERS, "scheduler"),
    "persistent": _int_key("persistent"),
    "pmask": _handle_pmask,
    "client_monitor": _str_key("client_monitor"),
    "send_program": _quoted_key("send_program"),
    "send": _quoted_key("send"),
    "expect": _quoted_key("expect"),
    "use_regex": _bool_key("use_regex"),
    "timeout": _int_key("timeout"),
    "reentry": _int_key("reentry"),
    "load_monitor": _str_key("load_monitor"),
    "quiesce_server": _bool_key("quiesce_server"),
    "start_cmd": _quoted_key("start_cmd"),
    "stop_cmd": _quoted_key("stop_cmd"),
    "master": _host_key("master", zero_is_unset=True),
    "dirs": _handle_dirs,
}

SERVER: dict[str, Handler] = {
    "address": _host_key("address"),
    "active": _bool_key("active"),
    "weight": _int_key("weight"),
    "port": _handle_server_port,
}

HANDLERS: dict[str, dict[str, Handler]] = {
    "top": GLOBAL,
    "virtual": VIRTUAL,
    "failover": VIRTUAL,
    "server": SERVER,
}
