"""`{% failover_tab %}`: whether the navigation shows the FAILOVER panel."""

from __future__ import annotations

from django import template
from django.db.models import Exists, Q

from lbconfig.models import FailoverService, GlobalSettings

register = template.Library()


@register.simple_tag
def failover_tab() -> bool:
    """True when service = fos or a failover block exists (one query)."""
    # As in the original, FAILOVER is a panel of FOS routers; an lvs router
    # that imported failover blocks sees it too, so they stay editable.
    fos = Q(service="fos") | Q(Exists(FailoverService.objects.all()))
    return GlobalSettings.objects.filter(fos).exists()
