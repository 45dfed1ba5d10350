"""``manage.py piranha_passwd``: set the password of the admin user ``piranha``.

The user is created as a superuser when missing. The password is typed twice at a
prompt, or generated with ``--generate`` and printed once. It is never taken from the
command line, where ``ps`` and the shell history would show it.
"""

from __future__ import annotations

import secrets
import sys
from getpass import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

USERNAME = "piranha"


class Command(BaseCommand):
    help = f"Set the password of the user {USERNAME!r}, creating it if missing."
    stdin = sys.stdin

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--generate",
            action="store_true",
            help="generate a random password and print it once, instead of asking",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (scripts)",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help=f"do nothing if the user {USERNAME!r} already exists",
        )

    def handle(
        self,
        *args: Any,
        generate: bool,
        if_missing: bool,
        password_stdin: bool = False,
        **options: Any,
    ) -> None:
        users = get_user_model()._default_manager
        user = users.filter(username=USERNAME).first()
        if user is not None and if_missing:
            self.stdout.write(f"User {USERNAME!r} exists; its password is unchanged.")
            return
        if generate:
            password = secrets.token_urlsafe(12)
        elif password_stdin:
            password = self.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input; nothing changed.")
        else:
            password = self.ask_password()
        if user is None:
            user = get_user_model()(username=USERNAME, is_staff=True, is_superuser=True)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        user.set_password(password)
        user.save()
        self.stdout.write(f"Password of user {USERNAME!r} set.")
        if generate:
            self.stdout.write(f"Log in as {USERNAME!r} with password: {password}")
            self.stdout.write("It is shown only this once.")

    def ask_password(self) -> str:
        try:
            password = getpass(f"New password for {USERNAME}: ")
            again = getpass("Again: ")
        except EOFError:
            raise CommandError("No password was typed; use --generate.") from None
        if password != again:
            raise CommandError("The two passwords differ; nothing was changed.")
        if not password:
            raise CommandError("The password is empty; nothing was changed.")
        return password
