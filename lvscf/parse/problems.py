"""Problems with the file as a whole rather than with one keyword's value.

Each function returns the `Problem` to report (or None when there is nothing to
say); the driver decides where it goes.
"""

from __future__ import annotations

from ..errors import Problem
from ..lexer import QuoteError, Token
from .hints import QUOTATION_MISMATCH, short, space_name


def unreadable(text: str) -> Problem | None:
    """An empty file, or one with a NUL byte: not an lvs.cf at all."""
    if text == "":
        return Problem(
            "error",
            "Empty configuration: the file is empty",
            line=1,
            column=1,
            hint="an lvs.cf needs at least the global settings and one "
            "active virtual server",
        )
    nul = text.find("\0")
    if nul >= 0:
        return Problem(
            "error",
            "the file contains a NUL byte: it is binary, not an lvs.cf",
            line=text.count("\n", 0, nul) + 1,
            column=nul - (text.rfind("\n", 0, nul) + 1) + 1,
            hint="the original parser stops reading at the first NUL byte",
        )
    return None


def joined_lines(first: int, last: int) -> Problem:
    """Lines `first`..`last` that a stray carriage return joins into one."""
    return Problem(
        "error",
        f"lines {first}–{last} are read as one line: line {last} ends with a "
        "carriage return (\\r) and the lines before it do not",
        line=first,
        column=1,
        hint="use one kind of line end in the whole file "
        "(`python -m lvscf fmt --write` writes LF)",
    )


def cr_line_ends() -> Problem:
    """A file whose lines all end in CR or CRLF: read fine, but fragile."""
    return Problem(
        "warning",
        "the file has CR (Windows or old Mac) line ends",
        line=1,
        hint="the original splits lines on \\r first, so one stray \\r "
        "joins lines; `python -m lvscf fmt --write` rewrites it with LF",
    )


def quotation_mismatch(lineno: int, line: str, exc: QuoteError) -> Problem:
    """The original's "quotation mismatch", with the likely cause as the hint."""
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
    return Problem(
        "error", QUOTATION_MISMATCH, line=lineno, column=exc.column, hint=hint
    )


def other_space(lineno: int, tokens: list[Token]) -> Problem | None:
    """The first unquoted whitespace that is not a blank to lvs.cf, if any."""
    for tok in tokens:
        for k, ch in enumerate(tok.text):
            if ch.isspace() and ch not in " \t" and not tok.quote:
                return Problem(
                    "warning",
                    f"U+{ord(ch):04X} ({space_name(ch)}) is not a blank to "
                    f"lvs.cf: `{short(tok.text)}` is one token",
                    line=lineno,
                    column=tok.column + k,
                    hint="replace it with an ordinary space",
                )
    return None


def private_copy(seen: dict[str, int]) -> Problem | None:
    """backup_private set where the original overwrites it with backup."""
    if "primary" in seen and "primary_private" not in seen and "backup_private" in seen:
        return Problem(
            "warning",
            "backup_private is replaced by backup: without primary_private the "
            "original copies both public addresses to the private ones",
            ("backup_private",),
            line=seen["backup_private"],
            hint="set primary_private too, or remove backup_private",
        )
    return None
