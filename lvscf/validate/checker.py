"""The validator's state: the configuration, the problems found, field checks.

`Checker.add` pins a problem to the line of its field when the configuration
came from `parse`; the field checks (`address`, `device`, `port`, `enum`,
`block_name`) are shared by the rules for every block.
"""

from __future__ import annotations

from ..errors import Path, Problem, Severity
from ..model import Config
from ..vocabulary import IFNAMSIZ, PORT_MAX, PORT_MIN
from .fields import bad_name, is_device, is_ipv4


class Checker:
    """One run of `validate` over one configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.problems: list[Problem] = []

    def add(
        self,
        severity: Severity,
        path: Path,
        message: str,
        hint: str | None = None,
        nth: int = 0,
    ) -> None:
        """Record a problem; `nth` picks the n-th of several blocks of one name."""
        line = column = None
        source = self.config.source
        if source is not None:
            lines = source.opener_lines(path)
            if nth and nth < len(lines):
                line, column = lines[nth], source.column(lines[nth], 1)
            else:
                found = source.position(path)
                if found is not None:
                    line, column = found
        self.problems.append(Problem(severity, message, path, line, column, hint))

    def error(self, path: Path, message: str, hint: str | None = None) -> None:
        """Record an error at the field `path`."""
        self.add("error", path, message, hint)

    def warning(self, path: Path, message: str, hint: str | None = None) -> None:
        """Record a warning at the field `path`."""
        self.add("warning", path, message, hint)

    # --- field checks ----------------------------------------------------------------

    def block_name(self, path: Path, name: str) -> None:
        """A block name must be one token without quotes or braces."""
        if not name or bad_name(name):
            self.error(
                path,
                f"the name `{name}` must be one word without quotes or braces "
                "(the original GUI cannot read it otherwise)",
                "use letters, digits, `-`, `_` and `.`",
            )

    def address(self, path: Path, value: str | None) -> None:
        """An address must be a dotted-quad IPv4 address (None is unset)."""
        if value is None or is_ipv4(value):
            return
        self.error(
            path,
            f"`{value}` is not an IPv4 address",
            "write the address: host names are resolved by the original at every "
            "start, which is slow and fails without DNS",
        )

    def device(self, path: Path, value: str | None) -> None:
        """An address needs a device, and it must be an interface name."""
        if not value:
            self.error(path, "the address needs a device, e.g. eth0:1")
        elif not is_device(value):
            self.error(
                path,
                f"`{value}` is not an interface name or alias such as eth0 or eth0:1",
                f"at most {IFNAMSIZ - 1} characters, no spaces or `/`",
            )

    def port(self, path: Path, value: int) -> None:
        """A port must be within PORT_MIN..PORT_MAX."""
        if not PORT_MIN <= value <= PORT_MAX:
            self.error(path, f"port {value} is out of range {PORT_MIN}–{PORT_MAX}")

    def enum(self, path: Path, value: str, choices: tuple[str, ...]) -> None:
        """A value must be one of `choices`."""
        if value not in choices:
            self.error(path, f"`{value}` is not one of {', '.join(choices)}")
