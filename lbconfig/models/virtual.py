"""The VIRTUAL SERVERS panel: virtual servers and their real servers."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models

from lbconfig.models.base import (
    LOAD_MONITOR_CHOICES,
    PORT_VALIDATORS,
    PROTOCOL_CHOICES,
    SCHEDULER_CHOICES,
    SECONDS,
    SECONDS_OR_ZERO,
    Versioned,
)
from lbconfig.validators import (
    name_validator,
    validate_command,
    validate_comment,
    validate_device,
    validate_netmask,
    validate_send_string,
)
from lvscf.vocabulary import WEIGHT_MAX


class VirtualServer(Versioned):
    """A `virtual NAME { ... }` block (VIRTUAL SERVER and MONITORING SCRIPTS panels)."""

    name = models.CharField("Name", max_length=64, validators=[name_validator])
    active = models.BooleanField("Active", default=False)
    address = models.GenericIPAddressField("Virtual IP Address", protocol="IPv4")
    device = models.CharField(
        "Device",
        max_length=15,
        default="eth0:1",
        validators=[validate_device],
        help_text="The interface (alias) the VIP is brought up on, e.g. eth0:1.",
    )
    vip_nmask = models.CharField(
        "Virtual IP Network Mask",
        max_length=15,
        blank=True,
        validators=[validate_netmask],
    )
    port = models.PositiveIntegerField(
        "Application port", default=80, validators=PORT_VALIDATORS
    )
    protocol = models.CharField(
        "Protocol", max_length=3, choices=PROTOCOL_CHOICES, default="tcp"
    )
    fwmark = models.PositiveIntegerField(
        "Firewall Mark",
        default=0,
        validators=[MaxValueValidator(2**32 - 1)],
        help_text="0 for none. Virtual servers with one mark are one service "
        "(e.g. FTP control and data): give them the same persistence.",
    )
    sorry_server = models.GenericIPAddressField(
        "Sorry Server",
        protocol="IPv4",
        null=True,
        blank=True,
        help_text="Gets the traffic when no real server is up.",
    )
    reentry = models.PositiveIntegerField(
        "Re-entry Time",
        default=15,
        validators=SECONDS_OR_ZERO,
        help_text="Seconds a failed real server must pass its checks before it "
        "gets traffic again.",
    )
    timeout = models.PositiveIntegerField(
        "Service timeout",
        default=6,
        validators=SECONDS,
        help_text="Seconds between checks, and the limit of each check.",
    )
    quiesce_server = models.BooleanField(
        "Quiesce server",
        default=False,
        help_text="On failure set the weight to 0 instead of removing the server.",
    )
    load_monitor = models.CharField(
        "Load monitoring tool",
        max_length=16,
        choices=LOAD_MONITOR_CHOICES,
        default="none",
    )
    scheduler = models.CharField(
        "Scheduling", max_length=5, choices=SCHEDULER_CHOICES, default="wlc"
    )
    persistent = models.PositiveIntegerField(
        "Persistence",
        default=0,
        validators=SECONDS_OR_ZERO,
        help_text="Seconds a client keeps going to the same real server; 0 for off.",
    )
    pmask = models.CharField(
        "Persistence Network Mask",
        max_length=15,
        blank=True,
        validators=[validate_netmask],
    )
    send_program = models.CharField(
        "Sending Program",
        max_length=255,
        blank=True,
        validators=[validate_command],
        help_text="An external check, run without a shell; %h is the real server's "
        "address and %p its port. It replaces Send.",
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
    client_monitor = models.CharField(
        "Health check program",
        max_length=255,
        default="/usr/sbin/nanny",
        validators=[validate_command],
    )
    position = models.PositiveIntegerField(default=0, editable=False)
    extra = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Legacy keys imported from a file (master, dirs, start_cmd, ...).",
    )
    notes = models.TextField(
        "Notes",
        blank=True,
        validators=[validate_comment],
        help_text="Written as `#` lines above the virtual block.",
    )
    comments = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="unique_virtual_server_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address}:{self.port}/{self.protocol})"


class RealServer(Versioned):
    """A `server NAME { ... }` block inside a virtual server (REAL SERVER panel)."""

    virtual_server = models.ForeignKey(
        VirtualServer, models.CASCADE, related_name="real_servers"
    )
    name = models.CharField("Name", max_length=64, validators=[name_validator])
    address = models.GenericIPAddressField("Address", protocol="IPv4")
    port = models.PositiveIntegerField(
        "Port",
        null=True,
        blank=True,
        validators=PORT_VALIDATORS,
        help_text="Leave blank to default to Virtual Server's Application Port.",
    )
    weight = models.PositiveIntegerField(
        "Weight",
        default=1,
        validators=[MaxValueValidator(WEIGHT_MAX)],
        help_text="Relative capacity; 0 sends no new connections.",
    )
    active = models.BooleanField("Active", default=False)
    notes = models.TextField(
        "Notes",
        blank=True,
        validators=[validate_comment],
        help_text="Written as `#` lines above the server block.",
    )
    comments = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["virtual_server", "name"], name="unique_real_server_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"
