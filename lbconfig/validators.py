"""Field validators: thin adapters over the lvscf vocabulary and checks.

Every text that reaches lvs.cf goes through one of these, so a value can never
carry lvs.cf syntax (a line break, a quote the format cannot hold, a brace).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from lvscf.validate import is_device, is_netmask

name_validator = RegexValidator(
    r"^[A-Za-z0-9_.\-\[\]]{1,64}$",
    "Use letters, digits, `-`, `_`, `.` (no spaces: lvs.cf names are one word).",
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_device(value: str) -> None:
    """A Linux interface name or alias label such as eth0 or eth0:1."""
    if not is_device(value):
        raise ValidationError(
            "Not an interface name or alias such as eth0 or eth0:1 "
            "(at most 15 characters, no spaces or /)."
        )


def validate_netmask(value: str) -> None:
    """A dotted netmask with contiguous one-bits."""
    if not is_netmask(value):
        raise ValidationError("Not a netmask such as 255.255.255.0.")


def validate_send_string(value: str) -> None:
    """What nanny sends or expects: printable ASCII, escapes written as \\r \\n."""
    bad = next((ch for ch in value if not 0x20 <= ord(ch) <= 0x7E), None)
    if bad is not None:
        raise ValidationError(
            "Use printable ASCII only; write a line break as \\r\\n "
            f"(found U+{ord(bad):04X})."
        )
    if '"' in value:
        raise ValidationError('A double quote (") cannot be written in lvs.cf here.')


def validate_command(value: str) -> None:
    """A program and its arguments, run without a shell: an absolute path first."""
    if _CONTROL.search(value) or '"' in value:
        raise ValidationError("No control characters or double quotes.")
    if not value.startswith("/"):
        raise ValidationError("Give the absolute path of the program, e.g. /usr/bin/x.")


def validate_plain_word(value: str) -> None:
    """One lvs.cf token: no blanks, quotes, braces or control characters."""
    if not value or re.search(r"[\s\"'{}]", value) or _CONTROL.search(value):
        raise ValidationError("One word, without spaces, quotes or braces.")


def validate_comment(value: str) -> None:
    """Notes become `#` lines: anything but control characters other than newlines."""
    if re.search(r"[\x00-\x09\x0b-\x1f\x7f]", value):
        raise ValidationError("No control characters.")
