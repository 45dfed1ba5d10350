"""Command line: ``python -m lvscf check|fmt|dump FILE...``.

check  prints ``FILE:LINE:COL: error|warning: message``; exit 0 when no file has
       errors, 1 when one has, 2 when a file cannot be read.
fmt    prints the canonical text; ``--write`` replaces the file atomically
       (temp file in the same directory, fsync, rename; mode and owner kept).
dump   prints the model as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from . import LvsCfError, Problem, parse, render, validate
from .model import Config

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2
MAX_FILE_BYTES = 64 * 1024 * 1024  # far above any real lvs.cf; bounds memory use


class Unreadable(Exception):
    """The file cannot be read at all (missing, a directory, no permission)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    args = _parser().parse_args(argv)
    command = {"check": _check, "fmt": _fmt, "dump": _dump}[args.command]
    status = EXIT_OK
    for name in args.files:
        status = max(status, command(name, args))
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lvscf", description="Check, format and dump lvs.cf files."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="report errors and warnings")
    check.add_argument("-q", "--quiet", action="store_true", help="errors only")
    fmt = sub.add_parser("fmt", help="print the canonical text")
    fmt.add_argument("-w", "--write", action="store_true", help="rewrite the file")
    sub.add_parser("dump", help="print the model as JSON")
    for command in (check, fmt, sub.choices["dump"]):
        command.add_argument("files", nargs="+", metavar="FILE")
    return parser


def read_text(name: str) -> str:
    """Read a file as lvs.cf text; raise Unreadable or LvsCfError for bad bytes."""
    try:
        with open(name, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from exc
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _unusable(
            "the file is UTF-16 text", 1, 1, "save it as UTF-8 (or plain ASCII)"
        )
    if len(data) > MAX_FILE_BYTES:
        raise _unusable("the file is larger than 64 MiB", 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _unusable(
            f"byte 0x{data[exc.start]:02x} is not UTF-8 text",
            line,
            column,
            "save the file as UTF-8 (or plain ASCII)",
        ) from exc


def _unusable(
    message: str, line: int, column: int | None = None, hint: str | None = None
) -> LvsCfError:
    return LvsCfError([Problem("error", message, (), line, column, hint)])


def _load(name: str) -> tuple[Config | None, list[Problem], int]:
    try:
        config = parse(read_text(name))
    except Unreadable as exc:
        print(f"{name}: cannot read: {exc}", file=sys.stderr)
        return None, [], EXIT_UNREADABLE
    except LvsCfError as exc:
        return None, exc.problems, EXIT_ERRORS
    return config, [], EXIT_OK


def _check(name: str, args: argparse.Namespace) -> int:
    config, problems, status = _load(name)
    if config is not None:
        problems = validate(config)
        status = EXIT_ERRORS if any(p.is_error for p in problems) else EXIT_OK
    for problem in problems:
        if problem.is_error or not args.quiet:
            print(problem.format(name))
    return status


def _load_or_report(name: str) -> tuple[Config | None, int]:
    """Parse `name` for fmt and dump; its problems go to stderr when it fails."""
    config, problems, status = _load(name)
    if config is None:
        _report(name, problems)
    return config, status


def _report(name: str, problems: list[Problem]) -> None:
    for problem in problems:
        print(problem.format(name), file=sys.stderr)


def _fmt(name: str, args: argparse.Namespace) -> int:
    config, status = _load_or_report(name)
    if config is None:
        return status
    try:
        text = render(config)
    except LvsCfError as exc:
        _report(name, exc.problems)
        return EXIT_ERRORS
    if not args.write:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomic(name, text)
    except OSError as exc:
        print(f"{name}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK


def write_atomic(name: str, text: str) -> None:
    """Replace `name` with `text`: temp file beside it, fsync, rename, fsync dir.

    The file keeps its mode and owner; on any failure the original is untouched
    and the temp file removed.
    """
    name = os.path.realpath(name)  # rewrite a symlink's target, keep the link
    directory = os.path.dirname(name)
    old = os.stat(name)
    fd, tmp = tempfile.mkstemp(prefix=".lvs.cf.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), old.st_mode & 0o7777)
            if os.geteuid() == 0:
                os.fchown(handle.fileno(), old.st_uid, old.st_gid)
            os.fsync(handle.fileno())
        os.replace(tmp, name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _dump(name: str, args: argparse.Namespace) -> int:
    config, status = _load_or_report(name)
    if config is None:
        return status
    print(json.dumps(to_json(config), indent=2))
    return EXIT_OK


def to_json(config: Config) -> dict[str, Any]:
    """The model as plain JSON data (the parse-time source map left out)."""
    data = dataclasses.asdict(config)
    data.pop("source", None)
    return data


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
