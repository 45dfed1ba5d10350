"""PUBLISH (preview and write), HISTORY (revisions, restore), IMPORT, AUDIT LOG."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

import lvscf
from lbconfig import publish as publishing
from lbconfig.audit import record
from lbconfig.convert import ImportRefused, import_config
from lbconfig.forms import ImportForm, PublishForm
from lbconfig.models import AuditEntry, Revision
from lbconfig.views.common import user_of


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
    revision = publish_or_say(request, note)
    if revision is None:
        return redirect("lbconfig:preview")
    messages.success(
        request,
        f"Published revision {revision.pk} (serial {revision.serial_no}) "
        f"to {revision.path}.",
    )
    return redirect("lbconfig:revision_list")


def publish_or_say(
    request: HttpRequest, note: str, where: str = " below"
) -> Revision | None:
    """Write lvs.cf as a new revision; if it cannot be, say why and return None.

    `where` tells where the page the caller goes back to shows the problems.
    """
    try:
        return publishing.publish(user_of(request), note, author=request.user)
    except publishing.PublishError as exc:
        count = len(exc.problems)
        messages.error(request, f"lvs.cf was not written: {count} error(s){where}.")
    except OSError as exc:
        messages.error(request, f"lvs.cf was not written: {exc.strerror or exc}.")
    return None


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
        new = publishing.restore(revision, user_of(request), author=request.user)
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
    record(user_of(request), "import", f"{len(config.virtual_servers)} virtual servers")
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
