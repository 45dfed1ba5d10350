"""python -m pulse: run the runtime, or talk to a running one."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
