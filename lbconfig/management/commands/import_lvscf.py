"""``manage.py import_lvscf FILE``: load an lvs.cf into the panels (all or nothing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import lvscf
from lbconfig.audit import record
from lbconfig.convert import ImportRefused, import_config


class Command(BaseCommand):
    help = "Import an lvs.cf into the database; a file with errors changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the lvs.cf to import")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            with open(file, encoding="utf-8") as handle:
                config = lvscf.parse(handle.read())
            import_config(config)
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text; nothing changed") from None
        except (lvscf.LvsCfError, ImportRefused) as exc:
            lines = [p.format(file) for p in exc.problems]
            raise CommandError("nothing changed:\n" + "\n".join(lines)) from None
        for problem in lvscf.validate(config):
            self.stderr.write(problem.format(file))
        record("manage.py", "import", f"{file}: {len(config.virtual_servers)} virtual")
        self.stdout.write(
            f"Imported {len(config.virtual_servers)} virtual servers from {file}."
        )
