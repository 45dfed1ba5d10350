"""The direction of imports is the architecture: lvscf and pulse never import Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = ("django", "lbconfig", "piranha_web")

PROBE = """
import sys
import {package}
print(sorted(m for m in sys.modules if m.partition(".")[0] in {forbidden!r}))
"""


@pytest.mark.parametrize(
    "package",
    [
        "lvscf",
        pytest.param(
            "pulse",
            marks=pytest.mark.skipif(
                not (ROOT / "pulse" / "__init__.py").exists(),
                reason="pulse/ does not exist yet; the check applies once it does",
            ),
        ),
    ],
)
def test_package_imports_neither_django_nor_the_web_app(package):
    # A fresh interpreter: in this one pytest-django has long imported Django.
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(package=package, forbidden=FORBIDDEN)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import {package} pulled in {result.stdout}"
