"""The parser's driver: split the text into lines, read them, build the Config.

The hot loop (`Parser._lines`) takes the fast path (see `fast`) for plain lines
and whole GUI-layout server blocks; every other line is tokenized exactly as
the original does and goes to its keyword's handler (see `handlers`).
"""

from __future__ import annotations

from ..errors import ParseError, Path
from ..gcpause import collector_paused
from ..lexer import QuoteError, has_other_space, is_dotted_quad, split_lines, tokenize
from ..model import NO_COMMENTS, Config, RealServer, Source, VirtualServer
from ..suggest import unknown_keyword_hint
from ..vocabulary import DEFAULT_VIRTUAL_PORT, MAX_TOKENS
from . import problems
from .fast import (
    FAST_VIRTUAL_INHERITED,
    MISS,
    PLAIN_SERVER,
    QUOTED_LINE,
    fast_str,
    new_block,
)
from .handlers import HANDLERS
from .hints import BAD_COMMAND, EXTRA_ARGS, Fail, opener_problem, short
from .lines import Block, Statement
from .values import Reader

MAX_ERRORS = 50  # past this many, the rest of a broken file adds only noise


def parse(text: str) -> Config:
    """Parse lvs.cf text into a Config; raise ParseError listing every error."""
    with collector_paused():
        return Parser(text).run()


class Parser(Reader):
    """Reads one text; `run` returns its Config or raises ParseError."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.keys: dict[Path, dict[str, int]] = {}
        self.openers: dict[Path, int] = {}
        self.repeats: dict[Path, list[int]] = {}
        self.top = Block("top", "", (), 1, ())
        self.keys[()] = self.top.seen
        self.stack.append(self.top)
        self.header: list[str] = []
        self.started = False  # a statement has been read
        self.text_lines: list[str] = []
        self.failovers: list[VirtualServer] = []

    # --- driver ----------------------------------------------------------------------

    def run(self) -> Config:
        """Read the whole text; return its Config or raise ParseError."""
        unreadable = problems.unreadable(self.text)
        if unreadable is not None:
            raise ParseError([unreadable])
        lines, joined = split_lines(self.text)
        self.text_lines = lines
        self.errors.extend(problems.joined_lines(*pair) for pair in joined)
        if "\r" in self.text and not joined:
            self.warnings.append(problems.cr_line_ends())
        self._lines(lines, has_other_space(self.text))
        self._finish()
        if self.errors:
            raise ParseError(self.errors)
        return self._config()

    def _lines(self, lines: list[str], slow: bool) -> None:
        # The hot loop (95,000 lines must parse in about 150 ms): a plain
        # `key = value` line is handled inline with one dict lookup and one
        # conversion (see fast.FAST), a GUI-layout server block with one regex match
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
                quoted = None if slow or pending else QUOTED_LINE.fullmatch(line)
                if quoted is not None:
                    block = stack[-1]
                    key = quoted.group(1)
                    if block.fast.get(key) is fast_str and key not in block.seen:
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
                        if value is not MISS:
                            block.seen[key] = lineno
                            block.values[key] = value
                            continue
                elif toks[0] == "server" and toks[2] == "{" and whole_blocks:
                    plain = PLAIN_SERVER.match(text, start)
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
        self, parent: Block, lineno: int, plain: tuple[str | None, ...]
    ) -> None:
        name, address, active, port, weight = plain
        assert name is not None and weight is not None
        self._opener(parent.path + ("server", name), lineno)
        if port is None:  # the virtual's port as it is now, as the original does
            port = str(parent.values.get("port", DEFAULT_VIRTUAL_PORT))
            if parent.inherited_port is None:
                parent.inherited_port = []
                parent.fast = FAST_VIRTUAL_INHERITED
            parent.inherited_port.append(name)
        server = object.__new__(
            RealServer
        )  # see new_block() for why not RealServer(...)
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
        self._statement_or_comment(Statement(lineno, line, toks, None, truncated))

    def _line_exact(self, lineno: int, line: str) -> None:
        stripped = line.lstrip(" \t")
        if stripped[:1] == "#":
            self._statement_or_comment(Statement(lineno, line, ["#"], None))
            return
        try:
            tokens, truncated = tokenize(line)
        except QuoteError as exc:
            self.pending.clear()
            self.started = True
            self.errors.append(problems.quotation_mismatch(lineno, line, exc))
            return
        odd = problems.other_space(lineno, tokens)
        if odd is not None:
            self.warnings.append(odd)
        quotes = [t.quote for t in tokens]
        st = Statement(lineno, line, [t.text for t in tokens], quotes, truncated)
        self._statement_or_comment(st)

    def _statement_or_comment(self, st: Statement) -> None:
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
        except Fail as fail:
            self.error(
                fail.message,
                line=st.lineno,
                column=st.column(fail.token),
                hint=fail.hint,
            )

    # --- statements ------------------------------------------------------------------

    def _statement(self, st: Statement) -> None:
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
            handler = HANDLERS[block.kind].get(key)
            if handler is None:
                if st.toks[-1] == "{" and st.quote(len(st.toks) - 1) == "":
                    self._push_foreign(st)  # report it once, not every line inside
                raise Fail(BAD_COMMAND, unknown_keyword_hint(block.kind, st.toks))
            if st.truncated:
                raise Fail(EXTRA_ARGS, "a line has at most 99 tokens", MAX_TOKENS - 1)
            handler(self, block, st)

    def _push_foreign(self, st: Statement) -> None:
        path = ("foreign", str(st.lineno))
        self.stack.append(Block("foreign", st.toks[0], path, st.lineno, ()))

    def _open(self, st: Statement, kind: str) -> None:
        toks = st.toks
        if len(toks) != 3 or toks[2] != "{":
            # Report it, but still enter the block so its lines do not cascade.
            message, hint, index = opener_problem(toks, kind)
            self.error(message, hint, line=st.lineno, column=st.column(index))
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
        block = Block(kind, name, path, lineno, tuple(self.pending))
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

    def _close(self, st: Statement) -> None:
        if len(st.toks) > 1 and self.stack[-1].kind != "foreign":
            self.warn(
                f"text after `}}` is ignored: `{short(' '.join(st.toks[1:]))}`",
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
            self.warn(
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

    def _build(self, block: Block) -> None:
        parent = self.stack[-1]
        if block.kind == "foreign":
            return
        if block.kind == "server":
            parent.children.append(
                new_block(
                    RealServer, block.values, name=block.name, comments=block.comments()
                )
            )
            if "port" not in block.seen:
                if parent.inherited_port is None:
                    parent.inherited_port = []
                    parent.fast = FAST_VIRTUAL_INHERITED  # `port` needs the check
                parent.inherited_port.append(block.name)
            return
        vs = new_block(
            VirtualServer,
            block.values,
            name=block.name,
            servers=tuple(block.children),
            comments=block.comments(),
        )
        (self.failovers if block.kind == "failover" else self.top.children).append(vs)

    def _config(self) -> Config:
        top = self.top
        copied = problems.private_copy(top.seen)
        if copied is not None:
            self.warnings.append(copied)
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
