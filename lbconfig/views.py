"""Views of the panels. Every view needs a login (LoginRequiredMiddleware).

Views stay thin: forms validate fields, `lvscf.validate` (through `_keep_if_valid`)
validates the whole, and side effects live in publish.py and audit.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

import lvscf
from lbconfig import publish as publishing
from lbconfig.audit import record
from lbconfig.convert import ImportRefused, import_config, to_config
from lbconfig.forms import (
    GlobalSettingsForm,
    ImportForm,
    MonitoringScriptsForm,
    PublishForm,
    RealServerForm,
    RedundancyForm,
    StaleEdit,
    VersionedForm,
    VirtualServerForm,
)
from lbconfig.models import (
    AuditEntry,
    GlobalSettings,
    RealServer,
    Redundancy,
    Revision,
    VirtualServer,
)

# lvscf paths end in the keyword; these keywords live in another form field.
_FIELD_OF = {"nat_router_device": "nat_router_device", "device": "device"}


def _user(request: HttpRequest) -> str:
    return request.user.get_username()


def _keep_if_valid(
    request: HttpRequest, form: VersionedForm, prefix: tuple[str, ...], what: str
) -> bool:
    """Save the form, then check the whole configuration; undo on our errors.

    Errors `lvscf.validate` finds for this object (e.g. a VIP:port another
    virtual server uses) are put next to the field; warnings are shown but
    do not block; problems elsewhere in the configuration do not block here.
    """
    try:
        with transaction.atomic():
            form.save()
            problems = lvscf.validate(to_config())
            mine = [p for p in problems if _concerns(p.path, prefix)]
            errors = [p for p in mine if p.is_error]
            for problem in errors:
                field = _field(form, problem.path[len(prefix) :])
                form.add_error(field, problem.message)
            if errors:
                transaction.set_rollback(True)
                return False
    except StaleEdit as exc:
        form.add_error(None, str(exc))
        return False
    for problem in mine:
        messages.warning(request, problem.message)
    record(_user(request), "change", what)
    messages.success(request, f"Saved {what}. Publish to write lvs.cf.")
    return True


def _concerns(path: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    """Is a problem at `path` about the object at `prefix` (() = the global keys)?"""
    if not path or path[: len(prefix)] != prefix:
        return False
    return bool(prefix) or len(path) == 1


def _field(form: VersionedForm, rest: tuple[str, ...]) -> str | None:
    name = _FIELD_OF.get(rest[0], rest[0]) if rest else None
    return name if name in form.fields else None


# --- GLOBAL SETTINGS, REDUNDANCY -----------------------------------------------------


def global_settings(request: HttpRequest) -> HttpResponse:
    form = GlobalSettingsForm(request.POST or None, instance=GlobalSettings.load())
    if form.is_valid() and _keep_if_valid(request, form, (), "global settings"):
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
        and _keep_if_valid(request, form, (), "redundancy")
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
    record(_user(request), "change", f"backup router {state}")
    messages.success(request, f"Backup router {state}. Publish to write lvs.cf.")
    return redirect("lbconfig:redundancy_edit")


# --- VIRTUAL SERVERS -----------------------------------------------------------------


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
        if _keep_if_valid(request, form, ("virtual", name), f"virtual server {name}"):
            return redirect("lbconfig:virtualserver_edit", pk=form.instance.pk)
    return render(
        request,
        "lbconfig/virtualserver_edit.html",
        {"nav": "virtual", "sub": "virtual", "form": form, "server": server},
    )


@require_POST
def virtualserver_delete(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    server.delete()
    record(_user(request), "delete", f"virtual server {server.name}")
    messages.success(request, f"Deleted virtual server {server.name}.")
    return redirect("lbconfig:virtualserver_list")


@require_POST
def virtualserver_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    _toggle(request, server, f"Virtual server {server.name}")
    return redirect("lbconfig:virtualserver_list")


def _toggle(request: HttpRequest, row: VirtualServer | RealServer, what: str) -> None:
    """(DE)ACTIVATE: flip `active`, note it in the audit log and say so."""
    row.active = not row.active
    row.version += 1
    row.save(update_fields=["active", "version"])
    state = "activated" if row.active else "deactivated"
    record(_user(request), "change", f"{what} {state}")
    messages.success(request, f"{what} {state}. Publish to write lvs.cf.")


def monitoring_scripts(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(VirtualServer, pk=pk)
    form = MonitoringScriptsForm(request.POST or None, instance=server)
    prefix = ("virtual", server.name)
    if form.is_valid() and _keep_if_valid(
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
        if _keep_if_valid(request, form, prefix, what):
            return redirect("lbconfig:realserver_list", vs=vs)
    return render(
        request,
        "lbconfig/realserver_edit.html",
        {"nav": "virtual", "sub": "real", "form": form, "server": server, "real": real},
    )


@require_POST
def realserver_delete(request: HttpRequest, vs: int, pk: int) -> HttpResponse:
    real = get_object_or_404(RealServer, pk=pk, virtual_server_id=vs)
    real.delete()
    record(_user(request), "delete", f"real server {real.name}")
    messages.success(request, f"Deleted real server {real.name}.")
    return redirect("lbconfig:realserver_list", vs=vs)


@require_POST
def realserver_toggle(request: HttpRequest, vs: int, pk: int) -> HttpResponse:
    real = get_object_or_404(RealServer, pk=pk, virtual_server_id=vs)
    _toggle(request, real, f"Real server {real.name}")
    return redirect("lbconfig:realserver_list", vs=vs)


# --- publish, history, import --------------------------------------------------------


def preview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "lbconfig/preview.html",
        {"nav": "publish", "preview": publishing.preview(), "form": PublishForm()},
    )


@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    form = PublishForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        revision = publishing.publish(_user(request), note, author=request.user)
    except publishing.PublishError as exc:
        messages.error(
            request, f"lvs.cf was not written: {len(exc.problems)} error(s) below."
        )
        return redirect("lbconfig:preview")
    except OSError as exc:
        messages.error(request, f"lvs.cf was not written: {exc.strerror or exc}.")
        return redirect("lbconfig:preview")
    messages.success(
        request,
        f"Published revision {revision.pk} (serial {revision.serial_no}) "
        f"to {revision.path}.",
    )
    return redirect("lbconfig:revision_list")


def revision_list(request: HttpRequest) -> HttpResponse:
    revisions = Revision.objects.select_related("author").defer("text")[:200]
    return render(
        request,
        "lbconfig/revision_list.html",
        {"nav": "history", "revisions": revisions},
    )


def revision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(Revision, pk=pk)
    before = Revision.objects.filter(pk__lt=pk).first()
    diff = publishing.unified_diff(
        before.text if before else "", revision.text, before, revision
    )
    return render(
        request,
        "lbconfig/revision_detail.html",
        {"nav": "history", "revision": revision, "diff": diff},
    )


@require_POST
def revision_restore(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(Revision, pk=pk)
    try:
        new = publishing.restore(revision, _user(request), author=request.user)
    except (publishing.PublishError, ImportRefused, lvscf.LvsCfError) as exc:
        messages.error(request, f"Revision {pk} was not restored: {exc}")
        return redirect("lbconfig:revision_detail", pk=pk)
    messages.success(request, f"Restored revision {pk} as revision {new.pk}.")
    return redirect("lbconfig:revision_list")


def import_file(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[lvscf.Problem] = []
    if form.is_valid():
        problems = _import(request, form.cleaned_data["file"].read())
        if not problems:
            return redirect("lbconfig:virtualserver_list")
    if request.method == "GET" and request.GET.get("from") == "disk":
        problems = _import_from_disk(request)
        if not problems:
            return redirect("lbconfig:virtualserver_list")
    return render(
        request,
        "lbconfig/import.html",
        {
            "nav": "publish",
            "form": form,
            "problems": problems,
            "target": publishing.target(),
        },
    )


def _import(request: HttpRequest, data: bytes) -> list[lvscf.Problem]:
    """Import lvs.cf bytes; return the problems that stopped it (nothing changed)."""
    try:
        config = lvscf.parse(data.decode("utf-8"))
        problems = lvscf.validate(config)
        if any(p.is_error for p in problems):
            return problems
        import_config(config)
    except UnicodeDecodeError:
        return [lvscf.Problem("error", "the file is not UTF-8 text")]
    except (lvscf.LvsCfError, ImportRefused) as exc:
        return exc.problems
    record(_user(request), "import", f"{len(config.virtual_servers)} virtual servers")
    messages.success(request, "Imported. Review the panels, then publish.")
    return []


def _import_from_disk(request: HttpRequest) -> list[lvscf.Problem]:
    text = publishing.on_disk()
    if text is None:
        return [lvscf.Problem("error", f"{publishing.target()} does not exist")]
    return _import(request, text.encode())


def audit_log(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "lbconfig/audit.html",
        {"nav": "audit", "entries": AuditEntry.objects.all()[:500]},
    )
