"""URLs of the lbconfig app, named ``lbconfig:<model>_<action>``."""

from __future__ import annotations

from django.urls import path

from lbconfig import views

app_name = "lbconfig"

urlpatterns = [
    path("", views.home, name="home"),
]
