"""VIRTUAL SERVERS, and per virtual server VIRTUAL SERVER, REAL SERVER and
MONITORING SCRIPTS."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lbconfig.audit import record
from lbconfig.forms import MonitoringScriptsForm, RealServerForm, VirtualServerForm
from lbconfig.models import RealServer, VirtualServer
from lbconfig.views.common import (
    Deletion,
    confirm_delete,
    keep_if_valid,
    toggle,
    user_of,
)


def virtualserver_list(request: HttpRequest) -> HttpResponse:
    servers = VirtualServer.objects.annotate(count=Count("real_servers")).order_by(
        "position", "id"
    )
    return render(
        request,
        "lbconfig/virtualserver_list.html",
        {"nav": "virtual", "servers": servers},
    )


def virtualserver_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk) if pk else VirtualServer()
    if not pk:
        server.position = VirtualServer.objects.count()
    form = VirtualServerForm(request.POST or None, instance=server)
    if form.is_valid():
        name = form.cleaned_data["name"]
        if keep_if_valid(request, form, ("virtual", name), f"virtual server {name}"):
            return redirect("lbconfig:virtualserver_edit", pk=form.instance.pk)
    return render(
        request,
        "lbconfig/virtualserver_edit.html",
        {"nav": "virtual", "sub": "virtual", "form": form, "server": server},
    )


@require_GET
def virtualserver_delete_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    n = server.real_servers.count()
    goes = f"Its {n} real server{'s go' if n != 1 else ' goes'} with it."
    return confirm_delete(
        request,
        "virtual",
        Deletion(
            "virtual server",
            server.name,
            f"{server.address}:{server.port}/{server.protocol}",
            reverse("lbconfig:virtualserver_delete", args=[pk]),
            reverse("lbconfig:virtualserver_list"),
            (goes if n else "It has no real servers.",),
        ),
    )


@require_POST
def virtualserver_delete(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    server.delete()
    record(user_of(request), "delete", f"virtual server {server.name}")
    messages.success(request, f"Deleted virtual server {server.name}.")
    return redirect("lbconfig:virtualserver_list")


@require_POST
def virtualserver_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    toggle(request, server, f"Virtual server {server.name}")
    return redirect("lbconfig:virtualserver_list")


def monitoring_scripts(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    form = MonitoringScriptsForm(request.POST or None, instance=server)
    prefix = ("virtual", server.name)
    if form.is_valid() and keep_if_valid(
        request, form, prefix, f"monitoring scripts of {server.name}"
    ):
        return redirect("lbconfig:monitoringscripts_edit", pk=pk)
    return render(
        request,
        "lbconfig/virtualserver_edit.html",
        {"nav": "virtual", "sub": "scripts", "form": form, "server": server},
    )


# --- REAL SERVER ---------------------------------------------------------------------


def realserver_list(request: HttpRequest, vs: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=vs)
    return render(
        request,
        "lbconfig/realserver_list.html",
        {
            "nav": "virtual",
            "sub": "real",
            "server": server,
            "reals": server.real_servers.all(),
        },
    )


def realserver_edit(
    request: HttpRequest, vs: int, pk: int | None = None
) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=vs)
    real = (
        get_object_or_404(RealServer, pk=pk, virtual_server=server)
        if pk
        else RealServer(virtual_server=server)
    )
    form = RealServerForm(request.POST or None, instance=real)
    if form.is_valid():
        name = form.cleaned_data["name"]
        prefix = ("virtual", server.name, "server", name)
        what = f"real server {name} of {server.name}"
        if keep_if_valid(request, form, prefix, what):
            return redirect("lbconfig:realserver_list", vs=vs)
    return render(
        request,
        "lbconfig/realserver_edit.html",
        {"nav": "virtual", "sub": "real", "form": form, "server": server, "real": real},
    )


@require_GET
def realserver_delete_confirm(request: HttpRequest, vs: int, pk: int) -> HttpResponse:
    real = get_object_or_404(
        RealServer.objects.select_related("virtual_server"), pk=pk, virtual_server_id=vs
    )
    return confirm_delete(
        request,
        "virtual",
        Deletion(
            "real server",
            real.name,
            f"{real.address}, of virtual server {real.virtual_server.name}",
            reverse("lbconfig:realserver_delete", args=[vs, pk]),
            reverse("lbconfig:realserver_list", args=[vs]),
        ),
    )


@require_POST
def realserver_delete(request: HttpRequest, vs: int, pk: int) -> HttpResponse:
    real = get_object_or_404(RealServer, pk=pk, virtual_server_id=vs)
    real.delete()
    record(user_of(request), "delete", f"real server {real.name}")
    messages.success(request, f"Deleted real server {real.name}.")
    return redirect("lbconfig:realserver_list", vs=vs)


@require_POST
def realserver_toggle(request: HttpRequest, vs: int, pk: int) -> HttpResponse:
    real = get_object_or_404(RealServer, pk=pk, virtual_server_id=vs)
    toggle(request, real, f"Real server {real.name}")
    return redirect("lbconfig:realserver_list", vs=vs)
