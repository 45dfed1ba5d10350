"""The piranha-web Django app: the panels that edit lvs.cf, and their side effects."""

from __future__ import annotations
