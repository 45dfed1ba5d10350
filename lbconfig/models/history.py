"""What happened: published revisions and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
