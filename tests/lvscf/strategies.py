"""Hypothesis strategies for lvscf: whole configs that render, and hostile values.

`configs()` builds arbitrary `Config`s that `render` must write and `parse` must
read back equal: every field, several failover and virtual blocks, real servers,
comments on keys that are written, values with blanks, `#`, a quote of the other
kind, empty strings and unicode. `hostile_configs()` puts line breaks, NUL bytes
and both quote kinds into the free-text fields: render must refuse those with
RenderError or write text that parses back equal. `lvs_cf_like_text` builds
lines from real keywords so that arbitrary input reaches past the first error.
"""

from __future__ import annotations

import dataclasses
import functools
import string
from typing import Any

from hypothesis import strategies as st

from lvscf import Comments, Config, RealServer, VirtualServer
from lvscf.vocabulary import (
    ALL_KEYWORDS,
    GLOBAL_KEYS,
    INT32_MAX,
    INT32_MIN,
    LOAD_MONITORS,
    NETWORKS,
    PROTOCOLS,
    RESERVATION_CONFLICT_ACTIONS,
    SCHEDULERS,
    SERVER_KEYS,
    SERVICE_PORTS,
    SERVICES,
    VIRTUAL_KEYS,
)

# What a value can never hold in a line-based file.
LINE_BREAKS = "\n\r\x00"

# --- scalars -------------------------------------------------------------------------

int32 = st.integers(INT32_MIN, INT32_MAX)
# fwmark is unsigned to the parser (`fwmark = -1` is 4294967295).
fwmarks = st.integers(0, 2**32 - 1)
small_ints = st.integers(-5, 70000)
numbers = st.one_of(small_ints, int32)
fwmark_numbers = st.one_of(st.integers(0, 100), fwmarks)

_octet = st.integers(0, 255)
dotted = st.tuples(_octet, _octet, _octet, _octet).map(
    lambda parts: ".".join(map(str, parts))
)
nonzero_dotted = dotted.filter(lambda address: address != "0.0.0.0")
# Host names start with a letter, so inet_aton never reads them as an address.
_LOWER = string.ascii_lowercase
_label = st.tuples(
    st.sampled_from(_LOWER),
    st.text(_LOWER + string.digits + "-", max_size=6),
    st.sampled_from(_LOWER + string.digits),
).map("".join)
hostnames = st.lists(_label, min_size=1, max_size=3).map(".".join)
# A host the parser accepts where 0.0.0.0 is refused, and where it is accepted.
nonzero_hosts = st.one_of(nonzero_dotted, hostnames)
hosts = st.one_of(st.just("0.0.0.0"), nonzero_dotted, hostnames)
# Masks: 0.0.0.0 means "unset" to the parser (None in the model).
masks = nonzero_dotted
# pmask: 255.255.255.255 is also "unset" (ipvsadm's default).
pmasks = nonzero_dotted.filter(lambda mask: mask != "255.255.255.255")

# Any character a line can carry: unicode (no lone surrogates), blanks, `#`.
_line_char = st.one_of(
    st.sampled_from(" \t#=[]{}\\%"),
    st.characters(
        exclude_characters=LINE_BREAKS + "\"'",
        exclude_categories=["Cs"],
        max_codepoint=0x2FFF,
    ),
)


def _no_both_quotes(text: str) -> bool:
    return not ('"' in text and "'" in text)


# A comment line's text (what follows `#`): anything but a line break.
comment_texts = st.text(st.one_of(_line_char, st.sampled_from("\"'")), max_size=20)

# One plain value token: blanks, `#`, one kind of quote, empty, unicode.
values = st.text(st.one_of(_line_char, st.sampled_from("\"'")), max_size=16).filter(
    _no_both_quotes
)

# The quote-keeping keys (send, expect, ...): what nanny receives. Without `"`
# anything goes; with `"` only the single-quoted form the parser stores.
kept_quote_values = st.one_of(
    st.text(st.one_of(_line_char, st.just("'")), max_size=16),
    st.text(st.one_of(_line_char, st.just('"')), max_size=14).map(
        lambda inner: f"'{inner}'"
    ),
)

