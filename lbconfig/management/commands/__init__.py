"""``manage.py`` commands of the lbconfig app, each a thin wrapper."""

from __future__ import annotations
