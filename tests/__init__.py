"""The test suite: tests/<package>/test_<unit>.py, run by pytest (make test)."""

from __future__ import annotations
