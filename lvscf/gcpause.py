"""Pause the cyclic garbage collector around whole-file operations."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic collector off, then restore its state.

    Parsing, validating and rendering a large file allocate tens of thousands
    of containers and create no reference cycles; left on, the collector keeps
    rescanning the growing tree (about 40 % of parse time for 17,000 servers)
    and makes the cost grow faster than the file. Reference counting still
    frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
