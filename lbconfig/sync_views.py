"""Views of the sync to the backup router (filled in by the sync issue)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
