"""Views of the sync to the backup router: settings, key, host key, sync, state.

Each view calls one function of lbconfig/sync.py and turns its `SyncError` into
`messages.error`. Every state change is a POST (CSRF); LoginRequiredMiddleware
guards them all. The state panel, `_sync_state.html`, loads itself with htmx.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from lbconfig import sync
from lbconfig.audit import record
from lbconfig.forms import StaleEdit
from lbconfig.models import Revision, SyncTarget, VirtualServer
from lbconfig.sync_forms import HostKeyForm, SyncSettingsForm
from lbconfig.views.publishing import publish_or_say


def _user(request: HttpRequest) -> str:
    return request.user.get_username()


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the button was on (`next`), else the settings page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("lbconfig:sync_settings")


def sync_settings(request: HttpRequest) -> HttpResponse:
    target = SyncTarget.load()
    form = SyncSettingsForm(request.POST or None, instance=target)
    if form.is_valid():
        try:
            with transaction.atomic():
                form.save()
        except StaleEdit as exc:
            form.add_error(None, str(exc))
        else:
            record(_user(request), "change", "backup sync settings")
            messages.success(request, "Saved the backup sync settings.")
            return redirect("lbconfig:sync_settings")
    context = {"form": form, "target": target, "address": sync.address(target)}
    if not target.copy_fwmark_rules:
        # The marks live in iptables, not lvs.cf: without them the backup
        # takes over these virtual servers but never sees their packets.
        context["marked"] = VirtualServer.objects.filter(fwmark__gt=0).count()
    return render(
        request, "lbconfig/sync_settings.html", {"nav": "redundancy", **context}
    )


@require_POST
def sync_keygen(request: HttpRequest) -> HttpResponse:
    public = sync.save_new_key(_user(request))
    messages.success(
        request,
        f"New ed25519 key. Add this line to authorized_keys on the backup: {public}",
    )
    return redirect("lbconfig:sync_settings")


def sync_hostkey_confirm(request: HttpRequest) -> HttpResponse:
    """GET: contact the backup and show its key; POST: trust the key shown."""
    if request.method == "POST":
        return _confirm(request)
    target = SyncTarget.load()
    try:
        found = sync.fetch_host_key(target)
    except sync.SyncError as exc:
        messages.error(request, str(exc))
        return redirect("lbconfig:sync_settings")
    form = HostKeyForm(initial={"line": found.line, "fingerprint": found.fingerprint})
    context = {"found": found, "form": form, "target": target}
    context["changed"] = bool(target.host_key) and target.host_key != found.line
    return render(
        request, "lbconfig/sync_hostkey.html", {"nav": "redundancy", **context}
    )


def _confirm(request: HttpRequest) -> HttpResponse:
    form = HostKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The host key was not sent back; fetch it again.")
        return redirect("lbconfig:sync_settings")
    try:
        key = sync.confirm_host_key(
            form.cleaned_data["line"], form.cleaned_data["fingerprint"], _user(request)
        )
    except sync.SyncError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Trusting the backup's host key {key.fingerprint}.")
    return redirect("lbconfig:sync_settings")


@require_POST
def sync_run(request: HttpRequest) -> HttpResponse:
    revision = Revision.objects.first()
    if revision is None:
        messages.error(request, "Nothing to sync: publish a configuration first.")
    else:
        _sync(request, revision)
    return _back(request)


def _sync(request: HttpRequest, revision: Revision) -> None:
    try:
        result = sync.sync_to_backup(revision, _user(request))
    except sync.SyncError as exc:
        messages.error(request, f"Backup not synced: {exc}")
        return
    messages.success(request, str(result))
    if result.reload_problem:
        messages.warning(
            request, f"The files are in place, but {result.reload_problem}."
        )


@require_POST
def sync_publish(request: HttpRequest) -> HttpResponse:
    """PUBLISH AND SYNC: write lvs.cf here, then copy it to the backup."""
    revision = publish_or_say(request, "publish and sync", where="")
    if revision is None:
        return redirect("lbconfig:preview")
    messages.success(request, f"Published revision {revision.pk}.")
    _sync(request, revision)
    return redirect("lbconfig:revision_list")


@require_POST
def sync_check(request: HttpRequest) -> HttpResponse:
    state = sync.sync_state()
    level = messages.SUCCESS if state.status == "in_sync" else messages.WARNING
    messages.add_message(request, level, f"Backup: {state.message}.")
    return _back(request)


@require_GET
def sync_state(request: HttpRequest) -> HttpResponse:
    """The state panel alone (htmx); checks the backup if a publish came since."""
    target, last = SyncTarget.load(), Revision.objects.first()
    if last and (target.last_checked is None or target.last_checked < last.created):
        sync.sync_state(last)
        target = SyncTarget.load()
    back = urlsplit(request.headers.get("HX-Current-URL", "")).path
    context = {"sync": target, "back": back or reverse("lbconfig:sync_settings")}
    return render(request, "lbconfig/_sync_state.html", context)


urlpatterns: list[URLPattern] = [
    path("backup-sync/", sync_settings, name="sync_settings"),
    path("backup-sync/key/", sync_keygen, name="sync_keygen"),
    path("backup-sync/host-key/", sync_hostkey_confirm, name="sync_hostkey_confirm"),
    path("backup-sync/run/", sync_run, name="sync_run"),
    path("backup-sync/check/", sync_check, name="sync_check"),
    path("backup-sync/state/", sync_state, name="sync_state"),
    path("backup-sync/publish/", sync_publish, name="sync_publish"),
]
