"""Reading one value of a statement: numbers, booleans, ports, addresses, quotes.

`Reader` holds what the keyword handlers need from the parser: the blocks being
read, the comment lines waiting for a statement, and the problems found so far.
It reads values as the original does (C `strtol` numbers, `inet_aton`
addresses, service names for ports) and warns where the meaning is surprising.
"""

from __future__ import annotations

from typing import Any

from ..errors import Path, Problem
from ..lexer import c_strtol, inet_aton, is_plain_decimal, looks_like_hostname
from ..vocabulary import INT32_MAX, SERVICE_PORTS
from .hints import (
    BAD_ARGUMENT,
    BAD_HOSTNAME,
    BOOL_EXPECTED,
    INT_EXPECTED,
    Fail,
    int_hint,
    short,
)
from .lines import Block, Statement


class Reader:
    """The parser's state as the keyword handlers see it, and its value readers."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.stack: list[Block] = []  # the file, then the blocks open inside it
        self.pending: list[str] = []  # comment lines waiting for their statement

    # --- value helpers (called by the handlers) --------------------------------------

    def assign(self, block: Block, st: Statement, key: str, value: Any) -> None:
        """Store a value, noting repeats and attaching pending comments."""
        previous = block.seen.get(key)
        if previous is not None:
            self.warn(
                f"`{key}` is set again (first on line {previous}): the last value wins",
                line=st.lineno,
                column=1,
                path=block.path + (key,),
                hint="remove one of the two lines",
            )
        block.seen[key] = st.lineno
        block.values[key] = value
        if self.pending:
            if block.key_comments is None:
                block.key_comments = {}
            block.key_comments.setdefault(key, []).extend(self.pending)
            self.pending.clear()

    def number(self, st: Statement, index: int = 2) -> int:
        """Token `index` as the original's strtol reads it (octal, hex, wrapped)."""
        tok = st.toks[index]
        if is_plain_decimal(tok) and len(tok) < 19:
            value = int(tok)
            if value <= INT32_MAX:
                return value
        result = c_strtol(tok)
        if result is None:
            raise Fail(INT_EXPECTED, int_hint(tok), index)
        self._number_warnings(st, index, tok, result)
        return result

    def _number_warnings(self, st: Statement, index: int, tok: str, value: int) -> None:
        body = tok.lstrip("+-")
        decimal = body.lstrip("0") or "0"
        if tok == "":
            self.warn_at(st, index, "an empty value is read as 0", None)
        elif len(body) > 1 and body[0] == "0" and body[1] not in "xX":
            if decimal != str(abs(value)):  # `06` is 6 either way: nothing to say
                self.warn_at(
                    st,
                    index,
                    f"`{short(tok)}` starts with 0, so it is octal: it is read as "
                    f"{value}",
                    f"write `{value}`, or `{short(decimal)}` if you meant decimal",
                )
        elif str(value) != tok and body.isdigit():
            self.warn_at(
                st,
                index,
                f"`{short(tok)}` does not fit a 32-bit integer: it is read as {value}",
                None,
            )

    def boolean(self, st: Statement) -> bool:
        """The value as 0 or 1; any other number is an error, as in the original."""
        value = self.number(st)
        if value not in (0, 1):
            raise Fail(BOOL_EXPECTED, "write 1 for yes or 0 for no", 2)
        return value == 1

    def port(self, st: Statement) -> int:
        """The value as a port: a number, or a known service name (`http`)."""
        tok = st.toks[2]
        if c_strtol(tok) is not None:
            return self.number(st)
        if tok in SERVICE_PORTS:
            return SERVICE_PORTS[tok]
        raise Fail(
            BAD_ARGUMENT,
            f"`{short(tok)}` is neither a number nor a known service name: "
            "write the port number",
            2,
        )

    def host(self, st: Statement, index: int = 2, nonzero: bool = False) -> str:
        """Token `index` as an address (inet_aton shorthands) or a host name."""
        tok = st.toks[index]
        address = inet_aton(tok)
        if address is not None:
            if nonzero and address == "0.0.0.0":
                raise Fail(
                    BAD_HOSTNAME,
                    "0.0.0.0 is not allowed here: remove the line to leave it unset",
                    index,
                )
            if address != tok:
                self.warn(
                    f"`{tok}` is read as {address}",
                    line=st.lineno,
                    column=st.column(index),
                    hint=f"write `{address}`",
                )
            return address
        if looks_like_hostname(tok) and not tok.replace(".", "").isdigit():
            return tok  # resolved by the original at every parse; never by us
        raise Fail(
            BAD_ARGUMENT,
            f"`{short(tok)}` is not an IPv4 address or a host name",
            index,
        )

    def mask(self, st: Statement, message: str) -> str | None:
        """The value as a dotted netmask; 0.0.0.0 means unset (None)."""
        tok = st.toks[2]
        address = inet_aton(tok)
        if address is None:
            raise Fail(message, f"`{short(tok)}` is not a dotted netmask", 2)
        return None if address == "0.0.0.0" else address

    def quoted(self, st: Statement, key: str) -> str:
        """A quote-keeping value: single quotes stay in it, with a warning."""
        value, quote = st.toks[2], st.quote(2)
        if quote != "'":
            return value
        effect = {
            "send": "are sent to the real server too",
            "expect": "must appear in the reply too: it will never match",
            "send_program": "become part of the program name, which will not run",
        }.get(key, "are kept in the value")
        self.warn(
            f"`{key}` is single-quoted: lvsd strips only double quotes, so the "
            f"quote characters {effect}",
            line=st.lineno,
            column=st.column(2),
            path=self.stack[-1].path + (key,),
            hint=f'write `{key} = "{value}"`',
        )
        return f"'{value}'"

    # --- reporting -------------------------------------------------------------------

    def error(
        self,
        message: str,
        hint: str | None = None,
        *,
        line: int,
        column: int | None = None,
        path: Path = (),
    ) -> None:
        """Record an error: the file will not be accepted."""
        self.errors.append(Problem("error", message, path, line, column, hint))

    def warn(
        self,
        message: str,
        *,
        line: int,
        column: int | None = None,
        path: Path = (),
        hint: str | None = None,
    ) -> None:
        """Record a warning (the statement is read; the meaning may surprise)."""
        self.warnings.append(Problem("warning", message, path, line, column, hint))

    def warn_at(
        self, st: Statement, index: int, message: str, hint: str | None
    ) -> None:
        """Warn about token `index` of the statement, in the current block."""
        path = self.stack[-1].path + (st.toks[0],)
        column = st.column(index)
        self.warn(message, line=st.lineno, column=column, path=path, hint=hint)
