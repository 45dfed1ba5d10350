"""The FAILOVER panel: `failover NAME { ... }` blocks (service = fos)."""

from __future__ import annotations

from django.db import models

from lbconfig.models.base import PORT_VALIDATORS, SECONDS, Versioned
from lbconfig.validators import (
    name_validator,
    validate_command,
    validate_comment,
    validate_device,
    validate_netmask,
    validate_send_string,
)


class FailoverService(Versioned):
    """A `failover NAME { ... }` block: a service pulse starts on the active router."""

    name = models.CharField("Name", max_length=64, validators=[name_validator])
    active = models.BooleanField("Active", default=False)
    address = models.GenericIPAddressField(
        "Virtual IP Address",
        protocol="IPv4",
        help_text="The floating address clients use; it moves with the service.",
    )
    device = models.CharField(
        "Device",
        max_length=15,
        default="eth0:1",
        validators=[validate_device],
        help_text="The interface (alias) the address is brought up on, e.g. eth0:1.",
    )
    vip_nmask = models.CharField(
        "Virtual IP Network Mask",
        max_length=15,
        blank=True,
        default="255.255.255.0",
        validators=[validate_netmask],
    )
    port = models.PositiveIntegerField(
        "Application port",
        default=80,
        validators=PORT_VALIDATORS,
        help_text="The port the service is checked on.",
    )
    timeout = models.PositiveIntegerField(
        "Service timeout",
        default=6,
        validators=SECONDS,
        help_text="Seconds between checks, and the limit of each check.",
    )
    start_cmd = models.CharField(
        "Start command",
        max_length=255,
        blank=True,
        default="/etc/rc.d/init.d/httpd start",
        validators=[validate_command],
        help_text="Run without a shell on the router that becomes active.",
    )
    stop_cmd = models.CharField(
        "Stop command",
        max_length=255,
        blank=True,
        default="/etc/rc.d/init.d/httpd stop",
        validators=[validate_command],
        help_text="Run without a shell on the router that steps down.",
    )
    send_program = models.CharField(
        "Sending Program",
        max_length=255,
        blank=True,
        validators=[validate_command],
        help_text="An external check, run without a shell; %h is the address and "
        "%p the port. It replaces Send.",
    )
    send = models.CharField(
        "Send",
        max_length=255,
        blank=True,
        default="GET / HTTP/1.0\\r\\n\\r\\n",
        validators=[validate_send_string],
        help_text="Sent after connecting; \\r \\n \\t escapes allowed.",
    )
    expect = models.CharField(
        "Expect",
        max_length=255,
        blank=True,
        default="HTTP",
        validators=[validate_send_string],
        help_text="The reply must start with this text (* accepts any reply).",
    )
    use_regex = models.BooleanField(
        "Treat expect string as a regular expression", default=False
    )
    position = models.PositiveIntegerField(default=0, editable=False)
    extra = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Virtual-server keys an imported failover block carried "
        "(scheduler, servers, ...): no FAILOVER page edits them, publish keeps them.",
    )
    notes = models.TextField(
        "Notes",
        blank=True,
        validators=[validate_comment],
        help_text="Written as `#` lines above the failover block.",
    )
    comments = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="unique_failover_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address}:{self.port})"
