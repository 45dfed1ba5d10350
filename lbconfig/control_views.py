"""CONTROL/MONITORING: the landing page, its live status panel, pulse's buttons.

Talking to pulse goes through lbconfig/control.py only; its `ControlError`
becomes `messages.error`. The panel (`_status_panel.html`) is included by the
page and returned alone by `status_panel`, which the page polls with htmx;
returned without its trigger attributes it stops polling ("Auto update" off).

Every view needs a login (LoginRequiredMiddleware), except three that check it
themselves: the panel (an expired login must send the whole page to the login
form, not swap the form into the panel) and /status.json and /metrics, which
also take the read-only PIRANHA_STATUS_TOKEN.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

import lvscf
from lbconfig import control
from lbconfig import publish as publishing
from lbconfig.control_metrics import prometheus
from lbconfig.control_panel import panel_context, poll
from lbconfig.control_table import SHOW
from lbconfig.convert import to_config
from lbconfig.models import (
    GlobalSettings,
    RealServer,
    Redundancy,
    Revision,
    VirtualServer,
)

EVERY_DEFAULT = 5  # seconds between polls of the panel
EVERY_MIN, EVERY_MAX = 1, 3600
LIVE_DEFAULT = {"auto": True, "every": EVERY_DEFAULT, "show": "auto", "match": ""}


def _live(request: HttpRequest) -> dict[str, Any]:
    """The live controls as the form sent them ("live" marks the form), kept in
    the session so that they survive the reload after a button; else as kept."""
    if "live" not in request.GET:
        return request.session.get("live") or dict(LIVE_DEFAULT)
    try:
        every = int(request.GET.get("every", EVERY_DEFAULT))
    except ValueError:
        every = EVERY_DEFAULT
    show = request.GET.get("show", "auto")
    live = {
        # An unchecked box sends nothing at all.
        "auto": "auto" in request.GET,
        "every": min(max(every, EVERY_MIN), EVERY_MAX),
        "show": show if show in SHOW else "auto",
        "match": request.GET.get("match", "").strip()[:64],
    }
    if request.session.get("live") != live:
        request.session["live"] = live
    return live


def _panel(request: HttpRequest) -> dict[str, Any]:
    live = _live(request)
    context = {"live": live, "mode": control.mode()}
    show, match = live["show"], live["match"]
    context.update(panel_context(poll(show, match), show, match))
    return context


def home(request: HttpRequest) -> HttpResponse:
    counts = VirtualServer.objects.aggregate(
        total=Count("id"), active=Count("id", filter=Q(active=True))
    )
    problems = lvscf.validate(to_config())
    context = {
        "nav": "control",
        "lvs_cf": publishing.target(),
        "counts": counts,
        "real_servers": RealServer.objects.count(),
        "errors": [p for p in problems if p.is_error],
        "warnings": [p for p in problems if not p.is_error],
        "last": Revision.objects.select_related("author").first(),
        "drift": publishing.drift(),
        "glob": GlobalSettings.load(),
        "red": Redundancy.load(),
        **_panel(request),
    }
    return render(request, "lbconfig/home.html", context)


def _not_logged_in(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("Log in first.\n", status=401, content_type="text/plain")
    # htmx loads the login page in the whole window instead of inside the panel.
    response["HX-Redirect"] = f"{reverse('login')}?next={reverse('lbconfig:home')}"
    return response


@login_not_required
@require_GET
def status_panel(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _not_logged_in(request)
    return render(request, "lbconfig/_status_panel.html", _panel(request))


def _user(request: HttpRequest) -> str:
    return request.user.get_username()


@require_POST
def pulse_action(request: HttpRequest, verb: str) -> HttpResponse:
    if verb not in control.VERBS:
        raise Http404(f"no action {verb}")
    try:
        result = control.act(verb, _user(request))
    except control.ControlError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, result)
    return redirect("lbconfig:home")


@require_POST
def pulse_admin(request: HttpRequest) -> HttpResponse:
    """DRAIN, MAINT or READY: the button's value is "VERB VIRTUAL SERVER"."""
    verb, _, rest = request.POST.get("verb", "").partition(" ")
    virtual, _, server = rest.partition(" ")
    if verb not in control.ADMIN_VERBS or not virtual or not server:
        messages.error(request, "Say which real server: DRAIN, MAINT or READY.")
        return redirect("lbconfig:home")
    try:
        result = control.set_admin(verb, virtual, server, _user(request))
    except control.ControlError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, result)
    return redirect("lbconfig:home")


def _reader(request: HttpRequest) -> bool:
    """A logged-in user, or a script with `Authorization: Bearer <token>`."""
    if request.user.is_authenticated:
        return True
    token = str(settings.PIRANHA_STATUS_TOKEN)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _refused() -> HttpResponse:
    response = HttpResponse(
        "Log in, or send Authorization: Bearer <PIRANHA_STATUS_TOKEN>.\n",
        status=401,
        content_type="text/plain",
    )
    response["WWW-Authenticate"] = 'Bearer realm="piranha-web"'
    return response


@login_not_required
@require_GET
def status_json(request: HttpRequest) -> HttpResponse:
    if not _reader(request):
        return _refused()
    snap = control.snapshot()
    body = {"state": snap.state, "detail": snap.detail, "status": snap.status}
    return JsonResponse(body, json_dumps_params={"separators": (",", ":")})


@login_not_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _reader(request):
        return _refused()
    return HttpResponse(
        prometheus(control.snapshot()),
        content_type="text/plain; version=0.0.4; charset=utf-8",
    )


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    path("status/", status_panel, name="status"),
    path("status.json", status_json, name="status_json"),
    path("metrics", metrics, name="metrics"),
    path("pulse/real-server/", pulse_admin, name="pulse_admin"),
    path("pulse/<slug:verb>/", pulse_action, name="pulse_action"),
]
