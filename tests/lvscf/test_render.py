"""`render`: the values it refuses to write, and the model's lookups it relies on.

Round trips and the canonical layout are tested on whole files (test_fixtures.py)
and by hypothesis (test_properties.py); here each refusal is pinned once, with
its message and the path of the field, because writing such a value would give
a file that reads back differently or not at all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from lvscf import (
    Comments,
    Config,
    RealServer,
    RenderError,
    VirtualServer,
    parse,
    render,
)

SERVER = RealServer(name="r1", address="10.0.0.1", active=True)
WEB = VirtualServer(
    name="web", active=True, address="192.168.1.100", device="eth0:1", servers=(SERVER,)
)
BASE = Config(primary="192.168.1.1", network="direct", virtual_servers=(WEB,))


def with_virtual(**changes: Any) -> Config:
    return replace(BASE, virtual_servers=(replace(WEB, **changes),))


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        (
            replace(BASE, comments=Comments(above=("a\nb",))),
            (),
            "a comment line cannot contain a line break or a NUL byte",
        ),
        (
            replace(BASE, comments=Comments(keys=(("backup", ("note",)),))),
            ("backup",),
            "comments are attached to `backup`, which has no value",
        ),
        (
            with_virtual(scheduler=3.5),
            ("virtual", "web", "scheduler"),
            "unexpected value 3.5",
        ),
        (
            with_virtual(send='say "hi" now'),
            ("virtual", "web", "send"),
            'a double quote (") cannot be written in this value',
        ),
        (
            replace(BASE, debug_level='it\'s "x"'),
            ("debug_level",),
            "a value cannot contain both kinds of quote",
        ),
        (
            with_virtual(dirs=("/a", "]")),
            ("virtual", "web", "dirs"),
            "`]` cannot be written as a list item: it ends the list",
        ),
    ],
    ids=[
        "comment-line-break",
        "comment-on-unset-key",
        "not-a-value",
        "double-quote-in-send",
        "both-quotes",
        "bracket-in-dirs",
    ],
)
def test_render_refuses_what_it_cannot_write_unchanged(
    config: Config, path: tuple[str, ...], message: str
) -> None:
    with pytest.raises(RenderError) as info:
        render(config)
    [problem] = info.value.problems
    assert (problem.severity, problem.path, problem.message) == ("error", path, message)


def test_a_single_quoted_send_is_written_inside_double_quotes() -> None:
    text = render(with_virtual(send="'GET /'"))
    assert "\n     send = \"'GET /'\"\n" in text


def test_a_virtual_server_finds_its_first_real_server_by_name() -> None:
    second = replace(SERVER, address="10.0.0.2")
    web = replace(WEB, servers=(SERVER, second))
    assert web.server("r1") is SERVER
    assert web.server("r2") is None


def test_a_single_quoted_send_holding_double_quotes_is_written_as_it_is() -> None:
    config = with_virtual(send="'say \"hi\" now'")
    text = render(config)
    assert "\n     send = 'say \"hi\" now'\n" in text
    assert parse(text).virtual_servers[0].send == "'say \"hi\" now'"
