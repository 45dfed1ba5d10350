"""Helpers shared by the lvscf tests: a text's errors and warnings, blocks, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lvscf import Config, ParseError, Problem, parse

ROOT = Path(__file__).resolve().parents[2]


def errors_of(text: str) -> list[Problem]:
    """The errors `parse` reports for `text` (fails the test if it accepts it)."""
    with pytest.raises(ParseError) as info:
        parse(text)
    return info.value.problems


def only_error(text: str) -> Problem:
    """The one error of `text`."""
    problems = errors_of(text)
    assert len(problems) == 1, [p.format() for p in problems]
    assert problems[0].is_error
    return problems[0]


def warnings_of(config: Config) -> list[Problem]:
    assert config.source is not None
    return list(config.source.warnings)


def only_warning(config: Config) -> Problem:
    warnings = warnings_of(config)
    assert len(warnings) == 1, [w.format() for w in warnings]
    assert warnings[0].severity == "warning"
    return warnings[0]


def virtual(body: str, name: str = "web") -> str:
    """`body` (lines without indent) wrapped in `virtual NAME { ... }`."""
    inner = "".join(f"    {line}\n" for line in body.splitlines())
    return f"virtual {name} {{\n{inner}}}\n"


def server(body: str, name: str = "r1") -> str:
    """`body` wrapped in `server NAME { ... }` (to go inside `virtual`)."""
    inner = "".join(f"    {line}\n" for line in body.splitlines())
    return f"server {name} {{\n{inner}}}"


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m lvscf ARGS` in a fresh interpreter, bounded to a minute."""
    return subprocess.run(
        [sys.executable, "-m", "lvscf", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=60,
    )
