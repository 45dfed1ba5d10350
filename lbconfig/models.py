"""Models of the lbconfig app: one per panel of the Piranha Configuration Tool.

Field names are the lvs.cf keywords and verbose names are the panel labels of the
manual, so rendering is a 1:1 mapping (lbconfig/convert.py) and admins recognise
both. Choices come from the lvscf vocabulary.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from lbconfig.validators import (
    name_validator,
    validate_command,
    validate_comment,
    validate_device,
    validate_netmask,
    validate_plain_word,
    validate_send_string,
)
from lvscf.vocabulary import (
    LOAD_MONITORS,
    NETWORK_LABELS,
    PORT_MAX,
    PORT_MIN,
    PROTOCOLS,
    SCHEDULER_LABELS,
    SCHEDULERS,
    SYNCD_ID_MAX,
    WEIGHT_MAX,
)

PORT_VALIDATORS = [MinValueValidator(PORT_MIN), MaxValueValidator(PORT_MAX)]
SECONDS = [MinValueValidator(1), MaxValueValidator(2**31 - 1)]
SECONDS_OR_ZERO = [MinValueValidator(0), MaxValueValidator(2**31 - 1)]
NETWORK_CHOICES = [(k, v) for k, v in NETWORK_LABELS.items()]
SCHEDULER_CHOICES = [(s, f"{SCHEDULER_LABELS[s]} ({s})") for s in SCHEDULERS]
PROTOCOL_CHOICES = [(p, p) for p in PROTOCOLS]
LOAD_MONITOR_CHOICES = [(m, m) for m in LOAD_MONITORS]


class Versioned(models.Model):
    """A row edited through a form: `version` refuses a save made from a stale page."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class Singleton(Versioned):
    """A panel with one row (GLOBAL SETTINGS, REDUNDANCY), fetched by `load()`."""

    class Meta:
        abstract = True

    @classmethod
    def load(cls) -> Any:
        obj, _ = cls._default_manager.get_or_create(pk=1)
        return obj


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
    service = models.CharField(max_length=3, default="lvs", editable=False)
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


class SyncTarget(Singleton):
    """How to reach the backup router over SSH to copy lvs.cf to it (REDUNDANCY)."""

    host = models.CharField(
        "Backup router address",
        max_length=255,
        blank=True,
        help_text="Defaults to the redundant server public IP.",
    )
    port = models.PositiveIntegerField(
        "SSH port", default=22, validators=PORT_VALIDATORS
    )
    user = models.CharField(
        "SSH user", max_length=32, default="root", validators=[validate_plain_word]
    )
    private_key = models.TextField("Private key (OpenSSH format)", blank=True)
    public_key = models.TextField("Public key line", blank=True)
    host_key_fingerprint = models.CharField(
        "Confirmed host key (SHA256)", max_length=128, blank=True
    )
    host_key = models.TextField("Confirmed host key line", blank=True)
    remote_path = models.CharField(
        "Remote lvs.cf path", max_length=4096, default="/etc/sysconfig/ha/lvs.cf"
    )
    reload_command = models.CharField(
        "Reload command on the backup",
        max_length=255,
        blank=True,
        validators=[validate_command],
        help_text="Run without a shell after a sync, e.g. /usr/bin/systemctl "
        "reload pulse. Leave blank to run nothing.",
    )
    copy_sysctl = models.BooleanField(
        "Also copy the sysctl file with net.ipv4.ip_forward = 1", default=False
    )
    last_result = models.CharField(max_length=500, blank=True, editable=False)
    last_checked = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"sync to {self.user}@{self.host}:{self.port}"


class Revision(models.Model):
    """One published lvs.cf: its text, checksum, author and note."""

    serial_no = models.PositiveIntegerField()
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=4096)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"revision {self.pk} (serial {self.serial_no})"


class AuditEntry(models.Model):
    """Who changed, published, imported or restored what, and when."""

    created = models.DateTimeField(auto_now_add=True)
    user = models.CharField(max_length=150)
    action = models.CharField(max_length=32)
    detail = models.CharField(max_length=500)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.user} {self.action}"
