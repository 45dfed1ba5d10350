"""``manage.py sync_keygen``: make the ed25519 key the backup sync logs in with."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lbconfig.models import SyncTarget
from lbconfig.sync import save_new_key


class Command(BaseCommand):
    help = "Generate the SSH key of the backup sync and print its public key line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="replace the key if there is one"
        )

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        target = SyncTarget.load()
        if target.private_key and not force:
            # Replacing the key locks the sync out until the backup learns the new one.
            raise CommandError(
                "A key exists (its public line is below); --force replaces it.\n"
                + target.public_key
            )
        public = save_new_key("manage.py")
        self.stdout.write("Add this line to authorized_keys on the backup:")
        self.stdout.write(public)
