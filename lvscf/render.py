"""render(config) -> str: canonical lvs.cf text in the original GUI's layout.

Globals first in the GUI's key order, then `failover` blocks, then `virtual`
blocks with keys indented by 5 spaces and server keys by 9. Values the two
original readers (the C parser and the PHP GUI) default differently are always
written, so the file means the same to both; comments are written above the
key or block they belong to. Output is deterministic: equal configs give equal
text, and `parse(render(c)) == c`.

Never trusts a value: anything that would change the file's structure (a line
break, a quote the format cannot carry, a value that is not one token) raises
RenderError instead of being written.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from .errors import Path, Problem, RenderError
from .gcpause import collector_paused
from .model import Comments, Config, RealServer, VirtualServer
from .vocabulary import (
    FAILOVER_ALWAYS,
    GLOBAL_ALWAYS,
    GLOBAL_KEYS,
    INT32_MAX,
    INT32_MIN,
    QUOTE_KEEPING_KEYS,
    SERVER_KEYS,
    UINT32_MAX,
    VIRTUAL_ALWAYS,
    VIRTUAL_KEYS,
)

_INDENT = ("", "     ", "         ")  # the GUI's 5/9-space layout
_GLOBAL_DEFAULTS = Config()
_NONZERO_ADDRESSES = ("primary", "primary_private", "backup_private")
_ALWAYS = {"virtual": VIRTUAL_ALWAYS, "failover": FAILOVER_ALWAYS}
_VIRTUAL_DEFAULTS = VirtualServer(name="")
_VIRTUAL_DEFAULT_VALUES = vars(_VIRTUAL_DEFAULTS)
_FORBIDDEN = ("\n", "\r", "\0")
_NEEDS_QUOTES = (" ", "\t", '"', "'")
_plain = re.compile(r"[^\s\"'{}=\x00]+").fullmatch  # writable as is, anywhere
_plain_quoted = re.compile(r"[^\"\n\r\x00]*").fullmatch  # writable inside "..."


def render(config: Config) -> str:
    """Return the canonical lvs.cf text for `config` (raises RenderError)."""
    with collector_paused():
        return _render(config)


def _render(config: Config) -> str:
    out: list[str] = []
    if config.comments.above:
        _comments(out, config.comments.above, 0, ())
        out.append("")
    written = [key for key in GLOBAL_KEYS if _global(out, config, key)]
    _check_comment_keys(config.comments, written, ())
    for vs in config.failover_services:
        _virtual(out, vs, "failover")
    for vs in config.virtual_servers:
        _virtual(out, vs, "virtual")
    _comments(out, config.comments.end, 0, ())
    out.append("")
    return "\n".join(out)


# --- blocks --------------------------------------------------------------------------


def _global(out: list[str], config: Config, key: str) -> bool:
    path = (key,)
    notes = config.comments.for_key(key)
    if key == "nat_router":
        if config.nat_router is None:
            return False
        _comments(out, notes, 0, path)
        address = _token(config.nat_router, path, last=False)
        out.append(f"nat_router = {address} {_device(config.nat_router_device, path)}")
        return True
    value = getattr(config, key)
    if value is None:
        return False
    if value == "0.0.0.0" and key in _NONZERO_ADDRESSES:
        _fail(
            path, f"{key} cannot be 0.0.0.0 (the original rejects it): leave it unset"
        )
    if key in GLOBAL_ALWAYS or notes or value != getattr(_GLOBAL_DEFAULTS, key):
        _comments(out, notes, 0, path)
        out.append(f"{key} = {_value(key, value, path)}")
        return True
    return False


def _virtual(out: list[str], vs: VirtualServer, kind: str) -> None:
    path = (kind, vs.name)
    _comments(out, vs.comments.above, 0, path)
    out.append(f"{kind} {_token(vs.name, path, last=False, name=True)} {{")
    if vs.comments.keys:
        written = [key for key in VIRTUAL_KEYS if _virtual_key(out, vs, key, path)]
        _check_comment_keys(vs.comments, written, path)
    else:
        _virtual_keys_plain(out, vs, path)
    for server in vs.servers:
        _server(out, server, path)
    _comments(out, vs.comments.end, 1, path)
    out.append("}")


def _virtual_keys_plain(out: list[str], vs: VirtualServer, path: Path) -> None:
    """The keys of a block without key comments; plain values written inline."""
    attrs = vars(vs)
    always = _ALWAYS[path[0]]
    for key in VIRTUAL_KEYS:
        value = attrs[key]
        if value is None:
            continue
        kind = type(value)
        if key == "address" or (
            key not in always and value == _VIRTUAL_DEFAULT_VALUES[key]
        ):
            if key == "address":
                _virtual_key(out, vs, key, path)
            continue
        if kind is bool:
            text = "1" if value else "0"
        elif kind is int and INT32_MIN <= value <= INT32_MAX and key != "fwmark":
            text = str(value)
        elif kind is str and key in QUOTE_KEEPING_KEYS and _plain_quoted(value):
            text = f'"{value}"'
        elif kind is str and key not in QUOTE_KEEPING_KEYS and _plain(value):
            text = value
        else:
            text = _value(key, value, path + (key,))
        out.append(f"     {key} = {text}")


def _virtual_key(out: list[str], vs: VirtualServer, key: str, path: Path) -> bool:
    notes = vs.comments.for_key(key)
    indent = _INDENT[1]
    kpath = path + (key,)
    if key == "address":
        if vs.address is None:
            return False
        _comments(out, notes, 1, kpath)
        address = _token(vs.address, kpath, last=False)
        out.append(
            f"{indent}address = {address} {_device(vs.device, path + ('device',))}"
        )
        return True
    value = getattr(vs, key)
    if value is None:
        return False
    always = _ALWAYS[path[0]]
    if key in always or notes or value != getattr(_VIRTUAL_DEFAULTS, key):
        _comments(out, notes, 1, kpath)
        out.append(f"{indent}{key} = {_value(key, value, kpath)}")
        return True
    return False


def _server(out: list[str], server: RealServer, parent: Path) -> None:
    name, address, port, weight = (
        server.name,
        server.address,
        server.port,
        server.weight,
    )
    if (
        not server.comments
        and type(port) is int
        and type(weight) is int
        and INT32_MIN <= port <= INT32_MAX
        and INT32_MIN <= weight <= INT32_MAX
        and _plain(name)
        and _plain(address)
    ):  # the common case, one string per block (17,000 blocks in a large file)
        out.append(
            f"     server {name} {{\n         address = {address}\n"
            f"         active = {'1' if server.active else '0'}\n"
            f"         port = {port}\n         weight = {weight}\n     }}"
        )
        return
    path = parent + ("server", server.name)
    notes = server.comments
    _comments(out, notes.above, 1, path)
    out.append(
        f"{_INDENT[1]}server {_token(server.name, path, last=False, name=True)} {{"
    )
    for key in SERVER_KEYS:
        _comments(out, notes.for_key(key), 2, path + (key,))
        value = _value(key, getattr(server, key), path + (key,))
        out.append(f"{_INDENT[2]}{key} = {value}")
    _check_comment_keys(notes, SERVER_KEYS, path)
    _comments(out, notes.end, 2, path)
    out.append(f"{_INDENT[1]}}}")


# --- comments ------------------------------------------------------------------------


def _comments(out: list[str], lines: tuple[str, ...], depth: int, path: Path) -> None:
    indent = _INDENT[depth]
    for text in lines:
        if any(ch in text for ch in _FORBIDDEN):
            _fail(path, "a comment line cannot contain a line break or a NUL byte")
        out.append(f"{indent}#{text}")


def _check_comment_keys(comments: Comments, written: Any, path: Path) -> None:
    """Refuse to drop notes: every commented key must have been written."""
    for key, _ in comments.keys:
        if key not in written:
            _fail(
                path + (key,), f"comments are attached to `{key}`, which has no value"
            )


# --- values --------------------------------------------------------------------------


def _value(key: str, value: Any, path: Path) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        low, high = (0, UINT32_MAX) if key == "fwmark" else (INT32_MIN, INT32_MAX)
        if not low <= value <= high:
            _fail(path, f"{value} does not fit the original's {low}–{high}")
        return str(value)
    if isinstance(value, tuple):  # dirs
        items = " ".join(_list_item(v, path) for v in value)
        return f"[ {items} ]" if items else "[ ]"
    if not isinstance(value, str):
        _fail(path, f"unexpected value {value!r}")
    if key in QUOTE_KEEPING_KEYS:
        return _kept_quotes(value, path)
    return _token(value, path)


def _kept_quotes(value: str, path: Path) -> str:
    """Write a value whose quotes the parser keeps so that lvsd's result is `value`."""
    _no_breaks(value, path)
    if '"' not in value:
        return f'"{value}"'
    if _bare(value):
        return value  # one token that does not start with a quote: kept verbatim
    inner = value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == "'" and "'" not in inner:
        return value  # a single-quoted token: stored with its quotes, as meant
    _fail(path, 'a double quote (") cannot be written in this value')


