"""What the parser holds while it reads: one tokenized line, one open block."""

from __future__ import annotations

from typing import Any

from ..errors import Path
from ..lexer import token_columns
from ..model import NO_COMMENTS, Comments
from .fast import FAST


class Statement:
    """One tokenized line."""

    __slots__ = ("lineno", "line", "toks", "quotes", "truncated")

    def __init__(
        self,
        lineno: int,
        line: str,
        toks: list[str],
        quotes: list[str] | None,
        truncated: bool = False,
    ) -> None:
        self.lineno = lineno
        self.line = line
        self.toks = toks
        self.quotes = quotes  # None: no token was quoted (the fast path)
        self.truncated = truncated

    def quote(self, index: int) -> str:
        """The quote character token `index` was written with ("" if none)."""
        return self.quotes[index] if self.quotes is not None else ""

    def column(self, index: int) -> int:
        """1-based column of token `index` (or just past the last token)."""
        cols = token_columns(self.line)
        if index < len(cols):
            return cols[index]
        return len(self.line.rstrip(" \t")) + 2 if self.line.strip() else 1


class Block:
    """A block being read: the file itself, a virtual/failover or a server."""

    __slots__ = (
        "kind",
        "name",
        "path",
        "lineno",
        "above",
        "values",
        "seen",
        "key_comments",
        "end",
        "children",
        "inherited_port",
        "fast",
    )

    def __init__(
        self, kind: str, name: str, path: Path, lineno: int, above: tuple[str, ...]
    ) -> None:
        self.kind = kind  # "top", "virtual", "failover" or "server"
        self.name = name
        self.path = path
        self.lineno = lineno
        self.above = above
        self.values: dict[str, Any] = {}
        self.seen: dict[str, int] = {}  # keyword -> line it was (last) set on
        self.key_comments: dict[str, list[str]] | None = None
        self.end: tuple[str, ...] = ()
        self.children: list[Any] = []  # a virtual's servers; the file's virtuals
        self.inherited_port: list[str] | None = None  # servers given our port
        self.fast = FAST[kind]

    def comments(self) -> Comments:
        """The block's comment lines, as the model keeps them."""
        if not (self.above or self.key_comments or self.end):
            return NO_COMMENTS
        keys = tuple((k, tuple(v)) for k, v in (self.key_comments or {}).items())
        return Comments(above=self.above, keys=keys, end=self.end)
