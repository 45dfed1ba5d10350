"""End-to-end tests: a real browser against the live server."""

from __future__ import annotations
