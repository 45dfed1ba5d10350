"""Views of the lbconfig app. Every view needs a login (LoginRequiredMiddleware)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    lvs_cf = settings.PIRANHA_LVS_CF
    return render(
        request,
        "lbconfig/home.html",
        {"lvs_cf": lvs_cf, "lvs_cf_exists": lvs_cf.is_file()},
    )
