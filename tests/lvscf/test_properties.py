"""Property tests for lvscf: the two round-trip laws and robustness on any input.

For every config `render` can write, `parse(render(c)) == c` and rendering is a
fixed point; for any text at all, `parse` returns a Config or raises
LvsCfError, and what it returns can be written again; for hostile values,
`render` raises RenderError (and `validate` reports an error) or writes text
that reads back equal; and a config `validate` finds no error in is written
with its meaning.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import lvscf
from lvscf import Config, LvsCfError, ParseError, RenderError

from .strategies import (
    configs,
    hostile_configs,
    hostile_texts,
    lvs_cf_like_text,
)

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _parse_or_lvscf_error(text: str) -> None:
    try:
        config = lvscf.parse(text)
    except LvsCfError as exc:
        assert exc.problems, "an LvsCfError must say what is wrong"
        assert all(p.is_error for p in exc.problems)
        return
    assert isinstance(config, Config)


# --- the round-trip laws -------------------------------------------------------------


@SETTINGS
@given(configs())
def test_rendered_configs_obey_both_round_trip_laws(config):
    text = lvscf.render(config)
    parsed = lvscf.parse(text)

    assert parsed == config  # parse(render(c)) == c
    assert lvscf.render(parsed) == text  # render(parse(render(c))) == render(c)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\r" not in text and "\0" not in text


# --- parse never fails with anything but LvsCfError ----------------------------------


@SETTINGS
@given(st.text())
@example("")
@example("\r")
@example("\0")
@example("virtual v {\n     server s {\n")
@example('send = "')
@example("dirs = [")
def test_parse_returns_a_config_or_raises_lvscf_error_for_any_text(text):
    _parse_or_lvscf_error(text)


@SETTINGS
@given(st.binary(), st.sampled_from(("surrogateescape", "replace")))
@example(b"primary = 1.2.3.4\nvirtual \xff {\n", "surrogateescape")
@example(b"debug_level = \xed\xa0\x80\n", "surrogateescape")
def test_parse_returns_a_config_or_raises_lvscf_error_for_any_bytes(data, errors):
    _parse_or_lvscf_error(data.decode("utf-8", errors=errors))


@SETTINGS
@given(lvs_cf_like_text)
def test_parse_returns_a_config_or_raises_lvscf_error_for_lvs_cf_like_text(text):
    _parse_or_lvscf_error(text)


@SETTINGS
@given(lvs_cf_like_text)
@example("debug_level = a\"b'c\n")  # a quote inside a token is a plain character
@example('virtual v {\n     expect = HTTP/1.0"\n}\n')
@example('virtual v {\n     dirs = [ "/srv/my site" ]\n}\n')
def test_whatever_parses_renders_and_reads_back_equal(text):
    try:
        config = lvscf.parse(text)
    except LvsCfError:
        return
    # Every value the parser accepts is one token, so it can be written again.
    rendered = lvscf.render(config)
    assert lvscf.parse(rendered) == config
    assert lvscf.render(lvscf.parse(rendered)) == rendered


# --- render refuses what it cannot write ---------------------------------------------


@SETTINGS
@given(hostile_configs())
def test_render_writes_text_that_reads_back_equal_or_raises_render_error(config):
    problems = lvscf.validate(config)  # never raises, whatever the values
    try:
        text = lvscf.render(config)
    except RenderError as exc:
        assert exc.problems and exc.problems[0].is_error
        # validate reports it too: what validates can be published.
        assert [p for p in problems if p.is_error], exc.problems[0].message
        return
    assert lvscf.parse(text) == config


@SETTINGS
@given(st.binary())
@example(b"syncdaemon = 1\nsyncd_iface = eth\xff\n")
@example(b"virtual v {\n     address = 10.0.0.1 eth\xff:1\n}\n")
def test_validate_never_raises_on_text_decoded_with_surrogateescape(data):
    try:
        config = lvscf.parse(data.decode("utf-8", errors="surrogateescape"))
    except LvsCfError:
        return
    assert all(isinstance(p, lvscf.Problem) for p in lvscf.validate(config))


# --- layout does not change the meaning ----------------------------------------------


def _reindent(text: str, indent: str, newline: str) -> str:
    lines = [
        re.sub(r"^( {9}| {5})", lambda m: indent * (len(m.group(0)) // 4), line)
        if line.startswith(" ")
        else line
        for line in text.split("\n")
    ]
    return newline.join(lines)


def _outcome(text: str) -> Any:
    try:
        return lvscf.parse(text)
    except ParseError as exc:
        return [(p.line, p.message) for p in exc.problems]


@settings(SETTINGS, max_examples=100)
@given(
    configs(),
    st.sampled_from(("\t", "  ", " \t ")),
    st.sampled_from(("\n", "\r\n", "\r")),
)
def test_indentation_and_line_ends_do_not_change_the_meaning(config, indent, nl):
    text = lvscf.render(config)

    assert _outcome(_reindent(text, indent, nl)) == _outcome(text)


# --- what validate accepts, render writes with its meaning ---------------------------

_BASE = lvscf.parse(
    (Path(__file__).parent / "fixtures" / "gui-nat.cf").read_text(encoding="utf-8")
)


def _edited(block: str, key: str, value: Any) -> Config:
    """The valid gui-nat config with one value replaced."""
    if block == "global":
        return dataclasses.replace(_BASE, **{key: value})
    web, *others = _BASE.virtual_servers
    if block == "virtual":
        web = dataclasses.replace(web, **{key: value})
    else:
        first, *rest = web.servers
        server = dataclasses.replace(first, **{key: value})
        web = dataclasses.replace(web, servers=(server, *rest))
    return dataclasses.replace(_BASE, virtual_servers=(web, *others))


NUMBER_KEYS = {
    "global": ("serial_no", "heartbeat_port", "keepalive", "deadtime", "syncd_id")
    + ("tcp_timeout", "tcpfin_timeout", "udp_timeout"),
    "virtual": ("fwmark", "port", "persistent", "timeout", "reentry"),
    "server": ("port", "weight"),
}
ADDRESS_KEYS = {
    "global": ("primary", "primary_private", "backup", "backup_private")
    + ("nat_router", "nat_nmask"),
    "virtual": ("address", "sorry_server", "vip_nmask", "pmask", "master"),
    "server": ("address",),
}
# Beyond a C int (the parser wraps them), negative, and the addresses that mean
# "unset" or that inet_aton reads as another address.
EDGE_NUMBERS = (2**31, -(2**31) - 1, 2**32, 2**32 + 6, -1)
EDGE_ADDRESSES = ("0.0.0.0", "255.255.255.255", "10.1", "1.2.3.4 x")
STRING_EDITS = {
    "global": (
        "primary_shared",
        "rsh_command",
        "backup_shared",
        "nat_router_device",
        "debug_level",
        "syncd_iface",
        "active_cmd",
        "inactive_cmd",
        "ipvsadm",
    ),
    "virtual": (
        "name",
        "device",
        "load_monitor",
        "client_monitor",
        "send",
        "expect",
        "send_program",
        "start_cmd",
        "stop_cmd",
    ),
    "server": ("name",),
}


def _written_with_a_new_meaning(config: Config) -> str | None:
    """What goes wrong when `config`, clean to validate, is written and read."""
    if any(p.is_error for p in lvscf.validate(config)):
        return None
    try:
        text = lvscf.render(config)
    except RenderError as exc:
        return f"validate passes but render refuses it: {exc.problems[0].message}"
    try:
        parsed = lvscf.parse(text)
    except ParseError as exc:
        return f"the parser rejects the rendered text: {exc.problems[0].message}"
    if parsed == config:
        return None
    return f"reads back as {_field(parsed, config)}"


def _field(parsed: Config, config: Config) -> str:
    for key in vars(config):
        if key in ("virtual_servers", "source"):
            continue
        if getattr(parsed, key) != getattr(config, key):
            return f"{key}={getattr(parsed, key)!r}"
    web, server = parsed.virtual_servers[0], parsed.virtual_servers[0].servers[0]
    original = config.virtual_servers[0]
    for key in vars(original):
        if key != "servers" and getattr(web, key) != getattr(original, key):
            return f"{key}={getattr(web, key)!r}"
    for key in vars(server):
        if getattr(server, key) != getattr(original.servers[0], key):
            return f"{key}={getattr(server, key)!r}"
    return "another config"


def test_the_edge_values_start_from_a_config_without_problems():
    assert lvscf.validate(_BASE) == []


def test_no_number_or_address_that_validates_changes_meaning_when_written():
    cases = [
        (block, key, value)
        for keys, values in (
            (NUMBER_KEYS, EDGE_NUMBERS),
            (ADDRESS_KEYS, EDGE_ADDRESSES),
        )
        for block, names in keys.items()
        for key in names
        for value in values
    ]
    wrong = []
    for block, key, value in cases:
        problem = _written_with_a_new_meaning(_edited(block, key, value))
        if problem is not None:
            wrong.append(f"{block} {key} = {value!r}: {problem}")

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("block", sorted(STRING_EDITS))
@settings(SETTINGS, max_examples=100)
@given(data=st.data())
def test_no_string_that_validates_changes_meaning_when_written(block, data):
    key = data.draw(st.sampled_from(STRING_EDITS[block]), label="key")
    config = _edited(block, key, data.draw(hostile_texts, label="value"))

    assert _written_with_a_new_meaning(config) is None