# Names are single words: no blanks (of any kind), no quotes, not `{`, `}`, `=`.
_name_char = st.characters(
    exclude_characters=LINE_BREAKS + "\"' \t",
    exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
    max_codepoint=0x2FFF,
)
_plain_names = st.tuples(
    st.sampled_from(string.ascii_letters),
    st.text(string.ascii_letters + string.digits + "_.-", max_size=10),
).map("".join)
names = st.one_of(_plain_names, st.text(_name_char, min_size=1, max_size=10)).filter(
    lambda name: name not in ("{", "}", "=")
)

dirs_items = st.text(
    st.characters(
        exclude_characters=LINE_BREAKS + "\"' \t",
        exclude_categories=["Cs"],
        max_codepoint=0x2FFF,
    ),
    min_size=1,
    max_size=8,
).filter(lambda item: item != "]" and not any(ch.isspace() for ch in item))


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


# --- comments ------------------------------------------------------------------------


@functools.cache
def _comments(
    keywords: tuple[str, ...], comment: st.SearchStrategy[str]
) -> st.SearchStrategy[Comments]:
    """Comments above a block, on some of `keywords` and before the block's end.

    The caller keeps only the keys it writes (see `_keep_written`).
    """
    lines = st.lists(comment, max_size=2).map(tuple)
    some = st.builds(
        Comments,
        above=lines,
        keys=st.lists(st.tuples(st.sampled_from(keywords), lines), max_size=3).map(
            tuple
        ),
        end=lines,
    )
    return st.one_of(st.just(Comments()), some)


def _keep_written(comments: Comments, block: Any) -> Comments:
    """Drop the comments on keys that have no value (render refuses those)."""
    keys = tuple(
        (key, lines) for key, lines in comments.keys if getattr(block, key) is not None
    )
    return dataclasses.replace(comments, keys=keys)


# --- blocks --------------------------------------------------------------------------


@functools.cache
def _real_servers(
    name: st.SearchStrategy[str], comment: st.SearchStrategy[str]
) -> st.SearchStrategy[RealServer]:
    return st.builds(
        RealServer,
        name=name,
        address=hosts,
        active=st.booleans(),
        port=numbers,
        weight=numbers,
        comments=_comments(SERVER_KEYS, comment),
    )


@functools.cache
def _virtual_servers(
    text: st.SearchStrategy[str],
    kept: st.SearchStrategy[str],
    name: st.SearchStrategy[str],
    comment: st.SearchStrategy[str],
) -> st.SearchStrategy[VirtualServer]:
    fields = {
        "name": name,
        "active": st.booleans(),
        "sorry_server": optional(nonzero_dotted),
        "vip_nmask": optional(masks),
        "fwmark": fwmark_numbers,
        "port": numbers,
        "persistent": numbers,
        "pmask": optional(pmasks),
        "send": optional(kept),
        "expect": optional(kept),
        "use_regex": st.booleans(),
        "send_program": optional(kept),
        "load_monitor": st.one_of(st.sampled_from(LOAD_MONITORS), text),
        "scheduler": st.sampled_from(SCHEDULERS),
        "protocol": st.sampled_from(PROTOCOLS),
        "timeout": numbers,
        "reentry": numbers,
        "quiesce_server": st.booleans(),
        "client_monitor": st.one_of(st.just("/usr/sbin/nanny"), text),
        "start_cmd": optional(kept),
        "stop_cmd": optional(kept),
        "master": optional(nonzero_hosts),
        "dirs": optional(st.lists(dirs_items, max_size=3).map(tuple)),
        "servers": st.lists(_real_servers(name, comment), max_size=2).map(tuple),
        "comments": _comments(VIRTUAL_KEYS, comment),
    }
    # The address and its device come together: a device alone is not written.
    vip = st.one_of(
        st.tuples(st.none(), st.none()), st.tuples(hosts, text.filter(bool))
    )
    fixed = st.fixed_dictionaries(fields)

    def build(parts: tuple[dict[str, Any], tuple[str | None, str | None]]) -> Any:
        values, (address, device) = parts
        vs = VirtualServer(**values, address=address, device=device)
        comments = _keep_written(vs.comments, vs)
        return dataclasses.replace(vs, comments=comments)

    return st.tuples(fixed, vip).map(build)


