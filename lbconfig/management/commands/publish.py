"""``manage.py publish``: write lvs.cf from the database, as the PUBLISH button does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lbconfig.publish import PublishError, publish


class Command(BaseCommand):
    help = "Validate and write lvs.cf atomically, storing a revision."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--note", default="", help="a note for the history")

    def handle(self, *args: Any, note: str, **options: Any) -> None:
        try:
            revision = publish("manage.py", note)
        except PublishError as exc:
            lines = [p.format("lvs.cf") for p in exc.problems]
            raise CommandError("not written:\n" + "\n".join(lines)) from None
        except OSError as exc:
            raise CommandError(f"not written: {exc.strerror or exc}") from None
        self.stdout.write(
            f"Published revision {revision.pk} (serial {revision.serial_no}) "
            f"to {revision.path}."
        )
