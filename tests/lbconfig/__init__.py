"""Tests of the lbconfig Django app."""

from __future__ import annotations