@functools.cache
def configs(
    text: st.SearchStrategy[str] = values,
    kept: st.SearchStrategy[str] = kept_quote_values,
    name: st.SearchStrategy[str] = names,
    comment: st.SearchStrategy[str] = comment_texts,
) -> st.SearchStrategy[Config]:
    """Arbitrary Configs that render must write and parse must read back."""
    blocks = _virtual_servers(text, kept, name, comment)
    fields = {
        "serial_no": numbers,
        "primary": optional(nonzero_hosts),
        "primary_private": optional(nonzero_hosts),
        "primary_shared": optional(text),
        "service": st.sampled_from(SERVICES),
        "rsh_command": st.one_of(st.sampled_from(("rsh", "ssh")), text),
        "backup_active": st.booleans(),
        # 0.0.0.0 is the GUI's "no backup" and the parser accepts it here.
        "backup": optional(hosts),
        "backup_private": optional(nonzero_hosts),
        "backup_shared": optional(text),
        "heartbeat": st.booleans(),
        "heartbeat_port": numbers,
        "keepalive": numbers,
        "deadtime": numbers,
        "network": st.sampled_from(NETWORKS),
        "nat_nmask": optional(masks),
        "reservation_conflict_action": optional(
            st.sampled_from(RESERVATION_CONFLICT_ACTIONS)
        ),
        "debug_level": st.one_of(st.just("NONE"), text),
        "monitor_links": st.booleans(),
        "syncdaemon": st.booleans(),
        "syncd_iface": st.one_of(st.just("eth0"), text),
        "syncd_id": numbers,
        "tcp_timeout": numbers,
        "tcpfin_timeout": numbers,
        "udp_timeout": numbers,
        "hard_shutdown": st.booleans(),
        "active_cmd": optional(text),
        "inactive_cmd": optional(text),
        "ipvsadm": st.one_of(st.just("/sbin/ipvsadm"), text),
        "sync": st.booleans(),
        "failover_services": st.lists(blocks, max_size=1).map(tuple),
        "virtual_servers": st.lists(blocks, max_size=2).map(tuple),
        "comments": _comments(GLOBAL_KEYS, comment),
    }
    nat = st.one_of(
        st.tuples(st.none(), st.none()), st.tuples(hosts, text.filter(bool))
    )

    def build(parts: tuple[dict[str, Any], tuple[str | None, str | None]]) -> Config:
        values, (nat_router, device) = parts
        config = Config(**values, nat_router=nat_router, nat_router_device=device)
        comments = _keep_written(config.comments, config)
        return dataclasses.replace(config, comments=comments)

    return st.tuples(st.fixed_dictionaries(fields), nat).map(build)


# --- hostile values ------------------------------------------------------------------

# Strings that fight the syntax: line breaks, NUL, both quote kinds, blanks,
# braces, `=`, `#`, and whitespace that is not a blank to lvs.cf.
hostile_texts = st.text(
    st.one_of(
        st.sampled_from("\n\r\x00\"' \t{}=#[]\x0b\x0c\x1c\xa0\u2028\x85"),
        st.characters(exclude_categories=["Cs"], max_codepoint=0x2FFF),
    ),
    max_size=12,
)


_GLOBAL_TEXT = (
    "primary_shared",
    "rsh_command",
    "backup_shared",
    "nat_router_device",
    "debug_level",
    "syncd_iface",
    "active_cmd",
    "inactive_cmd",
    "ipvsadm",
)
_VIRTUAL_TEXT = ("name", "device", "load_monitor", "client_monitor")
_VIRTUAL_KEPT = ("send", "expect", "send_program", "start_cmd", "stop_cmd")


