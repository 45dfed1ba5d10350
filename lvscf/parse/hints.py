"""The original's error texts, and the hints that say what to write instead.

`check_equal` and `check_args` are the original's CHECK_EQUAL / CHECK_ARGS: they
raise `Fail` with the original's message, the token at fault and a hint.
"""

from __future__ import annotations

from ..suggest import other_space
from .lines import Statement

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


class Fail(Exception):
    """A statement the original rejects: message, hint and the token at fault."""

    def __init__(self, message: str, hint: str | None = None, token: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.token = token


# --- argument checks (CHECK_EQUAL / CHECK_ARGS) --------------------------------------


def check_equal(st: Statement) -> None:
    """Fail unless the statement's second token is `=`."""
    toks = st.toks
    if len(toks) < 2 or toks[1] != "=":
        odd = other_space(st.line)
        if odd:
            hint = odd
        elif len(toks) >= 2 and toks[1].startswith("="):
            hint = f"write `{toks[0]} = {toks[1][1:]}`, with spaces around `=`"
        else:
            shown = " ".join(toks[1:2]) or "VALUE"
            hint = f"write `{toks[0]} = {short(shown)}`, with spaces around `=`"
        raise Fail(EQUAL_EXPECTED, hint, 1)


def check_args(
    st: Statement, count: int, example: str = "", text: bool = False
) -> None:
    """Fail unless the statement is `key = ` and exactly `count` values."""
    check_equal(st)
    toks = st.toks
    both = " (the IP address and the device)" if count == 2 else ""
    if len(toks) < count + 2:
        hint = f"write `{toks[0]} = {example}`{both}"
        raise Fail(MISSING_ARGS, hint, len(toks))
    if len(toks) > count + 2:
        raise Fail(EXTRA_ARGS, _extra_hint(st, count, example, text), count + 2)


def _extra_hint(st: Statement, count: int, example: str, text: bool) -> str:
    toks = st.toks
    extra = toks[count + 2]
    if extra.startswith("#") and st.quote(count + 2) == "":
        return (
            "lvs.cf has no trailing comments: move "
            f"`{short(' '.join(toks[count + 2 :]))}` to its own line"
        )
    if count == 1 and text:
        return (
            "one value is expected; quote it if it contains spaces: "
            f'`{toks[0]} = "{short(" ".join(toks[2:]))}"`'
        )
    if count == 1:
        return f"one value is expected: `{toks[0]} = {toks[2]}`"
    both = " (the IP address and the device)" if count == 2 else ""
    return f"write `{toks[0]} = {example}`{both}"


def opener_problem(toks: list[str], kind: str) -> tuple[str, str | None, int]:
    """What is wrong with a `virtual NAME {` line: message, hint, token index."""
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


# --- hints for values ----------------------------------------------------------------


def choice_hint(value: str, choices: tuple[str, ...], what: str) -> str:
    """Why `value` is not one of `choices` (case, a scheduler lvs.cf cannot name)."""
    if value.lower() in choices:
        return f"values are case-sensitive: write `{value.lower()}`"
    listed = ", ".join(choices)
    if what == "scheduler" and value in ("sed", "nq", "fo", "ovf", "mh", "twos"):
        return (
            f"`{value}` is a kernel scheduler that lvs.cf cannot name (the original "
            f"parser rejects it); use one of {listed}"
        )
    return f"the {what} must be one of {listed}"


def int_hint(tok: str) -> str:
    """Why `tok` is not an integer to the original (octal 8/9, yes/no, text)."""
    body = tok.lstrip("+-")
    if body[:1] == "0" and body.isdigit():
        return (
            f"a leading 0 makes `{tok}` octal, and 8 and 9 are not octal digits: "
            f"write `{short(body.lstrip('0') or '0')}`"
        )
    if body.lower() in ("yes", "no", "true", "false", "on", "off"):
        return "write 1 for yes or 0 for no"
    return f"`{short(tok)}` is not a whole number"


def short(text: str, limit: int = 40) -> str:
    """`text` cut to `limit` characters for a message, with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def space_name(ch: str) -> str:
    """The name of a whitespace character that is not a blank to lvs.cf."""
    return {"\xa0": "no-break space", "\v": "vertical tab", "\f": "form feed"}.get(
        ch, "a space character"
    )
