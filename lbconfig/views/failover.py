"""FAILOVER: failover services (`failover NAME { ... }`, service = fos).

The same pattern as VIRTUAL SERVERS: a list with ADD, EDIT, DELETE and
(DE)ACTIVATE, and one edit page holding the manual's fields and its "Generic
service scripts".
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lbconfig.forms import FailoverForm
from lbconfig.models import FailoverService, GlobalSettings
from lbconfig.views.common import (
    BlockPage,
    Deletion,
    confirm_delete,
    delete_row,
    edit_block,
    toggle,
)


def failover_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "lbconfig/failover_list.html",
        {
            "nav": "failover",
            "services": FailoverService.objects.all(),
            "fos": GlobalSettings.load().service == "fos",
        },
    )


def failover_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    service = get_object_or_404(FailoverService, pk=pk) if pk else FailoverService()
    return edit_block(
        request,
        FailoverForm,
        service,
        BlockPage(
            "failover",
            "failover service",
            "lbconfig:failover_edit",
            "lbconfig/failover_edit.html",
        ),
        {"nav": "failover", "service": service},
    )


@require_GET
def failover_delete_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(FailoverService, pk=pk)
    return confirm_delete(
        request,
        "failover",
        Deletion(
            "failover service",
            service.name,
            f"{service.address}:{service.port}",
            reverse("lbconfig:failover_delete", args=[pk]),
            reverse("lbconfig:failover_list"),
        ),
    )


@require_POST
def failover_delete(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(FailoverService, pk=pk)
    delete_row(request, service, f"failover service {service.name}")
    return redirect("lbconfig:failover_list")


@require_POST
def failover_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(FailoverService, pk=pk)
    toggle(request, service, f"Failover service {service.name}")
    return redirect("lbconfig:failover_list")
