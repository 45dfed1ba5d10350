"""``manage.py sync_backup``: copy the published lvs.cf to the backup router."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lbconfig.models import Revision
from lbconfig.sync import SyncError, sync_state, sync_to_backup


class Command(BaseCommand):
    help = (
        "Copy the last published revision to the backup router over SSH and verify "
        "it; with --check only compare. Exits non-zero when not in sync."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="only say whether the backup is in sync",
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        revision = Revision.objects.first()
        if revision is None:
            raise CommandError("nothing published yet: run manage.py publish first")
        if check:
            state = sync_state(revision)
            if state.status != "in_sync":
                raise CommandError(f"backup: {state.message}")
            self.stdout.write(f"backup: {state.message}")
            return
        try:
            result = sync_to_backup(revision, "manage.py")
        except SyncError as exc:
            raise CommandError(f"not synced: {exc}") from None
        self.stdout.write(str(result))
        if result.reload_problem:
            raise CommandError(f"copied, but {result.reload_problem}")
