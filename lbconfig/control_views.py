"""CONTROL/MONITORING: the landing page after login.

Every view needs a login (LoginRequiredMiddleware). Talking to pulse goes
through lbconfig/control.py only.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

import lvscf
from lbconfig import publish as publishing
from lbconfig.convert import to_config
from lbconfig.models import (
    GlobalSettings,
    RealServer,
    Redundancy,
    Revision,
    VirtualServer,
)


def home(request: HttpRequest) -> HttpResponse:
    counts = VirtualServer.objects.aggregate(
        total=Count("id"), active=Count("id", filter=Q(active=True))
    )
    problems = lvscf.validate(to_config())
    return render(
        request,
        "lbconfig/home.html",
        {
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
        },
    )


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
]
