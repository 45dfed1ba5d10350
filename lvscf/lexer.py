"""The original parser's lexical rules: lines, tokens, C integers and inet_aton.

Everything here reproduces `lvsconfig.c` behaviour byte for byte where a file
depends on it (see the reference's section 1), including its quirks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocabulary import INT32_MIN, LONG_MAX, LONG_MIN, MAX_TOKENS

BLANKS = " \t"  # isblank(): the only token separators

# Characters that str.split() treats as whitespace but the C parser does not
# (a non-breaking space, a vertical tab, ...). When a file has none, the fast
# path may use str.split(); otherwise lines fall back to the exact tokenizer.
_OTHER_SPACE = re.compile(r"[^\S \t\r\n]")


def has_other_space(text: str) -> bool:
    """True when `text` holds whitespace that is not a C blank (U+00A0, \\v, ...)."""
    if text.isascii():  # a quick answer for the common case: a few C-level scans
        return any(ch in text for ch in "\v\f\x1c\x1d\x1e\x1f")
    return _OTHER_SPACE.search(text) is not None


@dataclass(frozen=True)
class Token:
    """One token of a line: its text (quotes removed), quote char and column."""

    text: str
    quote: str  # '"', "'" or ""
    column: int  # 1-based


class QuoteError(Exception):
    """A quoted token does not end in its quote ("quotation mismatch")."""

    def __init__(self, column: int, tokens: list[Token]) -> None:
        super().__init__(column)
        self.column = column
        self.tokens = tokens


def tokenize(line: str) -> tuple[list[Token], bool]:
    """Split one line as tokenizeString() does; return (tokens, truncated).

    A token that starts with a quote runs to the next same quote found at or
    after the first blank following the token start, which is the C code's
    search; `truncated` is True when text remained after 99 tokens (the
    original silently drops it).
    """
    tokens: list[Token] = []
    n = len(line)
    i = _skip_blanks(line, 0)
    while i < n and len(tokens) < MAX_TOKENS:
        end = _first_blank(line, i)
        quote = line[i] if line[i] in "\"'" else ""
        if not quote:
            tokens.append(Token(line[i:end], "", i + 1))
        else:
            start = i + 1
            found = line.find(quote, end)
            end = n if found < 0 else found + 1
            if end <= start or line[end - 1] != quote:
                raise QuoteError(i + 1, tokens)
            tokens.append(Token(line[start : end - 1], quote, i + 1))
        i = _skip_blanks(line, end)
    return tokens, i < n


def token_columns(line: str) -> list[int]:
    """1-based columns of the tokens of `line` (up to a quoting error)."""
    try:
        tokens, _ = tokenize(line)
    except QuoteError as exc:
        return [t.column for t in exc.tokens] + [exc.column]
    return [t.column for t in tokens]


_NON_BLANK = re.compile(r"[^ \t]")
_BLANK = re.compile(r"[ \t]")


def _skip_blanks(line: str, i: int) -> int:
    found = _NON_BLANK.search(line, i)
    return found.start() if found else len(line)


def _first_blank(line: str, i: int) -> int:
    found = _BLANK.search(line, i)
    return found.start() if found else len(line)


def split_lines(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Cut `text` into lines as getNextToks() finds them (line N is item N-1).

    The original looks for the next `\\r` anywhere in the rest of the file
    before it looks for `\\n`, so CRLF and CR-only files work, but a `\\r` after
    LF-only lines joins all of them into one line. Returns the lines and the
    joined runs as (first line, last line) so the caller can report them; the
    lines of a joined run are still returned one by one.
    """
    if "\r" not in text:
        return text.split("\n"), []
    lines: list[str] = []
    joined: list[tuple[int, int]] = []
    pos, n = 0, len(text)
    while pos < n:
        cr = text.find("\r", pos)
        if cr < 0:
            lines.extend(text[pos:].split("\n"))
            return lines, joined
        parts = text[pos:cr].split("\n")
        if len(parts) > 1:
            joined.append((len(lines) + 1, len(lines) + len(parts)))
        lines.extend(parts)
        pos = cr + 1
        if pos < n and text[pos] == "\n":
            pos += 1  # CRLF: the "\n" is an empty line to the original
    return lines, joined


