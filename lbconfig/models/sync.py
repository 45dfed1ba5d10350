"""The backup sync settings (REDUNDANCY: BACKUP SYNC)."""

from __future__ import annotations

from django.db import models

from lbconfig.models.base import PORT_VALIDATORS, Singleton
from lbconfig.models.fields import command_field
from lbconfig.validators import validate_plain_word


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
    reload_command = command_field(
        "Reload command on the backup",
        help_text="Run without a shell after a sync, e.g. /usr/bin/systemctl "
        "reload pulse. Leave blank to run nothing.",
    )
    copy_sysctl = models.BooleanField(
        "Also copy the sysctl file with net.ipv4.ip_forward = 1", default=False
    )
    copy_fwmark_rules = models.BooleanField(
        "Also copy the firewall-mark rules file",
        default=False,
        help_text="Virtual servers with a Firewall Mark need the same iptables "
        "mark rules on the backup. Save them here first (iptables-save).",
    )
    fwmark_rules_path = models.CharField(
        "Firewall-mark rules file on this router",
        max_length=4096,
        default="/etc/sysconfig/iptables",
    )
    fwmark_rules_remote_path = models.CharField(
        "Firewall-mark rules file on the backup",
        max_length=4096,
        default="/etc/sysconfig/iptables",
    )
    last_result = models.CharField(max_length=500, blank=True, editable=False)
    last_checked = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"sync to {self.user}@{self.host}:{self.port}"
