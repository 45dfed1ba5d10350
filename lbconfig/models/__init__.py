"""Models of the lbconfig app: one per panel of the Piranha Configuration Tool.

Field names are the lvs.cf keywords and verbose names are the panel labels of the
manual, so rendering is a 1:1 mapping (lbconfig/convert.py) and admins recognise
both. Choices come from the lvscf vocabulary.
"""

from __future__ import annotations

from lbconfig.models.base import (
    LOAD_MONITOR_CHOICES,
    NETWORK_CHOICES,
    PORT_VALIDATORS,
    PROTOCOL_CHOICES,
    SCHEDULER_CHOICES,
    SECONDS,
    SECONDS_OR_ZERO,
    SERVICE_CHOICES,
    Singleton,
    Versioned,
)
from lbconfig.models.failover import FailoverService
from lbconfig.models.history import AuditEntry, Revision
from lbconfig.models.panels import GlobalSettings, Redundancy
from lbconfig.models.sync import SyncTarget
from lbconfig.models.virtual import RealServer, VirtualServer

__all__ = [
    "LOAD_MONITOR_CHOICES",
    "NETWORK_CHOICES",
    "PORT_VALIDATORS",
    "PROTOCOL_CHOICES",
    "SCHEDULER_CHOICES",
    "SECONDS",
    "SECONDS_OR_ZERO",
    "SERVICE_CHOICES",
    "AuditEntry",
    "FailoverService",
    "GlobalSettings",
    "RealServer",
    "Redundancy",
    "Revision",
    "Singleton",
    "SyncTarget",
    "Versioned",
    "VirtualServer",
]
