"""Fixtures shared by the whole suite.

The state directory of the test session is a temporary one (see var_dir_plugin.py);
the ``var_dir`` fixture gives a test its own, empty one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from pytest_django import Settings

# Playwright's sync API runs an event loop in the test thread, which makes Django
# refuse database access from it unless this is set (used by the e2e tests).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True, scope="session")
def _test_settings() -> Iterator[None]:
    # The manifest storage serves only what collectstatic built; tests read the
    # sources directly. tests/test_static_files.py covers the manifest build.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    # The real hasher is slow on purpose (about 0.5 s a password).
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(STORAGES=storages, PASSWORD_HASHERS=hashers):
        yield


@pytest.fixture
def var_dir(tmp_path: Path, settings: Settings) -> Path:
    """An empty state directory, with lvs.cf inside it."""
    path = tmp_path / "var"
    path.mkdir()
    settings.PIRANHA_VAR_DIR = path
    settings.PIRANHA_LVS_CF = path / "lvs.cf"
    return path
