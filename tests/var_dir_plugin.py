"""Point PIRANHA_VAR_DIR at a temporary directory before Django reads its settings.

pytest-django imports the settings while pytest loads the initial conftest files, and
the settings create the secret key in the state directory right away, so setting the
variable in conftest.py would be too late. Loaded with ``-p`` (see pyproject.toml), as
pytest-django's documentation advises for anything that must precede its setup.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_var_dir: Path | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    global _var_dir
    _var_dir = Path(tempfile.mkdtemp(prefix="piranha-test-var-"))
    # WhiteNoise warns about a STATIC_ROOT that collectstatic has not created yet.
    (_var_dir / "static").mkdir()
    # Overwrite, never setdefault: a developer's own PIRANHA_VAR_DIR holds real state.
    os.environ["PIRANHA_VAR_DIR"] = str(_var_dir)
    os.environ["PIRANHA_LVS_CF"] = str(_var_dir / "lvs.cf")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _var_dir is not None:
        shutil.rmtree(_var_dir, ignore_errors=True)
