"""Hints for unknown keywords: typos, case, `key=value`, keys in the wrong block."""

from __future__ import annotations

import difflib

from .vocabulary import GLOBAL_KEYS, SERVER_KEYS, VIRTUAL_KEYS

_KEYS = {
    "top": GLOBAL_KEYS + ("virtual", "failover"),
    "virtual": VIRTUAL_KEYS + ("server", "}"),
    "failover": VIRTUAL_KEYS + ("server", "}"),
    "server": SERVER_KEYS + ("}",),
}
_WHERE = {
    "top": "a global setting (above the virtual blocks)",
    "virtual": "a virtual server setting",
    "server": "a real server setting (inside a `server` block)",
}


def unknown_keyword_hint(block: str, toks: list[str]) -> str:
    """Say why `toks[0]` is not a keyword of `block`, and what to write."""
    key = toks[0]
    odd = other_space(" ".join(toks))
    if odd:
        return odd
    if "=" in key and key != "=":
        name, _, value = key.partition("=")
        value = " ".join(([value] if value else []) + toks[1:])
        return f"write `{name} = {value}`, with spaces around `=`"
    if key == "}":
        return "this `}` closes no block: remove it"
    if key == "{":
        return "`{` belongs at the end of the `virtual NAME {` line"
    allowed = _KEYS[block]
    lower = key.lower()
    if lower != key and (
        lower in allowed or lower in ("virtual", "failover", "server")
    ):
        return f"keywords are case-sensitive: write `{lower}`"
    if key in ("virtual", "failover"):
        return "close the current block with `}` before opening another"
    if key == "server":
        return "`server` blocks go inside a `virtual` block"
    for other, where in _WHERE.items():
        if other != block and key in _KEYS[other] and key != "}":
            return f"`{key}` is {where}, not allowed here"
    if len(toks) >= 2 and toks[-1] == "{" and block == "top":
        return (
            "this looks like keepalived.conf syntax; lvs.cf blocks are only "
            "`virtual NAME {` and `failover NAME {`"
        )
    close = len(key) < 64 and difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    if close:
        return f"did you mean `{close[0]}`?"
    return (
        f"`{key[:40]}` is not an lvs.cf keyword, and the original rejects the whole "
        "file for it: remove the line or turn it into a `#` comment"
    )


def other_space(text: str) -> str | None:
    """A hint when `text` holds whitespace that lvs.cf does not treat as a blank."""
    for ch in text:
        if ch.isspace() and ch not in " \t":
            return (
                f"the line contains U+{ord(ch):04X}, which looks like a space but "
                "is not a blank to lvs.cf: replace it with an ordinary space"
            )
    return None
