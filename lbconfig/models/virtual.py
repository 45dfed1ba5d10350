"""The VIRTUAL SERVERS panel: virtual servers and their real servers."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models

from lbconfig.models.base import (
    LOAD_MONITOR_CHOICES,
    PORT_VALIDATORS,
    PROTOCOL_CHOICES,
    SCHEDULER_CHOICES,
    Versioned,
)
from lbconfig.models.fields import (
    active_field,
    command_field,
    device_field,
    expect_field,
    ipv4_field,
    json_field,
    name_field,
    netmask_field,
    notes_field,
    optional_ipv4_field,
    seconds_field,
    send_field,
    send_program_field,
    timeout_field,
    use_regex_field,
)
from lvscf.vocabulary import WEIGHT_MAX


class VirtualServer(Versioned):
    """A `virtual NAME { ... }` block (VIRTUAL SERVER and MONITORING SCRIPTS panels)."""

    name = name_field()
    active = active_field()
    address = ipv4_field("Virtual IP Address")
    device = device_field(
        "Device",
        default="eth0:1",
        help_text="The interface (alias) the VIP is brought up on, e.g. eth0:1.",
    )
    vip_nmask = netmask_field("Virtual IP Network Mask")
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
    sorry_server = optional_ipv4_field(
        "Sorry Server",
        help_text="Gets the traffic when no real server is up.",
    )
    reentry = seconds_field(
        "Re-entry Time",
        15,
        or_zero=True,
        help_text="Seconds a failed real server must pass its checks before it "
        "gets traffic again.",
    )
    timeout = timeout_field()
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
    persistent = seconds_field(
        "Persistence",
        0,
        or_zero=True,
        help_text="Seconds a client keeps going to the same real server; 0 for off.",
    )
    pmask = netmask_field("Persistence Network Mask")
    send_program = send_program_field("%h is the real server's address and %p its port")
    send = send_field()
    expect = expect_field()
    use_regex = use_regex_field()
    client_monitor = command_field(
        "Health check program", blank=False, default="/usr/sbin/nanny"
    )
    position = models.PositiveIntegerField(default=0, editable=False)
    extra = json_field(
        help_text="Legacy keys imported from a file (master, dirs, start_cmd, ...).",
    )
    notes = notes_field("above the virtual block")
    comments = json_field()

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
    name = name_field()
    address = ipv4_field("Address")
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
    active = active_field()
    notes = notes_field("above the server block")
    comments = json_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["virtual_server", "name"], name="unique_real_server_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"
