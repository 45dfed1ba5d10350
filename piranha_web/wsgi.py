"""WSGI entry point, served by gunicorn: ``gunicorn piranha_web.wsgi:application``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "piranha_web.settings")

application = get_wsgi_application()
