"""The audit log: one call per change, publish, import or restore."""

from __future__ import annotations

from lbconfig.models import AuditEntry


def record(user: str, action: str, detail: str) -> AuditEntry:
    """Store who did what; `detail` is cut to the column's length."""
    return AuditEntry.objects.create(user=user, action=action, detail=detail[:500])
