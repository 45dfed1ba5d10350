"""The singleton panels: GLOBAL SETTINGS and REDUNDANCY."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models

from lbconfig.models.base import (
    NETWORK_CHOICES,
    PORT_VALIDATORS,
    SECONDS,
    SECONDS_OR_ZERO,
    SERVICE_CHOICES,
    Singleton,
)
from lbconfig.validators import (
    validate_command,
    validate_comment,
    validate_device,
    validate_netmask,
    validate_plain_word,
)
from lvscf.vocabulary import SYNCD_ID_MAX


class GlobalSettings(Singleton):
    """The global keys of lvs.cf (GLOBAL SETTINGS panel and its advanced part)."""

    serial_no = models.PositiveIntegerField("Serial number", default=0, editable=False)
    primary = models.GenericIPAddressField(
        "Primary server public IP",
        protocol="IPv4",
        null=True,
        blank=True,
        help_text="The public address of the primary LVS router; pulse uses it to "
        "tell which router it runs on.",
    )
    primary_private = models.GenericIPAddressField(
        "Primary server private IP",
        protocol="IPv4",
        null=True,
        blank=True,
        help_text="May be blank. A second, private network for the heartbeat.",
    )
    network = models.CharField(
        "Network type",
        max_length=8,
        choices=NETWORK_CHOICES,
        default="nat",
        help_text="How the routers forward packets to the real servers.",
    )
    nat_router = models.GenericIPAddressField(
        "NAT Router IP",
        protocol="IPv4",
        null=True,
        blank=True,
        help_text="The floating gateway address of the real servers; it moves with "
        "the active router.",
    )
    nat_nmask = models.CharField(
        "NAT Router netmask",
        max_length=15,
        blank=True,
        validators=[validate_netmask],
        default="255.255.255.0",
    )
    nat_router_device = models.CharField(
        "NAT Router device",
        max_length=15,
        blank=True,
        validators=[validate_device],
        help_text="The interface (alias) the NAT router address goes on, e.g. eth1:1.",
    )
    tcp_timeout = models.PositiveIntegerField(
        "TCP timeout (seconds)",
        default=0,
        validators=SECONDS_OR_ZERO,
        help_text="0 keeps the kernel's value.",
    )
    tcpfin_timeout = models.PositiveIntegerField(
        "TCP FIN timeout (seconds)", default=0, validators=SECONDS_OR_ZERO
    )
    udp_timeout = models.PositiveIntegerField(
        "UDP timeout (seconds)", default=0, validators=SECONDS_OR_ZERO
    )
    # Advanced: keys the original GUI dropped on every save.
    hard_shutdown = models.BooleanField(
        "Stop the director when a health checker dies",
        default=True,
        help_text="hard_shutdown: with it, one failed check process makes this "
        "router step down so the backup takes over.",
    )
    active_cmd = models.CharField(
        "Command when becoming active",
        max_length=255,
        blank=True,
        validators=[validate_command],
    )
    inactive_cmd = models.CharField(
        "Command when becoming inactive",
        max_length=255,
        blank=True,
        validators=[validate_command],
    )
    ipvsadm = models.CharField(
        "ipvsadm program",
        max_length=255,
        default="/sbin/ipvsadm",
        validators=[validate_command],
    )
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
    extra = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Keys imported from a file that no panel edits (FOS, legacy).",
    )
    notes = models.TextField(
        "Notes",
        blank=True,
        validators=[validate_comment],
        help_text="Written as `#` lines at the top of lvs.cf.",
    )
    comments = models.JSONField(default=dict, blank=True, editable=False)

    def __str__(self) -> str:
        return "Global settings"


class Redundancy(Singleton):
    """The backup router and heartbeat keys of lvs.cf (REDUNDANCY panel)."""

    backup_active = models.BooleanField("Backup", default=False)
    backup = models.GenericIPAddressField(
        "Redundant server public IP", protocol="IPv4", null=True, blank=True
    )
    backup_private = models.GenericIPAddressField(
        "Redundant server private IP", protocol="IPv4", null=True, blank=True
    )
    keepalive = models.PositiveIntegerField(
        "Heartbeat interval (seconds)",
        default=6,
        validators=SECONDS,
        help_text="How often the routers send heartbeats to each other.",
    )
    deadtime = models.PositiveIntegerField(
        "Assume dead after (seconds)",
        default=18,
        validators=SECONDS,
        help_text="The backup takes over when no heartbeat came for this long.",
    )
    heartbeat_port = models.PositiveIntegerField(
        "Heartbeat runs on port", default=539, validators=PORT_VALIDATORS
    )
    monitor_links = models.BooleanField("Monitor NIC links for failures", default=False)
    syncdaemon = models.BooleanField("Use sync daemon", default=False)
    syncd_iface = models.CharField(
        "Sync daemon interface",
        max_length=15,
        default="eth0",
        validators=[validate_device],
    )
    syncd_id = models.PositiveIntegerField(
        "Sync daemon ID", default=0, validators=[MaxValueValidator(SYNCD_ID_MAX)]
    )

    def __str__(self) -> str:
        return "Redundancy"