def _token(value: str, path: Path, last: bool = True, name: bool = False) -> str:
    """Write a plain value as one token, quoting it only when it needs it.

    A quoted token that is not the last on its line must contain a blank: the
    original looks for the closing quote from the first blank onwards.
    """
    _no_breaks(value, path)
    if name and value in ("{", "}", "="):
        _fail(path, f"`{value}` cannot be used as a name")
    if _bare(value):
        return value
    if not last and not any(ch in value for ch in " \t"):
        _fail(path, f"`{value}` cannot be written here: it would need quotes")
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    _fail(path, "a value cannot contain both kinds of quote")


def _device(value: str | None, path: Path) -> str:
    if not value:
        _fail(path, "the address needs a device, e.g. eth0:1")
    return _token(value, path)


def _list_item(value: str, path: Path) -> str:
    if value == "]":
        _fail(path, "`]` cannot be written as a list item: it ends the list")
    return _token(value, path, last=False)


def _bare(value: str) -> bool:
    """One token as it stands: no blanks, and no quote where a token starts."""
    return (
        value != "" and value[0] not in "\"'" and " " not in value and "\t" not in value
    )


def _no_breaks(value: str, path: Path) -> None:
    if any(ch in value for ch in _FORBIDDEN):
        _fail(path, "a value cannot contain a line break or a NUL byte")


def _fail(path: Path, message: str) -> NoReturn:
    raise RenderError([Problem("error", message, path)])


def render_problem(config: Config) -> Problem | None:
    """The first value `render` would refuse, or None when the config can be written."""
    try:
        render(config)
    except RenderError as exc:
        return exc.problems[0]
    return None
