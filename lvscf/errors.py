"""Problems found in an lvs.cf, and the one exception type of the library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Path = tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error) or likely wrong (warning) with a configuration.

    `path` names the field, e.g. ``("virtual", "web", "port")`` or
    ``("virtual", "web", "server", "r1", "weight")``; `line` and `column` are
    1-based positions in the source text when it came from `parse`.
    """

    severity: Severity
    message: str
    path: Path = ()
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self, filename: str = "lvs.cf") -> str:
        """Render as ``FILE:LINE:COL: severity: message`` (hint on its own line)."""
        where = filename
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.format()


class LvsCfError(Exception):
    """The library's only exception type: the text or the config cannot be used."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(str(problems[0]) if problems else "invalid lvs.cf")


class ParseError(LvsCfError):
    """The text is not an lvs.cf the original parser would accept."""


class RenderError(LvsCfError):
    """A value cannot be written in lvs.cf syntax without changing its meaning."""
