"""FAILOVER: failover services (`failover NAME { ... }`, service = fos).

The same pattern as VIRTUAL SERVERS: a list with ADD, EDIT, DELETE and
(DE)ACTIVATE, and one edit page holding the manual's fields and its "Generic
service scripts".
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lbconfig.audit import record
from lbconfig.forms import FailoverForm
from lbconfig.models import FailoverService, GlobalSettings
from lbconfig.views.common import (
    Deletion,
    confirm_delete,
    keep_if_valid,
    toggle,
    user_of,
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
    if not pk:
        service.position = FailoverService.objects.count()
    form = FailoverForm(request.POST or None, instance=service)
    if form.is_valid():
        name = form.cleaned_data["name"]
        what = f"failover service {name}"
        if keep_if_valid(request, form, ("failover", name), what):
            return redirect("lbconfig:failover_edit", pk=form.instance.pk)
    return render(
        request,
        "lbconfig/failover_edit.html",
        {"nav": "failover", "form": form, "service": service},
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
    service.delete()
    record(user_of(request), "delete", f"failover service {service.name}")
    messages.success(request, f"Deleted failover service {service.name}.")
    return redirect("lbconfig:failover_list")


@require_POST
def failover_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(FailoverService, pk=pk)
    toggle(request, service, f"Failover service {service.name}")
    return redirect("lbconfig:failover_list")
