"""What the panel models share: optimistic locking, singletons, choices."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from lvscf.vocabulary import (
    LOAD_MONITORS,
    NETWORK_LABELS,
    PORT_MAX,
    PORT_MIN,
    PROTOCOLS,
    SCHEDULER_LABELS,
    SCHEDULERS,
    SERVICES,
)

PORT_VALIDATORS = [MinValueValidator(PORT_MIN), MaxValueValidator(PORT_MAX)]
SECONDS = [MinValueValidator(1), MaxValueValidator(2**31 - 1)]
SECONDS_OR_ZERO = [MinValueValidator(0), MaxValueValidator(2**31 - 1)]
NETWORK_CHOICES = [(k, v) for k, v in NETWORK_LABELS.items()]
SCHEDULER_CHOICES = [(s, f"{SCHEDULER_LABELS[s]} ({s})") for s in SCHEDULERS]
PROTOCOL_CHOICES = [(p, p) for p in PROTOCOLS]
LOAD_MONITOR_CHOICES = [(m, m) for m in LOAD_MONITORS]
SERVICE_CHOICES = [(s, s) for s in SERVICES]


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
