"""The Django project of piranha-web: settings, root URLs and the WSGI entry point."""

from __future__ import annotations
