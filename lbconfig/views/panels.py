"""GLOBAL SETTINGS and REDUNDANCY."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lbconfig.audit import record
from lbconfig.forms import GlobalSettingsForm, RedundancyForm
from lbconfig.models import GlobalSettings, Redundancy
from lbconfig.views.common import keep_if_valid, user_of


def global_settings(request: HttpRequest) -> HttpResponse:
    form = GlobalSettingsForm(request.POST or None, instance=GlobalSettings.load())
    if form.is_valid() and keep_if_valid(request, form, (), "global settings"):
        return redirect("lbconfig:globalsettings_edit")
    return render(
        request,
        "lbconfig/form.html",
        {"nav": "global", "form": form, "title": "GLOBAL SETTINGS"},
    )


def redundancy(request: HttpRequest) -> HttpResponse:
    red = Redundancy.load()
    form = RedundancyForm(request.POST or None, instance=red)
    if (
        red.backup_active
        and form.is_valid()
        and keep_if_valid(request, form, (), "redundancy")
    ):
        return redirect("lbconfig:redundancy_edit")
    return render(
        request,
        "lbconfig/redundancy.html",
        {"nav": "redundancy", "form": form, "red": red},
    )


@require_POST
def redundancy_toggle(request: HttpRequest) -> HttpResponse:
    red = Redundancy.load()
    red.backup_active = not red.backup_active
    red.version += 1
    red.save()
    state = "enabled" if red.backup_active else "disabled"
    record(user_of(request), "change", f"backup router {state}")
    messages.success(request, f"Backup router {state}. Publish to write lvs.cf.")
    return redirect("lbconfig:redundancy_edit")
