"""Management commands of the lbconfig app."""

from __future__ import annotations