def _hostile_comments(comments: Comments, where: str, line: str) -> Comments:
    if where == "above":
        return dataclasses.replace(comments, above=(*comments.above, line))
    if where == "end":
        return dataclasses.replace(comments, end=(line, *comments.end))
    keys = tuple((key, (*lines, line)) for key, lines in comments.keys)
    return dataclasses.replace(comments, keys=keys)


@st.composite
def hostile_configs(draw: st.DrawFn) -> Config:
    """A renderable config with one name, value or comment made hostile.

    Only one field at a time, so that the rest of the config stays writable and
    the hostile value is what render has to deal with.
    """
    config = draw(configs())
    hostile = draw(hostile_texts, label="hostile")
    blocks = [*config.failover_services, *config.virtual_servers]
    targets = ["global", "comments"] + (["block", "server"] if blocks else [])
    target = draw(st.sampled_from(targets), label="target")
    if target == "global":
        key = draw(st.sampled_from(_GLOBAL_TEXT), label="key")
        if key == "nat_router_device" and config.nat_router is None:
            config = dataclasses.replace(config, nat_router="10.0.0.254")
        changes: dict[str, Any] = {key: hostile}
        return dataclasses.replace(config, **changes)
    if target == "comments":
        where = draw(st.sampled_from(("above", "keys", "end")), label="where")
        comments = _hostile_comments(config.comments, where, hostile)
        return dataclasses.replace(config, comments=comments)
    index = draw(st.integers(0, len(blocks) - 1), label="block")
    vs = blocks[index]
    if target == "block":
        key = draw(st.sampled_from(_VIRTUAL_TEXT + _VIRTUAL_KEPT), label="key")
        if key == "device" and vs.address is None:
            vs = dataclasses.replace(vs, address="10.0.0.1")
        fields: dict[str, Any] = {key: hostile}
        vs = dataclasses.replace(vs, **fields)
    elif vs.servers:
        server = dataclasses.replace(vs.servers[0], name=hostile)
        vs = dataclasses.replace(vs, servers=(server, *vs.servers[1:]))
    else:
        vs = dataclasses.replace(vs, dirs=(hostile,))
    blocks[index] = vs
    split = len(config.failover_services)
    return dataclasses.replace(
        config,
        failover_services=tuple(blocks[:split]),
        virtual_servers=tuple(blocks[split:]),
    )


# --- text that looks like lvs.cf -----------------------------------------------------

_keywords = sorted(ALL_KEYWORDS)
_tokens = st.one_of(
    st.sampled_from(_keywords),
    st.sampled_from(("=", "{", "}", "[", "]", "#", '"', "'", "0", "-1", "08", "0x50")),
    st.sampled_from(sorted(SERVICE_PORTS)),
    dotted,
    hostnames,
    st.text(st.characters(exclude_categories=["Cs"]), max_size=6),
)
_blanks = st.sampled_from((" ", "\t", "  ", " \t"))


@st.composite
def lvs_cf_lines(draw: st.DrawFn) -> str:
    """One line: a statement, a block opener or closer, a comment or noise."""
    indent = draw(st.sampled_from(("", "     ", "\t", "         ")))
    kind = draw(st.integers(0, 5))
    if kind == 0:
        key = draw(st.sampled_from(_keywords))
        rest = draw(st.lists(_tokens, max_size=3))
        quote = draw(st.sampled_from(("", '"', "'")))
        value = " ".join(rest)
        return f"{indent}{key} = {quote}{value}{quote}"
    if kind == 1:
        opener = draw(st.sampled_from(("virtual", "failover", "server")))
        return f"{indent}{opener} {draw(names)} {{"
    if kind == 2:
        return f"{indent}}}"
    if kind == 3:
        return f"{indent}#{draw(comment_texts)}"
    if kind == 4:
        return ""
    words = draw(st.lists(_tokens, max_size=5))
    return indent + draw(_blanks).join(words)


lvs_cf_like_text = st.tuples(
    st.lists(lvs_cf_lines(), max_size=25),
    st.sampled_from(("\n", "\r\n", "\r")),
    st.booleans(),
).map(lambda parts: parts[1].join(parts[0]) + (parts[1] if parts[2] else ""))
