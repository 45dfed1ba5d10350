"""parse(text) -> Config: read lvs.cf exactly as the original parser does.

Accepts what `lvsconfig.c` accepts, with the same meaning; rejects what it
rejects, with line, column, a precise message and a hint. Where the original
silently accepts a likely mistake, the meaning is kept and a warning says what
will really happen (warnings travel in `config.source` for `validate`).
Parsing never touches the network or the file system.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from .errors import ParseError, Path, Problem
from .gcpause import collector_paused
from .lexer import (
    QuoteError,
    Token,
    c_strtol,
    has_other_space,
    inet_aton,
    is_dotted_quad,
    is_plain_decimal,
    looks_like_hostname,
    split_lines,
    token_columns,
    tokenize,
)
from .model import NO_COMMENTS, Comments, Config, RealServer, Source, VirtualServer
from .suggest import other_space, unknown_keyword_hint
from .vocabulary import (
    DEFAULT_VIRTUAL_PORT,
    INT32_MAX,
    MAX_TOKENS,
    NETWORKS,
    PROTOCOLS,
    RESERVATION_CONFLICT_ACTIONS,
    SCHEDULERS,
    SERVICE_PORTS,
    SERVICES,
)

MAX_ERRORS = 50  # past this many, the rest of a broken file adds only noise

# The original's error texts (lvsStrerror), used verbatim so admins recognise them.
QUOTATION_MISMATCH = "quotation mismatch"
EQUAL_EXPECTED = "equal (=) expected after command"
MISSING_ARGS = "missing arguments"
EXTRA_ARGS = "unexpected arguments"
BAD_HOSTNAME = "invalid host name or ip address"
BAD_ARGUMENT = "invalid argument"
INT_EXPECTED = "integer expected"
BOOL_EXPECTED = "boolean expected"
BAD_COMMAND = "unknown command"
LIST_EXPECTED = "list expected"
BAD_NETMASK = "Bad subnet mask specified"


class _Fail(Exception):
    """A statement the original rejects: message, hint and the token at fault."""

    def __init__(self, message: str, hint: str | None = None, token: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.token = token


class _Statement:
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
        return self.quotes[index] if self.quotes is not None else ""

    def column(self, index: int) -> int:
        """1-based column of token `index` (or just past the last token)."""
        cols = token_columns(self.line)
        if index < len(cols):
            return cols[index]
        return len(self.line.rstrip(" \t")) + 2 if self.line.strip() else 1


class _Block:
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
        self.fast = _FAST[kind]

    def comments(self) -> Comments:
        if not (self.above or self.key_comments or self.end):
            return NO_COMMENTS
        keys = tuple((k, tuple(v)) for k, v in (self.key_comments or {}).items())
        return Comments(above=self.above, keys=keys, end=self.end)


def parse(text: str) -> Config:
    """Parse lvs.cf text into a Config; raise ParseError listing every error."""
    with collector_paused():
        return _Parser(text).run()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.keys: dict[Path, dict[str, int]] = {}
        self.openers: dict[Path, int] = {}
        self.repeats: dict[Path, list[int]] = {}
        self.top = _Block("top", "", (), 1, ())
        self.keys[()] = self.top.seen
        self.stack: list[_Block] = [self.top]
        self.pending: list[str] = []  # comment lines waiting for their statement
        self.header: list[str] = []
        self.started = False  # a statement has been read
        self.text_lines: list[str] = []
        self.failovers: list[VirtualServer] = []

    # --- driver ----------------------------------------------------------------------

    def run(self) -> Config:
        if self._reject_unreadable():
            raise ParseError(self.errors)
        lines, joined = split_lines(self.text)
        self.text_lines = lines
        for first, last in joined:
            self._joined_lines(first, last)
        if "\r" in self.text and not joined:
            self._warn(
                "the file has CR (Windows or old Mac) line ends",
                line=1,
                hint="the original splits lines on \\r first, so one stray \\r "
                "joins lines; `python -m lvscf fmt --write` rewrites it with LF",
            )
        self._lines(lines, has_other_space(self.text))
        self._finish()
        if self.errors:
            raise ParseError(self.errors)
        return self._config()

    def _lines(self, lines: list[str], slow: bool) -> None:
        # The hot loop (95,000 lines must parse in about 150 ms): a plain
        # `key = value` line is handled inline with one dict lookup and one
        # conversion (see _FAST), a GUI-layout server block with one regex match
        # that skips its lines; everything else (comments, repeats, odd values)
        # takes the general path. Long on purpose: calls cost more than the work.
        stack = self.stack
        pending = self.pending
        text = self.text
        whole_blocks = not slow and "\r" not in text  # then lines are text's lines
        count = len(lines)
        lineno = pos = 0
        while lineno < count:
            line = lines[lineno]
            lineno += 1
            start = pos
            pos += len(line) + 1
            if slow or '"' in line or "'" in line:
                quoted = None if slow or pending else _QUOTED_LINE.fullmatch(line)
                if quoted is not None:
                    block = stack[-1]
                    key = quoted.group(1)
                    if block.fast.get(key) is _fast_str and key not in block.seen:
                        block.seen[key] = lineno
                        block.values[key] = quoted.group(2)
                        continue
                self._line_exact(lineno, line)
                continue
            toks = line.split()
            size = len(toks)
            if size == 3 and not pending:
                if toks[1] == "=":
                    block = stack[-1]
                    key = toks[0]
                    convert = block.fast.get(key)
                    if convert is not None and key not in block.seen:
                        value = convert(toks[2])
                        if value is not _MISS:
                            block.seen[key] = lineno
                            block.values[key] = value
                            continue
                elif toks[0] == "server" and toks[2] == "{" and whole_blocks:
                    plain = _PLAIN_SERVER.match(text, start)
                    parent = stack[-1]
                    if (
                        plain is not None
                        and parent.kind in ("virtual", "failover")
                        and is_dotted_quad(plain.group(2))
                    ):
                        self._plain_server(parent, lineno, plain.groups())
                        pos = plain.end()
                        lineno += 5 if plain.group(4) is not None else 4
                        continue
                elif (
                    toks[2] == "{"
                    and stack[-1].kind == "top"
                    and (toks[0] == "virtual" or toks[0] == "failover")
                ):
                    self._enter(toks[0], toks[1], lineno)
                    continue
            elif (
                size == 4
                and toks[0] == "address"
                and toks[1] == "="
                and not pending
                and stack[-1].kind in ("virtual", "failover")
                and "address" not in stack[-1].seen
                and is_dotted_quad(toks[2])
            ):
                block = stack[-1]
                block.seen["address"] = block.seen["device"] = lineno
                block.values["address"] = toks[2]
                block.values["device"] = toks[3]
                continue
            elif size == 1 and toks[0] == "}" and not pending and len(stack) > 1:
                self._build(stack.pop())
                continue
            self._line_general(lineno, line, toks)
            if len(self.errors) >= MAX_ERRORS:
                return

    def _plain_server(
        self, parent: _Block, lineno: int, plain: tuple[str | None, ...]
    ) -> None:
        name, address, active, port, weight = plain
        assert name is not None and weight is not None
        self._opener(parent.path + ("server", name), lineno)
        if port is None:  # the virtual's port as it is now, as the original does
            port = str(parent.values.get("port", DEFAULT_VIRTUAL_PORT))
            if parent.inherited_port is None:
                parent.inherited_port = []
                parent.fast = _FAST_VIRTUAL_INHERITED
            parent.inherited_port.append(name)
        server = object.__new__(RealServer)  # see _new() for why not RealServer(...)
        object.__setattr__(
            server,
            "__dict__",
            {
                "name": name,
                "address": address,
                "active": active == "1",
                "port": int(port),
                "weight": int(weight),
                "comments": NO_COMMENTS,
            },
        )
        parent.children.append(server)

    def _line_general(self, lineno: int, line: str, toks: list[str]) -> None:
        truncated = len(toks) > MAX_TOKENS
        if truncated:
            del toks[MAX_TOKENS:]
        self._statement_or_comment(_Statement(lineno, line, toks, None, truncated))

    def _line_exact(self, lineno: int, line: str) -> None:
        stripped = line.lstrip(" \t")
        if stripped[:1] == "#":
            self._statement_or_comment(_Statement(lineno, line, ["#"], None))
            return
        try:
            tokens, truncated = tokenize(line)
        except QuoteError as exc:
            self._quote_error(lineno, line, exc)
            return
        self._check_other_space(lineno, tokens)
        quotes = [t.quote for t in tokens]
        st = _Statement(lineno, line, [t.text for t in tokens], quotes, truncated)
        self._statement_or_comment(st)

    def _statement_or_comment(self, st: _Statement) -> None:
        if not st.toks:
            if self.pending and not self.started:
                self.header.extend(self.pending)
                self.pending.clear()
            return
        if st.toks[0][:1] == "#" and st.quote(0) == "":
            self.pending.append(st.line.lstrip(" \t")[1:])
            return
        self.started = True
        try:
            self._statement(st)
        except _Fail as fail:
            self._error(
                fail.message,
                line=st.lineno,
                column=st.column(fail.token),
                hint=fail.hint,
            )

    def _reject_unreadable(self) -> bool:
        if self.text == "":
            self._error(
                "Empty configuration: the file is empty",
                line=1,
                column=1,
                hint="an lvs.cf needs at least the global settings and one "
                "active virtual server",
            )
            return True
        nul = self.text.find("\0")
        if nul >= 0:
            line = self.text.count("\n", 0, nul) + 1
            column = nul - (self.text.rfind("\n", 0, nul) + 1) + 1
            self._error(
                "the file contains a NUL byte: it is binary, not an lvs.cf",
                line=line,
                column=column,
                hint="the original parser stops reading at the first NUL byte",
            )
            return True
        return False

    def _quote_error(self, lineno: int, line: str, exc: QuoteError) -> None:
        rest = line[exc.column - 1 :].rstrip(" \t")
        hint = "close the quote on the same line"
        if len(rest) > 1 and rest[-1] == rest[0] and line.endswith((" ", "\t")):
            hint = (
                "remove the blanks after the closing quote: the original "
                "rejects them after a quoted value that has no space inside"
            )
        elif rest.count(rest[0]) >= 2:
            hint = (
                "a quoted value must end with its quote and stand alone: "
                "nothing may follow the closing quote"
            )
        self.pending.clear()
        self.started = True
        self._error(QUOTATION_MISMATCH, line=lineno, column=exc.column, hint=hint)

    def _check_other_space(self, lineno: int, tokens: list[Token]) -> None:
        for tok in tokens:
            for k, ch in enumerate(tok.text):
                if ch.isspace() and ch not in " \t" and not tok.quote:
                    self._warn(
                        f"U+{ord(ch):04X} ({_space_name(ch)}) is not a blank to "
                        f"lvs.cf: `{_short(tok.text)}` is one token",
                        line=lineno,
                        column=tok.column + k,
                        hint="replace it with an ordinary space",
                    )
                    return

    # --- statements ------------------------------------------------------------------

    def _statement(self, st: _Statement) -> None:
        block = self.stack[-1]
        key = st.toks[0]
        if block.kind != "top" and key == "}":
            self._close(st)
        elif block.kind == "foreign":
            self.pending.clear()  # the block was reported once; skip what it holds
            if st.toks[-1] == "{":
                self._push_foreign(st)
        elif block.kind == "top" and key in ("virtual", "failover"):
            self._open(st, key)
        elif block.kind in ("virtual", "failover") and key == "server":
            self._open(st, "server")  # a block the fast path did not take whole
        else:
            handler = _HANDLERS[block.kind].get(key)
            if handler is None:
                if st.toks[-1] == "{" and st.quote(len(st.toks) - 1) == "":
                    self._push_foreign(st)  # report it once, not every line inside
                raise _Fail(BAD_COMMAND, unknown_keyword_hint(block.kind, st.toks))
            if st.truncated:
                raise _Fail(EXTRA_ARGS, "a line has at most 99 tokens", MAX_TOKENS - 1)
            handler(self, block, st)

    def _push_foreign(self, st: _Statement) -> None:
        path = ("foreign", str(st.lineno))
        self.stack.append(_Block("foreign", st.toks[0], path, st.lineno, ()))

    def _open(self, st: _Statement, kind: str) -> None:
        toks = st.toks
        if len(toks) != 3 or toks[2] != "{":
            # Report it, but still enter the block so its lines do not cascade.
            message, hint, index = _opener_problem(toks, kind)
            self._error(message, hint, line=st.lineno, column=st.column(index))
            name = toks[1].rstrip("{") if len(toks) > 1 else ""
            name = name or "?"
        else:
            name = toks[1]
        self._enter(kind, name, st.lineno)

    def _enter(self, kind: str, name: str, lineno: int) -> None:
        parent = self.stack[-1]
        path: Path = (kind, name)
        if kind == "server":
            path = parent.path + path
        block = _Block(kind, name, path, lineno, tuple(self.pending))
        self.pending.clear()
        if kind == "server":
            block.values["port"] = parent.values.get("port", DEFAULT_VIRTUAL_PORT)
        self._opener(path, lineno)
        self.keys.setdefault(path, block.seen)
        self.stack.append(block)

    def _opener(self, path: Path, lineno: int) -> None:
        # With two blocks of one name, the first is the one tools find by name.
        if path in self.openers:
            self.repeats.setdefault(path, []).append(lineno)
        else:
            self.openers[path] = lineno

    def _close(self, st: _Statement) -> None:
        if len(st.toks) > 1 and self.stack[-1].kind != "foreign":
            self._warn(
                f"text after `}}` is ignored: `{_short(' '.join(st.toks[1:]))}`",
                line=st.lineno,
                column=st.column(1),
                hint="put it on a line of its own, or make it a `#` comment line",
            )
        block = self.stack.pop()
        block.end = tuple(self.pending)
        self.pending.clear()
        self._build(block)

    def _finish(self) -> None:
        while len(self.stack) > 1:
            block = self.stack[-1]
            if block.kind == "foreign":
                self.stack.pop()
                continue
            self._warn(
                f"`{block.kind} {block.name} {{` is never closed: the original "
                "closes it at the end of the file",
                line=block.lineno,
                column=1,
                path=block.path,
                hint="add the missing `}`",
            )
            block = self.stack.pop()
            block.end = tuple(self.pending)
            self.pending.clear()
            self._build(block)
        if not self.started:
            self.header.extend(self.pending)
            self.pending.clear()
        self.top.end = tuple(self.pending)
        self.top.above = tuple(self.header)

    def _build(self, block: _Block) -> None:
        parent = self.stack[-1]
        if block.kind == "foreign":
            return
        if block.kind == "server":
            parent.children.append(
                _new(
                    RealServer, block.values, name=block.name, comments=block.comments()
                )
            )
            if "port" not in block.seen:
                if parent.inherited_port is None:
                    parent.inherited_port = []
                    parent.fast = _FAST_VIRTUAL_INHERITED  # `port` needs the check
                parent.inherited_port.append(block.name)
            return
        vs = _new(
            VirtualServer,
            block.values,
            name=block.name,
            servers=tuple(block.children),
            comments=block.comments(),
        )
        (self.failovers if block.kind == "failover" else self.top.children).append(vs)

    def _config(self) -> Config:
        top = self.top
        self._private_copy_warning()
        source = Source(
            self.keys,
            self.openers,
            self.text_lines,
            tuple(self.warnings),
            self.repeats,
        )
        return Config(
            failover_services=tuple(self.failovers),
            virtual_servers=tuple(top.children),
            comments=top.comments(),
            source=source,
            **top.values,
        )

    def _private_copy_warning(self) -> None:
        seen = self.top.seen
        if (
            "primary" in seen
            and "primary_private" not in seen
            and "backup_private" in seen
        ):
            self._warn(
                "backup_private is replaced by backup: without primary_private the "
                "original copies both public addresses to the private ones",
                line=seen["backup_private"],
                path=("backup_private",),
                hint="set primary_private too, or remove backup_private",
            )

    # --- value helpers (called by the handlers) --------------------------------------

    def assign(
        self, block: _Block, st: _Statement, key: str, value: Any, field_: str = ""
    ) -> None:
        """Store a value, noting repeats and attaching pending comments."""
        previous = block.seen.get(key)
        if previous is not None:
            self._warn(
                f"`{key}` is set again (first on line {previous}): the last value wins",
                line=st.lineno,
                column=1,
                path=block.path + (key,),
                hint="remove one of the two lines",
            )
        block.seen[key] = st.lineno
        block.values[field_ or key] = value
        if self.pending:
            if block.key_comments is None:
                block.key_comments = {}
            block.key_comments.setdefault(key, []).extend(self.pending)
            self.pending.clear()

    def number(self, st: _Statement, index: int = 2) -> int:
        tok = st.toks[index]
        if is_plain_decimal(tok) and len(tok) < 19:
            value = int(tok)
            if value <= INT32_MAX:
                return value
        result = c_strtol(tok)
        if result is None:
            raise _Fail(INT_EXPECTED, _int_hint(tok), index)
        self._number_warnings(st, index, tok, result)
        return result

    def _number_warnings(
        self, st: _Statement, index: int, tok: str, value: int
    ) -> None:
        body = tok.lstrip("+-")
        decimal = body.lstrip("0") or "0"
        if tok == "":
            self.warn_at(st, index, "an empty value is read as 0", None)
        elif len(body) > 1 and body[0] == "0" and body[1] not in "xX":
            if decimal != str(abs(value)):  # `06` is 6 either way: nothing to say
                self.warn_at(
                    st,
                    index,
                    f"`{_short(tok)}` starts with 0, so it is octal: it is read as "
                    f"{value}",
                    f"write `{value}`, or `{_short(decimal)}` if you meant decimal",
                )
        elif str(value) != tok and body.isdigit():
            self.warn_at(
                st,
                index,
                f"`{_short(tok)}` does not fit a 32-bit integer: it is read as {value}",
                None,
            )

    def boolean(self, st: _Statement) -> bool:
        value = self.number(st)
        if value not in (0, 1):
            raise _Fail(BOOL_EXPECTED, "write 1 for yes or 0 for no", 2)
        return value == 1

    def port(self, st: _Statement) -> int:
        tok = st.toks[2]
        if c_strtol(tok) is not None:
            return self.number(st)
        if tok in SERVICE_PORTS:
            return SERVICE_PORTS[tok]
        raise _Fail(
            BAD_ARGUMENT,
            f"`{_short(tok)}` is neither a number nor a known service name: "
            "write the port number",
            2,
        )

    def host(self, st: _Statement, index: int = 2, nonzero: bool = False) -> str:
        tok = st.toks[index]
        address = inet_aton(tok)
        if address is not None:
            if nonzero and address == "0.0.0.0":
                raise _Fail(
                    BAD_HOSTNAME,
                    "0.0.0.0 is not allowed here: remove the line to leave it unset",
                    index,
                )
            if address != tok:
                self._warn(
                    f"`{tok}` is read as {address}",
                    line=st.lineno,
                    column=st.column(index),
                    hint=f"write `{address}`",
                )
            return address
        if looks_like_hostname(tok) and not tok.replace(".", "").isdigit():
            return tok  # resolved by the original at every parse; never by us
        raise _Fail(
            BAD_ARGUMENT,
            f"`{_short(tok)}` is not an IPv4 address or a host name",
            index,
        )

    def mask(self, st: _Statement, message: str) -> str | None:
        tok = st.toks[2]
        address = inet_aton(tok)
        if address is None:
            raise _Fail(message, f"`{_short(tok)}` is not a dotted netmask", 2)
        return None if address == "0.0.0.0" else address

    def quoted(self, st: _Statement, key: str) -> str:
        value, quote = st.toks[2], st.quote(2)
        if quote != "'":
            return value
        effect = {
            "send": "are sent to the real server too",
            "expect": "must appear in the reply too: it will never match",
            "send_program": "become part of the program name, which will not run",
        }.get(key, "are kept in the value")
        self._warn(
            f"`{key}` is single-quoted: lvsd strips only double quotes, so the "
            f"quote characters {effect}",
            line=st.lineno,
            column=st.column(2),
            path=self.stack[-1].path + (key,),
            hint=f'write `{key} = "{value}"`',
        )
        return f"'{value}'"

    # --- reporting -------------------------------------------------------------------

    def _error(
        self,
        message: str,
        hint: str | None = None,
        *,
        line: int,
        column: int | None = None,
        path: Path = (),
    ) -> None:
        self.errors.append(Problem("error", message, path, line, column, hint))

    def _warn(
        self,
        message: str,
        *,
        line: int,
        column: int | None = None,
        path: Path = (),
        hint: str | None = None,
    ) -> None:
        self.warnings.append(Problem("warning", message, path, line, column, hint))

    def warn_at(
        self, st: _Statement, index: int, message: str, hint: str | None
    ) -> None:
        path = self.stack[-1].path + (st.toks[0],)
        column = st.column(index)
        self._warn(message, line=st.lineno, column=column, path=path, hint=hint)

    def _joined_lines(self, first: int, last: int) -> None:
        self._error(
            f"lines {first}–{last} are read as one line: line {last} ends with a "
            "carriage return (\\r) and the lines before it do not",
            line=first,
            column=1,
            hint="use one kind of line end in the whole file "
            "(`python -m lvscf fmt --write` writes LF)",
        )


# --- argument checks (CHECK_EQUAL / CHECK_ARGS) --------------------------------------


def _check_equal(st: _Statement) -> None:
    toks = st.toks
    if len(toks) < 2 or toks[1] != "=":
        odd = other_space(st.line)
        if odd:
            hint = odd
        elif len(toks) >= 2 and toks[1].startswith("="):
            hint = f"write `{toks[0]} = {toks[1][1:]}`, with spaces around `=`"
        else:
            shown = " ".join(toks[1:2]) or "VALUE"
            hint = f"write `{toks[0]} = {_short(shown)}`, with spaces around `=`"
        raise _Fail(EQUAL_EXPECTED, hint, 1)


def _check_args(
    st: _Statement, count: int, example: str = "", text: bool = False
) -> None:
    _check_equal(st)
    toks = st.toks
    both = " (the IP address and the device)" if count == 2 else ""
    if len(toks) < count + 2:
        hint = f"write `{toks[0]} = {example}`{both}"
        raise _Fail(MISSING_ARGS, hint, len(toks))
    if len(toks) > count + 2:
        extra = toks[count + 2]
        if extra.startswith("#") and st.quote(count + 2) == "":
            hint = (
                "lvs.cf has no trailing comments: move "
                f"`{_short(' '.join(toks[count + 2 :]))}` to its own line"
            )
        elif count == 1 and text:
            hint = (
                "one value is expected; quote it if it contains spaces: "
                f'`{toks[0]} = "{_short(" ".join(toks[2:]))}"`'
            )
        elif count == 1:
            hint = f"one value is expected: `{toks[0]} = {toks[2]}`"
        else:
            hint = f"write `{toks[0]} = {example}`{both}"
        raise _Fail(EXTRA_ARGS, hint, count + 2)


def _opener_problem(toks: list[str], kind: str) -> tuple[str, str | None, int]:
    name = toks[1].rstrip("{") if len(toks) > 1 else "NAME"
    example = (
        f"write `{kind} {name or 'NAME'} {{` on one line, with a space before `{{`"
    )
    if len(toks) > 3:
        if toks[2] == "{":
            return (
                EXTRA_ARGS,
                "nothing may follow `{` on the line that opens a block",
                3,
            )
        return EXTRA_ARGS, example + " (quote a name that has spaces)", 2
    if len(toks) == 2 and toks[1].endswith("{"):
        return MISSING_ARGS, example, 1  # `virtual {` or `virtual web{`
    return MISSING_ARGS, example, min(len(toks), 2)


# --- handlers: one per keyword -------------------------------------------------------

Handler = Callable[[_Parser, _Block, _Statement], None]


def _int_key(key: str, unsigned: bool = False) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, "NUMBER")
        value = p.number(st)
        if unsigned and value < 0:
            value &= 0xFFFFFFFF
            p.warn_at(st, 2, f"`{st.toks[2]}` is read as {value}", None)
        p.assign(block, st, key, value)

    return handle


def _bool_key(key: str) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, "1")
        p.assign(block, st, key, p.boolean(st))

    return handle


def _str_key(key: str) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, "VALUE", text=True)
        p.assign(block, st, key, st.toks[2])

    return handle


def _quoted_key(key: str) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, '"VALUE"', text=True)
        value = p.quoted(st, key)
        if key == "send_program":
            _program_token_warning(p, st, value)
        p.assign(block, st, key, value)

    return handle


def _program_token_warning(p: _Parser, st: _Statement, value: str) -> None:
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
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, choices[0])
        value = st.toks[2]
        if value not in choices:
            raise _Fail(BAD_ARGUMENT, _choice_hint(value, choices, what), 2)
        p.assign(block, st, key, value)

    return handle


def _choice_hint(value: str, choices: tuple[str, ...], what: str) -> str:
    if value.lower() in choices:
        return f"values are case-sensitive: write `{value.lower()}`"
    listed = ", ".join(choices)
    if what == "scheduler" and value in ("sed", "nq", "fo", "ovf", "mh", "twos"):
        return (
            f"`{value}` is a kernel scheduler that lvs.cf cannot name (the original "
            f"parser rejects it); use one of {listed}"
        )
    return f"the {what} must be one of {listed}"


def _host_key(key: str, nonzero: bool = False, zero_is_unset: bool = False) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, "IP")
        value: str | None = p.host(st, nonzero=nonzero)
        if zero_is_unset and value == "0.0.0.0":
            value = None
        p.assign(block, st, key, value)

    return handle


def _address_key(key: str, device_field: str) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 2, "192.168.1.10 eth0:1")
        address = p.host(st)
        p.assign(block, st, key, address)
        block.values[device_field] = st.toks[3]
        block.seen[device_field] = st.lineno

    return handle


def _mask_key(key: str) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, "255.255.255.0")
        p.assign(block, st, key, p.mask(st, BAD_NETMASK))

    return handle


def _handle_sorry_server(p: _Parser, block: _Block, st: _Statement) -> None:
    _check_args(st, 1, "IP")
    address = inet_aton(st.toks[2])
    if address is None:
        raise _Fail(BAD_HOSTNAME, "the sorry server must be an IP address", 2)
    p.assign(block, st, "sorry_server", None if address == "0.0.0.0" else address)


def _handle_pmask(p: _Parser, block: _Block, st: _Statement) -> None:
    _check_args(st, 1, "255.255.255.0")
    address = inet_aton(st.toks[2])
    if address is None:
        p.warn_at(
            st,
            2,
            f"`{_short(st.toks[2])}` is not a netmask: the original ignores this line",
            "write a dotted netmask such as 255.255.255.0",
        )
        return
    unset = address in ("0.0.0.0", "255.255.255.255")  # all-ones is ipvsadm's default
    p.assign(block, st, "pmask", None if unset else address)


def _port_key(key: str) -> Handler:
    def handle(p: _Parser, block: _Block, st: _Statement) -> None:
        _check_args(st, 1, "80")
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


def _handle_server_port(p: _Parser, block: _Block, st: _Statement) -> None:
    _check_args(st, 1, "80")
    tok = st.toks[2]
    if c_strtol(tok) is None and tok in SERVICE_PORTS:
        raise _Fail(
            INT_EXPECTED,
            f"a real server's port must be a number: write `{SERVICE_PORTS[tok]}` "
            "(service names work only for the virtual's port)",
            2,
        )
    p.assign(block, st, "port", p.number(st))


def _handle_monitor_links(p: _Parser, block: _Block, st: _Statement) -> None:
    _check_args(st, 1, "1")
    value = p.number(st)
    if value not in (0, 1):
        p.warn_at(st, 2, f"monitor_links = {value} is read as on", "write 1")
    p.assign(block, st, "monitor_links", value != 0)


def _handle_dirs(p: _Parser, block: _Block, st: _Statement) -> None:
    _check_equal(st)
    toks = st.toks
    if len(toks) < 3 or toks[2] != "[" or "]" not in toks[3:]:
        raise _Fail(LIST_EXPECTED, "write `dirs = [ /first /second ]`", 2)
    close = toks.index("]", 3)
    if close + 1 < len(toks):
        p.warn_at(st, close + 1, "text after `]` is ignored", None)
    p.assign(block, st, "dirs", tuple(toks[3:close]))


def _handle_primary(p: _Parser, block: _Block, st: _Statement) -> None:
    _check_args(st, 1, "IP")
    p.assign(block, st, "primary", p.host(st, nonzero=True))


def _handle_private(key: str) -> Handler:
    return _host_key(key, nonzero=True)


_GLOBAL: dict[str, Handler] = {
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

_VIRTUAL: dict[str, Handler] = {
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

_SERVER: dict[str, Handler] = {
    "address": _host_key("address"),
    "active": _bool_key("active"),
    "weight": _int_key("weight"),
    "port": _handle_server_port,
}

_HANDLERS: dict[str, dict[str, Handler]] = {
    "top": _GLOBAL,
    "virtual": _VIRTUAL,
    "failover": _VIRTUAL,
    "server": _SERVER,
}

# --- the fast path: plain `key = value` lines that need no checks --------------------

# A whole server block in the GUI's layout with plain values: 96 % of the lines of
# a large file, taken in one regex match instead of six lines.
_PLAIN_SERVER = re.compile(
    r"[ \t]*server[ \t]+([^\s\"'{}#=]+)[ \t]+\{[ \t]*\n"
    r"[ \t]*address[ \t]+=[ \t]+([0-9.]{7,15})[ \t]*\n"
    r"[ \t]*active[ \t]+=[ \t]+([01])[ \t]*\n"
    r"(?:[ \t]*port[ \t]+=[ \t]+(0|[1-9][0-9]{0,8})[ \t]*\n)?"  # GUI: if set
    r"[ \t]*weight[ \t]+=[ \t]+(0|[1-9][0-9]{0,8})[ \t]*\n"
    r"[ \t]*\}[ \t]*(?:\n|\Z)",
)

# `key = "value"` with nothing after the closing quote, the usual send/expect line.
_QUOTED_LINE = re.compile(r'[ \t]*([a-z_]+)[ \t]+=[ \t]+"([^"]*)"')

_MISS = object()  # "not a plain value: take the general path"
FastConvert = Callable[[str], Any]


def _fast_int(v: str) -> Any:
    if v.isdigit() and v.isascii() and len(v) < 10 and (v[0] != "0" or v == "0"):
        return int(v)
    return _MISS


def _fast_bool(v: str) -> Any:
    return True if v == "1" else False if v == "0" else _MISS


def _fast_host(v: str) -> Any:
    return v if is_dotted_quad(v) else _MISS


def _fast_mask(v: str) -> Any:
    return v if v != "0.0.0.0" and is_dotted_quad(v) else _MISS


def _fast_str(v: str) -> Any:
    return v


def _fast_enum(choices: tuple[str, ...]) -> FastConvert:
    allowed = frozenset(choices)
    return lambda v: v if v in allowed else _MISS


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
        _fast_str,
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
        _fast_str,
    ),
    "vip_nmask": _fast_mask,
    "protocol": _fast_enum(PROTOCOLS),
    "scheduler": _fast_enum(SCHEDULERS),
}
_FAST_VIRTUAL["port"] = _fast_int  # a plain number; names take the general path
_FAST_VIRTUAL_INHERITED = {k: v for k, v in _FAST_VIRTUAL.items() if k != "port"}
_FAST_SERVER: dict[str, FastConvert] = {
    "address": _fast_host,
    "active": _fast_bool,
    "weight": _fast_int,
    "port": _fast_int,
}
_FAST = {
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


def _new(cls: type[_T], values: dict[str, Any], **extra: Any) -> _T:
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


def _int_hint(tok: str) -> str:
    body = tok.lstrip("+-")
    if body[:1] == "0" and body.isdigit():
        return (
            f"a leading 0 makes `{tok}` octal, and 8 and 9 are not octal digits: "
            f"write `{_short(body.lstrip('0') or '0')}`"
        )
    if body.lower() in ("yes", "no", "true", "false", "on", "off"):
        return "write 1 for yes or 0 for no"
    return f"`{_short(tok)}` is not a whole number"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _space_name(ch: str) -> str:
    return {"\xa0": "no-break space", "\v": "vertical tab", "\f": "form feed"}.get(
        ch, "a space character"
    )
