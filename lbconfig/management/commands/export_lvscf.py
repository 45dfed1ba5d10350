"""``manage.py export_lvscf``: print the lvs.cf that publish would write."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lbconfig.models import GlobalSettings
from lbconfig.publish import build


class Command(BaseCommand):
    help = "Print the lvs.cf that publish would write (problems go to stderr)."

    def handle(self, *args: Any, **options: Any) -> None:
        _, text, problems = build(GlobalSettings.load().serial_no + 1)
        for problem in problems:
            self.stderr.write(problem.format("lvs.cf"))
        if not text:
            raise CommandError("the configuration cannot be written")
        self.stdout.write(text, ending="")
