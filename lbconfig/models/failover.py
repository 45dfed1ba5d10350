"""The FAILOVER panel: `failover NAME { ... }` blocks (service = fos)."""

from __future__ import annotations

from django.db import models

from lbconfig.models.base import PORT_VALIDATORS, Versioned
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
    send_field,
    send_program_field,
    timeout_field,
    use_regex_field,
)


class FailoverService(Versioned):
    """A `failover NAME { ... }` block: a service pulse starts on the active router."""

    name = name_field()
    active = active_field()
    address = ipv4_field(
        "Virtual IP Address",
        help_text="The floating address clients use; it moves with the service.",
    )
    device = device_field(
        "Device",
        default="eth0:1",
        help_text="The interface (alias) the address is brought up on, e.g. eth0:1.",
    )
    vip_nmask = netmask_field("Virtual IP Network Mask", default="255.255.255.0")
    port = models.PositiveIntegerField(
        "Application port",
        default=80,
        validators=PORT_VALIDATORS,
        help_text="The port the service is checked on.",
    )
    timeout = timeout_field()
    start_cmd = command_field(
        "Start command",
        default="/etc/rc.d/init.d/httpd start",
        help_text="Run without a shell on the router that becomes active.",
    )
    stop_cmd = command_field(
        "Stop command",
        default="/etc/rc.d/init.d/httpd stop",
        help_text="Run without a shell on the router that steps down.",
    )
    send_program = send_program_field("%h is the address and %p the port")
    send = send_field()
    expect = expect_field()
    use_regex = use_regex_field()
    position = models.PositiveIntegerField(default=0, editable=False)
    extra = json_field(
        help_text="Virtual-server keys an imported failover block carried "
        "(scheduler, servers, ...): no FAILOVER page edits them, publish keeps them.",
    )
    notes = notes_field("above the failover block")
    comments = json_field()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="unique_failover_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address}:{self.port})"