# --- numbers -------------------------------------------------------------------------

_DIGITS = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def c_strtol(token: str) -> int | None:
    """The value getNum() stores for `token`: strtol(tok, &end, 0) cast to int.

    Returns None where the original says "integer expected" (text after the
    digits). Leading zeros mean octal and `0x` hex; an empty token is 0; values
    beyond a C long clamp, then wrap to 32 bits as the cast does.
    """
    s = token.lstrip(" \t\n\v\f\r")
    if not s:
        return 0 if token == "" else None
    i, sign = 0, 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        i = 1
    base = 10
    if s[i : i + 2] in ("0x", "0X") and s[i + 2 : i + 3] and s[i + 2] in _DIGITS[16]:
        base, i = 16, i + 2
    elif s[i : i + 1] == "0":
        base = 8
    digits = _DIGITS[base]
    j = i
    while j < len(s) and s[j] in digits:
        j += 1
    if j == i:  # no digits at all: endptr = nptr, so "*end" is the token itself
        return None
    if j != len(s):
        return None
    digits_text = s[i:j].lstrip("0")
    if base == 10 and len(digits_text) > 19:  # beyond a C long: strtol clamps
        value = sign * (LONG_MAX + 1)
    else:
        value = sign * int(s[i:j], base)
    value = min(max(value, LONG_MIN), LONG_MAX)
    return to_int32(value)


def to_int32(value: int) -> int:
    """Wrap like a C cast from long to int."""
    return ((value - INT32_MIN) % 2**32) + INT32_MIN


def is_plain_decimal(token: str) -> bool:
    """True for tokens that read the same in C and in everyday decimal."""
    return token.isdigit() and token.isascii() and (token[0] != "0" or token == "0")


# --- addresses -----------------------------------------------------------------------


_C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale


_DOTTED = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
)
is_dotted_quad = _DOTTED.fullmatch


def inet_aton(token: str) -> str | None:
    """glibc inet_aton(): the dotted quad `token` denotes, or None.

    Accepts the classic shorthands (`10.1` is 10.0.0.1, `0x7f.1` is 127.0.0.1,
    leading zeros are octal) and, like glibc, ignores anything after a space.
    """
    if _DOTTED.fullmatch(token):
        return token
    cut = len(token)
    for k, ch in enumerate(token):
        if ch in _C_SPACE:
            cut = k
            break
    parts = token[:cut].split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _c_strtoul_part(part)
        if value is None:
            return None
        values.append(value)
    return _pack_aton(values)


def _c_strtoul_part(part: str) -> int | None:
    if not part or not part[0].isdigit():
        return None
    if part[:2] in ("0x", "0X"):
        body, base = part[2:], 16
        if body == "":
            return None  # strtoul stops after "0": the "x" is trailing junk
    elif part[0] == "0":
        body, base = part, 8
    else:
        body, base = part, 10
    if any(ch not in _DIGITS[base] for ch in body):
        return None
    if len(body.lstrip("0")) > 12:
        return 1 << 40  # too large for any part of an address
    return int(body, base) if body else 0


def _pack_aton(values: list[int]) -> str | None:
    *head, last = values
    if any(v > 0xFF for v in head):
        return None
    if last >= 1 << (8 * (4 - len(head))):
        return None
    number = last
    for k, v in enumerate(head):
        number |= v << (24 - 8 * k)
    return ".".join(str((number >> s) & 0xFF) for s in (24, 16, 8, 0))


_HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?")


def looks_like_hostname(token: str) -> bool:
    """A name gethostbyname() could resolve (checked by syntax only: no DNS)."""
    return len(token) <= 253 and _HOSTNAME.fullmatch(token) is not None
