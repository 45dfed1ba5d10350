"""Reading lvs.cf for the runtime: parse, validate, fingerprint.

Text the parser rejects is refused as a whole (at start the runtime does not
start; on reload it keeps running the previous one), so a typo can never
half-apply. `lvscf.validate` problems are logged and kept for the status view
but do not stop the runtime: several are about the kernel dataplane (a NAT
router address, say) and mean nothing to the userspace proxy.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import lvscf

logger = logging.getLogger(__name__)


class ConfigError(Exception):
    """The file cannot be read or is not a usable lvs.cf."""


@dataclass(frozen=True)
class Loaded:
    """A configuration and where it came from."""

    config: lvscf.Config
    path: str
    sha256: str
    problems: tuple[str, ...] = ()


def parse_text(text: str, path: str = "lvs.cf") -> Loaded:
    """Parse and validate lvs.cf text; raise ConfigError listing the errors."""
    try:
        config = lvscf.parse(text)
    except lvscf.ParseError as exc:
        raise ConfigError(_describe(exc.problems, path)) from None
    problems = tuple(p.format(path) for p in lvscf.validate(config))
    for problem in problems:
        logger.warning("%s", problem)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Loaded(config=config, path=path, sha256=digest, problems=problems)


def load(path: str) -> Loaded:
    """Read and check the lvs.cf at `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    return parse_text(text, path)


def _describe(problems: list[lvscf.Problem], path: str) -> str:
    return "\n".join(p.format(path) for p in problems) or f"{path}: invalid lvs.cf"
