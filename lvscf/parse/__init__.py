"""parse(text) -> Config: read lvs.cf exactly as the original parser does.

Accepts what `lvsconfig.c` accepts, with the same meaning; rejects what it
rejects, with line, column, a precise message and a hint. Where the original
silently accepts a likely mistake, the meaning is kept and a warning says what
will really happen (warnings travel in `config.source` for `validate`).
Parsing never touches the network or the file system.

The modules, in the order a line meets them: `driver` (the hot loop and the
block structure), `fast` (plain lines without checks), `handlers` (one per
keyword), `values` (numbers, addresses, ports, quoted strings), `hints` (the
original's messages and what to write instead) and `problems` (the file as a
whole); `lines` holds the line and block being read.
"""

from __future__ import annotations

from .driver import MAX_ERRORS, parse
from .fast import FastConvert
from .handlers import Handler
from .hints import (
    BAD_ARGUMENT,
    BAD_COMMAND,
    BAD_HOSTNAME,
    BAD_NETMASK,
    BOOL_EXPECTED,
    EQUAL_EXPECTED,
    EXTRA_ARGS,
    INT_EXPECTED,
    LIST_EXPECTED,
    MISSING_ARGS,
    QUOTATION_MISMATCH,
)

__all__ = [
    "BAD_ARGUMENT",
    "BAD_COMMAND",
    "BAD_HOSTNAME",
    "BAD_NETMASK",
    "BOOL_EXPECTED",
    "EQUAL_EXPECTED",
    "EXTRA_ARGS",
    "INT_EXPECTED",
    "LIST_EXPECTED",
    "MAX_ERRORS",
    "MISSING_ARGS",
    "QUOTATION_MISMATCH",
    "FastConvert",
    "Handler",
    "parse",
]
