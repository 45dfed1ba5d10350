"""Benchmark of the backup sync: a real sshd on 127.0.0.1, the whole sync_to_backup().

Each run is what the SYNC TO BACKUP button does: connect (TCP, key exchange,
host key check, public key auth), upload to a temp file, read it back and check
its sha256, hard-link the .bak, rename into place. Sizes: the 1,000 virtual ×
16 real server configuration of bench/lvscf_bench.py as the GUI writes it
(about 1.9 MB), and a small one (one virtual server). Targets: large ≤ 1 s,
small ≤ 300 ms (medians). Needs root and openssh-server (it starts its own sshd).

    .venv/bin/python bench/sync_bench.py [--runs 7]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Django reads these at setup: a throwaway state directory, never the real one.
VAR = Path(tempfile.mkdtemp(prefix="piranha-sync-bench-"))
os.environ["PIRANHA_VAR_DIR"] = str(VAR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "piranha_web.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.lvscf_bench import generate  # noqa: E402
from lbconfig import sync  # noqa: E402
from lbconfig.models import Revision  # noqa: E402
from lvscf import render  # noqa: E402
from tests.lbconfig.test_sync_sshd import configure, running_backup  # noqa: E402

TARGETS = {"large": 1.0, "small": 0.3}


def gui_text(virtuals: int, servers: int) -> str:
    """lvs.cf as the GUI writes it: a server's port only when it differs (see
    bench/lvscf_bench.py)."""
    return re.sub(r"\n {9}port = 8080(?=\n)", "", render(generate(virtuals, servers)))


def revision(text: str) -> Revision:
    sha = hashlib.sha256(text.encode()).hexdigest()
    return Revision.objects.create(serial_no=1, text=text, sha256=sha, path="bench")


def time_sync(text: str, runs: int) -> list[float]:
    rev, times = revision(text), []
    for _ in range(runs):
        started = time.perf_counter()
        sync.sync_to_backup(rev, "bench")
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    texts = {"large": gui_text(1000, 16), "small": gui_text(1, 2)}
    failed = False
    with running_backup() as backup:
        configure(backup)
        for name, text in texts.items():
            times = time_sync(text, args.runs)
            median = statistics.median(times)
            ok = median <= TARGETS[name]
            failed |= not ok
            print(
                f"{name}: {len(text.encode()):,} bytes, median {median * 1000:.0f} ms "
                f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, "
                f"{args.runs} runs), target ≤ {TARGETS[name] * 1000:.0f} ms: "
                f"{'OK' if ok else 'MISSED'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(VAR, ignore_errors=True)
