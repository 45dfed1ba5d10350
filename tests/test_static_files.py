"""The vendored assets build into the manifest storage that gunicorn serves."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.test import override_settings

from piranha_web import settings as project_settings


def test_collectstatic_builds_hashed_and_compressed_vendor_files(tmp_path):
    with override_settings(STORAGES=project_settings.STORAGES, STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in [
        "vendor/bootstrap-5.3.9/css/bootstrap.min.css",
        "vendor/bootstrap-5.3.9/js/bootstrap.bundle.min.js",
        "vendor/htmx-2.0.11/htmx.min.js",
    ]:
        assert (tmp_path / manifest[name]).is_file()
        assert (tmp_path / f"{manifest[name]}.gz").is_file()
