"""VIRTUAL SERVERS, and per virtual server VIRTUAL SERVER, REAL SERVER and
MONITORING SCRIPTS."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lbconfig.forms import MonitoringScriptsForm, RealServerForm, VirtualServerForm
from lbconfig.models import RealServer, VirtualServer
from lbconfig.views.common import (
    BlockPage,
    Deletion,
    confirm_delete,
    delete_row,
    edit_block,
    keep_if_valid,
    toggle,
)

# Rows per page of the VIRTUAL SERVERS list. A router may have 1,000 virtual
# servers: a page of 100 takes ~20 ms of CPU, all 1,000 ~100 ms (web_bench.py).
PAGE_SIZES = (25, 50, 100, 250, 1000)
DEFAULT_PAGE_SIZE = 100
_SIZE_KEY = "virtualserver_page_size"
# The columns the list shows: not the notes, comments and imported keys.
_LIST_COLUMNS = "pk name active address vip_nmask port fwmark protocol device".split()


def virtualserver_list(request: HttpRequest) -> HttpResponse:
    """The list, a page at a time, filtered by name, address, device or port."""
    query = request.GET.get("q", "").strip()[:100]
    size = _page_size(request)
    servers = VirtualServer.objects.all()
    if query:
        servers = servers.filter(_matching(query))
    rows = servers.order_by("position", "id").values(*_LIST_COLUMNS)
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    page.object_list = _rows(list(page.object_list))
    return render(
        request,
        "lbconfig/virtualserver_list.html",
        {
            "nav": "virtual",
            "servers": page,
            "pages": page.paginator.get_elided_page_range(page.number),
            "q": query,
            "size": size,
            "sizes": PAGE_SIZES,
        },
    )


def _rows(page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of one page as text, with their real server counts.

    Text, because rendering 1,000 rows Django spent a third of its time
    localising numbers (pk, port, count) through the translation machinery. The
    counts are one grouped query over the page's rows: half the time of a join
    with the virtual servers.
    """
    base = reverse("lbconfig:virtualserver_list")
    ids = [values["pk"] for values in page]
    counts = dict(
        RealServer.objects.filter(virtual_server_id__in=ids)
        .values_list("virtual_server_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        {
            **values,
            "vip_nmask": values["vip_nmask"] or "Unused",
            "port": f"fwmark {values['fwmark']}"
            if values["fwmark"]
            else str(values["port"]),
            "count": str(counts.get(values["pk"], 0)),
            "href": f"{base}{values['pk']}/",
        }
        for values in page
    ]


def _page_size(request: HttpRequest) -> int:
    """`?size=` when it is one of PAGE_SIZES (remembered), else the last one."""
    asked = request.GET.get("size", "")
    if asked.isascii() and asked.isdigit() and int(asked) in PAGE_SIZES:
        if request.session.get(_SIZE_KEY) != int(asked):
            request.session[_SIZE_KEY] = int(asked)
        return int(asked)
    remembered = request.session.get(_SIZE_KEY)
    return remembered if remembered in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _matching(query: str) -> Q:
    """Virtual servers whose name or device contains `query`, whose VIP starts
    with it, or whose port or firewall mark it is."""
    found = (
        Q(name__icontains=query)
        | Q(address__startswith=query)
        | Q(device__icontains=query)
    )
    if query.isascii() and query.isdigit() and int(query) < 2**32:
        found |= Q(port=int(query)) | Q(fwmark=int(query))
    return found


def virtualserver_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk) if pk else VirtualServer()
    return edit_block(
        request,
        VirtualServerForm,
        server,
        BlockPage(
            "virtual",
            "virtual server",
            "lbconfig:virtualserver_edit",
            "lbconfig/virtualserver_edit.html",
        ),
        {"nav": "virtual", "sub": "virtual", "server": server},
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
    delete_row(request, server, f"virtual server {server.name}")
    return redirect("lbconfig:virtualserver_list")


@require_POST
def virtualserver_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    toggle(request, server, f"Virtual server {server.name}")
    # Back to the page and filter the button was on.
    back = request.POST.get("next", "")
    if back.startswith(reverse("lbconfig:virtualserver_list") + "?"):
        return redirect(back)
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
    delete_row(request, real, f"real server {real.name}")
    return redirect("lbconfig:realserver_list", vs=vs)


@require_POST
def realserver_toggle(request: HttpRequest, vs: int, pk: int) -> HttpResponse:
    real = get_object_or_404(RealServer, pk=pk, virtual_server_id=vs)
    toggle(request, real, f"Real server {real.name}")
    return redirect("lbconfig:realserver_list", vs=vs)
