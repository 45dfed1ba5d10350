"""Field factories for the keys several panels share.

Each factory returns a fresh field with exactly the definition the panels used before
(label, length, validators, default, help text), so the migrations see no change. A
panel passes only what differs: its label, default or help text.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from lbconfig.models.base import SECONDS, SECONDS_OR_ZERO
from lbconfig.validators import (
    name_validator,
    validate_command,
    validate_comment,
    validate_device,
    validate_netmask,
    validate_send_string,
)


def name_field() -> models.CharField[str, str]:
    """The block name after the keyword, e.g. `virtual NAME {`."""
    return models.CharField("Name", max_length=64, validators=[name_validator])


def active_field(label: str = "Active") -> models.BooleanField[bool, bool]:
    """An `active = 0|1` key, off by default."""
    return models.BooleanField(label, default=False)


def ipv4_field(label: str, **kwargs: Any) -> models.GenericIPAddressField[str, str]:
    """A required IPv4 address key."""
    return models.GenericIPAddressField(label, protocol="IPv4", **kwargs)


def optional_ipv4_field(
    label: str, **kwargs: Any
) -> models.GenericIPAddressField[str | None, str | None]:
    """An IPv4 address key that may be left blank (stored as NULL)."""
    return models.GenericIPAddressField(
        label, protocol="IPv4", null=True, blank=True, **kwargs
    )


def netmask_field(label: str, **kwargs: Any) -> models.CharField[str, str]:
    """A dotted netmask key, blank for the kernel's choice."""
    return models.CharField(
        label, max_length=15, blank=True, validators=[validate_netmask], **kwargs
    )


def device_field(label: str, **kwargs: Any) -> models.CharField[str, str]:
    """An interface (or alias) name such as eth0:1."""
    return models.CharField(
        label, max_length=15, validators=[validate_device], **kwargs
    )


def command_field(label: str, **kwargs: Any) -> models.CharField[str, str]:
    """A program line run without a shell; blank for none unless `blank` says so."""
    kwargs.setdefault("blank", True)
    return models.CharField(
        label, max_length=255, validators=[validate_command], **kwargs
    )


def seconds_field(
    label: str, default: int, *, or_zero: bool = False, **kwargs: Any
) -> models.PositiveIntegerField[int, int]:
    """A whole number of seconds; `or_zero` admits 0 (off / kernel default)."""
    validators = SECONDS_OR_ZERO if or_zero else SECONDS
    return models.PositiveIntegerField(
        label, default=default, validators=validators, **kwargs
    )


def send_string_field(
    label: str, default: str, help_text: str
) -> models.CharField[str, str]:
    """A `send`/`expect` string of a service check (escapes allowed)."""
    return models.CharField(
        label,
        max_length=255,
        blank=True,
        default=default,
        validators=[validate_send_string],
        help_text=help_text,
    )


def notes_field(where: str) -> models.TextField[str, str]:
    """Free text written back as `#` comment lines `where` in lvs.cf."""
    return models.TextField(
        "Notes",
        blank=True,
        validators=[validate_comment],
        help_text=f"Written as `#` lines {where}.",
    )


def json_field(**kwargs: Any) -> models.JSONField:
    """Imported data no form edits: kept as a dict and written back on publish."""
    return models.JSONField(default=dict, blank=True, editable=False, **kwargs)


def timeout_field() -> models.PositiveIntegerField[int, int]:
    """The `timeout` of a checked service (virtual server, failover service)."""
    return seconds_field(
        "Service timeout",
        6,
        help_text="Seconds between checks, and the limit of each check.",
    )


def send_field() -> models.CharField[str, str]:
    """The `send` string of a checked service."""
    return send_string_field(
        "Send",
        "GET / HTTP/1.0\\r\\n\\r\\n",
        "Sent after connecting; \\r \\n \\t escapes allowed.",
    )


def expect_field() -> models.CharField[str, str]:
    """The `expect` string of a checked service."""
    return send_string_field(
        "Expect", "HTTP", "The reply must start with this text (* accepts any reply)."
    )


def use_regex_field() -> models.BooleanField[bool, bool]:
    """Whether `expect` of a checked service is a regular expression."""
    return models.BooleanField(
        "Treat expect string as a regular expression", default=False
    )


def send_program_field(placeholders: str) -> models.CharField[str, str]:
    """The external check program of a checked service; `placeholders` says what
    %h and %p stand for."""
    return command_field(
        "Sending Program",
        help_text=f"An external check, run without a shell; {placeholders}. "
        "It replaces Send.",
    )
