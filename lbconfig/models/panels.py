"""The singleton panels: GLOBAL SETTINGS and REDUNDANCY."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models

from lbconfig.models.base import (
    NETWORK_CHOICES,
    PORT_VALIDATORS,
    SERVICE_CHOICES,
    Singleton,
)
from lbconfig.models.fields import (
    active_field,
    command_field,
    device_field,
    json_field,
    netmask_field,
    notes_field,
    optional_ipv4_field,
    seconds_field,
)
from lbconfig.validators import validate_plain_word
from lvscf.vocabulary import SYNCD_ID_MAX


class GlobalSettings(Singleton):
    """The global keys of lvs.cf (GLOBAL SETTINGS panel and its advanced part)."""

    serial_no = models.PositiveIntegerField("Serial number", default=0, editable=False)
    primary = optional_ipv4_field(
        "Primary server public IP",
        help_text="The public address of the primary LVS router; pulse uses it to "
        "tell which router it runs on.",
    )
    primary_private = optional_ipv4_field(
        "Primary server private IP",
        help_text="May be blank. A second, private network for the heartbeat.",
    )
    network = models.CharField(
        "Network type",
        max_length=8,
        choices=NETWORK_CHOICES,
        default="nat",
        help_text="How the routers forward packets to the real servers.",
    )
    nat_router = optional_ipv4_field(
        "NAT Router IP",
        help_text="The floating gateway address of the real servers; it moves with "
        "the active router.",
    )
    nat_nmask = netmask_field("NAT Router netmask", default="255.255.255.0")
    nat_router_device = device_field(
        "NAT Router device",
        blank=True,
        help_text="The interface (alias) the NAT router address goes on, e.g. eth1:1.",
    )
    tcp_timeout = seconds_field(
        "TCP timeout (seconds)",
        0,
        or_zero=True,
        help_text="0 keeps the kernel's value.",
    )
    tcpfin_timeout = seconds_field("TCP FIN timeout (seconds)", 0, or_zero=True)
    udp_timeout = seconds_field("UDP timeout (seconds)", 0, or_zero=True)
    # Advanced: keys the original GUI dropped on every save.
    hard_shutdown = models.BooleanField(
        "Stop the director when a health checker dies",
        default=True,
        help_text="hard_shutdown: with it, one failed check process makes this "
        "router step down so the backup takes over.",
    )
    active_cmd = command_field("Command when becoming active")
    inactive_cmd = command_field("Command when becoming inactive")
    ipvsadm = command_field("ipvsadm program", blank=False, default="/sbin/ipvsadm")
    rsh_command = models.CharField(
        "Remote shell for uptime",
        max_length=32,
        default="rsh",
        validators=[validate_plain_word],
    )
    debug_level = models.CharField(
        "Debug level", max_length=32, default="NONE", validators=[validate_plain_word]
    )
    service = models.CharField(
        "Service type",
        max_length=3,
        choices=SERVICE_CHOICES,
        default="lvs",
        help_text="lvs: the VIRTUAL SERVERS balance real servers. fos: the routers "
        "run FAILOVER services themselves (deprecated; the piranha-web runtime "
        "runs only virtual servers).",
    )
    extra = json_field(
        help_text="Keys imported from a file that no panel edits (FOS, legacy).",
    )
    notes = notes_field("at the top of lvs.cf")
    comments = json_field()

    def __str__(self) -> str:
        return "Global settings"


class Redundancy(Singleton):
    """The backup router and heartbeat keys of lvs.cf (REDUNDANCY panel)."""

    backup_active = active_field("Backup")
    backup = optional_ipv4_field("Redundant server public IP")
    backup_private = optional_ipv4_field("Redundant server private IP")
    keepalive = seconds_field(
        "Heartbeat interval (seconds)",
        6,
        help_text="How often the routers send heartbeats to each other.",
    )
    deadtime = seconds_field(
        "Assume dead after (seconds)",
        18,
        help_text="The backup takes over when no heartbeat came for this long.",
    )
    heartbeat_port = models.PositiveIntegerField(
        "Heartbeat runs on port", default=539, validators=PORT_VALIDATORS
    )
    monitor_links = models.BooleanField("Monitor NIC links for failures", default=False)
    syncdaemon = models.BooleanField("Use sync daemon", default=False)
    syncd_iface = device_field("Sync daemon interface", default="eth0")
    syncd_id = models.PositiveIntegerField(
        "Sync daemon ID", default=0, validators=[MaxValueValidator(SYNCD_ID_MAX)]
    )

    def __str__(self) -> str:
        return "Redundancy"
