"""The lvs.cf model: frozen dataclasses named after the file's blocks.

Field names are the lvs.cf keywords and defaults are the original parser's, so a
missing key and a key at its default mean the same thing. Two keywords carry two
values (`address = IP DEV`, `nat_router = IP DEV`): the device is its own field.

Values are what the daemons act on: addresses are normalised to dotted quads
(`10.1` is `10.0.0.1`, as inet_aton reads it), numbers are C ints, and the
quote-keeping strings (`send`, `expect`, `send_program`, `start_cmd`,
`stop_cmd`) hold what nanny receives — the parser keeps the quote characters
and lvsd strips only double quotes, so `send = 'x'` is the four characters
``'x'`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Path, Problem
from .vocabulary import (
    DEFAULT_CLIENT_MONITOR,
    DEFAULT_DEADTIME,
    DEFAULT_HEARTBEAT_PORT,
    DEFAULT_IPVSADM,
    DEFAULT_KEEPALIVE,
    DEFAULT_REENTRY,
    DEFAULT_TIMEOUT,
    DEFAULT_VIRTUAL_PORT,
)


@dataclass(frozen=True)
class Comments:
    """Whole-line `#` comments of one block, kept so an admin's notes survive.

    Each line is the text after `#`, verbatim. `above` precedes the block's
    opening line (for the whole file: the header, before the first statement,
    separated from it by a blank line); `keys` maps a keyword to the lines just
    above it; `end` precedes the closing `}` (for the file: its last lines).
    """

    above: tuple[str, ...] = ()
    keys: tuple[tuple[str, tuple[str, ...]], ...] = ()
    end: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # One value, one meaning: key order and empty entries do not matter.
        merged: dict[str, tuple[str, ...]] = {}
        for name, lines in self.keys:
            if lines:
                merged[name] = merged.get(name, ()) + tuple(lines)
        object.__setattr__(self, "keys", tuple(sorted(merged.items())))

    def for_key(self, key: str) -> tuple[str, ...]:
        """The comment lines written just above `key`."""
        for name, lines in self.keys:
            if name == key:
                return lines
        return ()

    def __bool__(self) -> bool:
        return bool(self.above or self.keys or self.end)


NO_COMMENTS = Comments()


@dataclass(frozen=True)
class RealServer:
    """A `server NAME { ... }` block inside a virtual server."""

    name: str
    address: str = "0.0.0.0"
    active: bool = False
    port: int = DEFAULT_VIRTUAL_PORT  # the parser copies the virtual's port here
    weight: int = 1
    comments: Comments = NO_COMMENTS


@dataclass(frozen=True)
class VirtualServer:
    """A `virtual NAME { ... }` block (or a `failover NAME { ... }` block)."""

    name: str
    active: bool = False
    address: str | None = None
    device: str | None = None
    sorry_server: str | None = None
    vip_nmask: str | None = None
    fwmark: int = 0
    port: int = DEFAULT_VIRTUAL_PORT
    persistent: int = 0
    pmask: str | None = None
    send: str | None = None
    expect: str | None = None
    use_regex: bool = False
    send_program: str | None = None
    load_monitor: str = "none"  # parser: unset, which nanny treats as "none"
    scheduler: str = "wlc"
    protocol: str = "tcp"
    timeout: int = DEFAULT_TIMEOUT
    reentry: int = DEFAULT_REENTRY
    quiesce_server: bool = False
    client_monitor: str = DEFAULT_CLIENT_MONITOR
    start_cmd: str | None = None
    stop_cmd: str | None = None
    master: str | None = None
    dirs: tuple[str, ...] | None = None
    servers: tuple[RealServer, ...] = ()
    comments: Comments = NO_COMMENTS

    def __post_init__(self) -> None:
        # One meaning, one value: the parser stores these as 0, which is unset
        # (and ipvsadm's persistence netmask defaults to all ones).
        for key in ("sorry_server", "vip_nmask", "pmask", "master"):
            if getattr(self, key) == "0.0.0.0":
                object.__setattr__(self, key, None)
        if self.pmask == "255.255.255.255":
            object.__setattr__(self, "pmask", None)

    def server(self, name: str) -> RealServer | None:
        """The first real server called `name`, if any."""
        return next((s for s in self.servers if s.name == name), None)


_TOKEN_INDEX = {"device": 3, "nat_router_device": 3}  # `address = IP DEV`


@dataclass(frozen=True)
class Source:
    """Where things came from when a Config was parsed from text.

    Not part of a Config's value (excluded from ==): it only lets `validate`
    point at lines and carry the warnings that only the text can show.
    `keys` maps a block's path (``()`` for the globals, ``("virtual", "web")``,
    ``("virtual", "web", "server", "r1")``) to the line of each of its keys;
    `openers` maps a block's path to the line that opens it (the first such
    block when names repeat; `repeats` holds the lines of the later ones).
    """

    keys: dict[Path, dict[str, int]] = field(default_factory=dict)
    openers: dict[Path, int] = field(default_factory=dict)
    text_lines: list[str] = field(default_factory=list)
    warnings: tuple[Problem, ...] = ()
    repeats: dict[Path, list[int]] = field(default_factory=dict)

    def opener_lines(self, path: Path) -> list[int]:
        """Lines of every block with this path (two blocks may share a name)."""
        first = self.openers.get(path)
        return [] if first is None else [first, *self.repeats.get(path, [])]

    def position(self, path: Path) -> tuple[int, int] | None:
        """(line, column) of the field at `path`, or of its closest parent."""
        while path:
            line = self.openers.get(path)
            if line is not None:
                return line, self._column(line, 1)
            key, block = path[-1], path[:-1]
            keys = self.keys.get(block)
            line = keys.get(key) if keys is not None else self._scan(block, key)
            if line is not None:
                return line, self._column(line, _TOKEN_INDEX.get(key, 2))
            path = path[:-1]
        return None

    def _scan(self, block: Path, key: str) -> int | None:
        """Find `key` in a block read in one piece (no per-key map was kept)."""
        opener = self.openers.get(block)
        if opener is None:
            return None
        found = None
        for number in range(opener + 1, len(self.text_lines) + 1):
            words = self.text_lines[number - 1].split()
            if words[:1] == ["}"]:
                break
            if words[:1] == [key]:
                found = number
        return found

    def column(self, line: int, index: int) -> int:
        """1-based column of token `index` on `line`."""
        return self._column(line, index)

    def _column(self, line: int, index: int) -> int:
        from .lexer import token_columns

        text = self.text_lines[line - 1] if 0 < line <= len(self.text_lines) else ""
        columns = token_columns(text)
        return columns[index] if index < len(columns) else 1


@dataclass(frozen=True)
class Config:
    """A whole lvs.cf: the global settings, failover and virtual server blocks."""

    serial_no: int = 0
    primary: str | None = None
    primary_private: str | None = None
    primary_shared: str | None = None
    service: str = "lvs"
    rsh_command: str = "rsh"
    backup_active: bool = False
    backup: str | None = None
    backup_private: str | None = None
    backup_shared: str | None = None
    heartbeat: bool = False
    heartbeat_port: int = DEFAULT_HEARTBEAT_PORT
    keepalive: int = DEFAULT_KEEPALIVE
    deadtime: int = DEFAULT_DEADTIME
    network: str = "nat"
    nat_router: str | None = None
    nat_router_device: str | None = None
    nat_nmask: str | None = None
    reservation_conflict_action: str | None = None
    debug_level: str = "NONE"
    monitor_links: bool = False
    syncdaemon: bool = False
    syncd_iface: str = "eth0"
    syncd_id: int = 0
    tcp_timeout: int = 0
    tcpfin_timeout: int = 0
    udp_timeout: int = 0
    hard_shutdown: bool = True
    active_cmd: str | None = None
    inactive_cmd: str | None = None
    ipvsadm: str = DEFAULT_IPVSADM
    sync: bool = False
    failover_services: tuple[VirtualServer, ...] = ()
    virtual_servers: tuple[VirtualServer, ...] = ()
    comments: Comments = NO_COMMENTS
    source: Source | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.nat_nmask == "0.0.0.0":  # stored as 0 by the parser: unset
            object.__setattr__(self, "nat_nmask", None)

    def private_addresses(self) -> tuple[str | None, str | None]:
        """(primary_private, backup_private) as pulse uses them.

        The parser's rule: with `primary` given and no `primary_private`, both
        private addresses become copies of the public ones (backup_private is
        overwritten even when it was given), so pulse uses a single heartbeat
        path. The fields themselves hold what the file says.
        """
        if self.primary is not None and self.primary_private is None:
            return self.primary, self.backup
        return self.primary_private, self.backup_private

    def virtual(self, name: str) -> VirtualServer | None:
        """The first virtual server called `name`, if any."""
        return next((v for v in self.virtual_servers if v.name == name), None)
