"""Publishing: validate the whole configuration, write lvs.cf atomically, keep history.

`publish()` is the only writer of lvs.cf. It refuses a configuration with
errors, writes a temp file beside the target, fsyncs and renames it (keeping
the old file's mode and owner), bumps serial_no and stores a Revision.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

import lvscf
from lbconfig.audit import record
from lbconfig.convert import import_config, to_config
from lbconfig.models import GlobalSettings, Revision


class PublishError(Exception):
    """The configuration was not written; `problems` says why."""

    def __init__(self, problems: list[lvscf.Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems[:3]))
        self.problems = problems


@dataclass(frozen=True)
class Preview:
    """What publish would write, its problems, and how it differs from the disk."""

    text: str
    problems: list[lvscf.Problem]
    diff: str
    drift: str | None

    @property
    def errors(self) -> list[lvscf.Problem]:
        return [p for p in self.problems if p.is_error]


def target() -> Path:
    return Path(settings.PIRANHA_LVS_CF)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build(
    serial_no: int | None = None,
) -> tuple[lvscf.Config, str, list[lvscf.Problem]]:
    """The configuration from the database, its text and its problems."""
    config = to_config()
    if serial_no is not None:
        config = dataclasses.replace(config, serial_no=serial_no)
    problems = lvscf.validate(config)
    try:
        text = lvscf.render(config)
    except lvscf.RenderError as exc:
        return config, "", problems + exc.problems
    return config, text, problems


def on_disk() -> str | None:
    try:
        return target().read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def drift() -> str | None:
    """A sentence when lvs.cf on disk is not what was last published."""
    current = on_disk()
    last = Revision.objects.first()
    if current is None:
        return (
            None
            if last is None
            else f"{target()} was deleted after revision {last.pk}."
        )
    if last is None:
        return f"{target()} exists but was not published from here: import it first?"
    if sha256(current) != last.sha256:
        return (
            f"{target()} was changed by hand after revision {last.pk} was published: "
            "import it to keep those changes, or publish to overwrite them."
        )
    return None


def preview() -> Preview:
    serial = GlobalSettings.load().serial_no + 1
    _, text, problems = build(serial)
    current = on_disk() or ""
    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{target()} (on disk)",
            tofile=f"{target()} (to publish)",
        )
    )
    return Preview(text, problems, diff, drift())


@transaction.atomic
def publish(user: str, note: str = "", author: Any = None) -> Revision:
    """Write lvs.cf from the database; on errors raise PublishError, write nothing."""
    pk = GlobalSettings.load().pk
    glob = GlobalSettings.objects.select_for_update().get(pk=pk)
    serial = glob.serial_no + 1
    _, text, problems = build(serial)
    errors = [p for p in problems if p.is_error]
    if errors or not text:
        raise PublishError(errors)
    write_atomic(target(), text)
    glob.serial_no = serial
    glob.save(update_fields=["serial_no"])
    revision = Revision.objects.create(
        serial_no=serial,
        text=text,
        sha256=sha256(text),
        note=note,
        path=str(target()),
        author=author if getattr(author, "pk", None) else None,
    )
    record(user, "publish", f"revision {revision.pk}, serial {serial}: {note}".strip())
    return revision


def restore(revision: Revision, user: str, author: Any = None) -> Revision:
    """Load a revision into the database, then publish it as a new revision."""
    # serial_no only grows: the restored text gets the next serial, not its old one.
    config = dataclasses.replace(
        lvscf.parse(revision.text), serial_no=GlobalSettings.load().serial_no
    )
    with transaction.atomic():
        import_config(config)
        record(user, "restore", f"revision {revision.pk}")
        return publish(user, f"restore of revision {revision.pk}", author)


def unified_diff(before: str, after: str, old: Any, new: Any) -> str:
    """A unified diff between two texts, labelled with what they are."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=str(old) if old else "(nothing)",
            tofile=str(new),
        )
    )


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, rename; keeps mode and owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        old = os.stat(path)
        mode, owner = old.st_mode & 0o7777, (old.st_uid, old.st_gid)
    except FileNotFoundError:
        mode, owner = 0o644, None
    fd, tmp = tempfile.mkstemp(prefix=".lvs.cf.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if owner is not None and os.geteuid() == 0:
                os.fchown(handle.fileno(), *owner)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
