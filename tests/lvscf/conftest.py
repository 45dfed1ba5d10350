"""Fixtures for the lvscf tests: the project's own sample files and others' files."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# Real lvs.cf files written by others live beside the repository, not in it.
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples" / "lvs_cf"


@pytest.fixture
def examples_dir() -> Path:
    """The folder of others' lvs.cf files; skips when it is not beside the repo."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"the shared examples folder is absent ({EXAMPLES})")
    return EXAMPLES
