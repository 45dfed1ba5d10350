"""Data for the lbconfig tests: plain `make_*(**overrides)` functions, and what a
browser posts for an unchanged form (`form_data`)."""

from __future__ import annotations

from typing import Any

from django import forms

from lbconfig.forms import (
    VirtualServerForm,
)
from lbconfig.models import (
    FailoverService,
    GlobalSettings,
    RealServer,
    VirtualServer,
)


def make_global_settings(**overrides: Any) -> GlobalSettings:
    """A NAT router pair's global settings (the row `load()` returns)."""
    glob: GlobalSettings = GlobalSettings.load()
    values = {
        "primary": "192.168.1.10",
        "network": "nat",
        "nat_router": "10.0.0.254",
        "nat_nmask": "255.255.255.0",
        "nat_router_device": "eth1:1",
        **overrides,
    }
    for key, value in values.items():
        setattr(glob, key, value)
    glob.save()
    return glob


def make_virtual_server(**overrides: Any) -> VirtualServer:
    """An active HTTP virtual server with its own VIP."""
    n = VirtualServer.objects.count()
    values = {
        "name": f"vs{n}",
        "active": True,
        "address": f"192.168.{1 + n // 200}.{10 + n % 200}",
        "device": "eth0:1",
        "port": 80,
        "position": n,
        **overrides,
    }
    return VirtualServer.objects.create(**values)


def make_real_server(virtual_server: VirtualServer, **overrides: Any) -> RealServer:
    """An active real server of `virtual_server`."""
    n = virtual_server.real_servers.count()
    values = {
        "name": f"r{n}",
        "address": f"10.{virtual_server.pk % 250}.{n // 250}.{1 + n % 250}",
        "active": True,
        **overrides,
    }
    return RealServer.objects.create(virtual_server=virtual_server, **values)


def make_nat_config(virtuals: int = 1, reals: int = 2) -> list[VirtualServer]:
    """A complete, publishable NAT configuration."""
    make_global_settings()
    servers = [make_virtual_server() for _ in range(virtuals)]
    for server in servers:
        for _ in range(reals):
            make_real_server(server)
    return servers


def form_data(form_class: type[forms.ModelForm], instance: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """What a browser posts for an unchanged form showing `instance`."""
    form = form_class(instance=instance)
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else value
    return data


def new_virtual_server_data(**overrides: Any) -> dict[str, Any]:
    data = form_data(VirtualServerForm, VirtualServer())
    data.update(name="web", address="192.168.1.100", device="eth0:1")
    data.pop("seen_version")
    return {**data, **overrides}


def make_failover(**overrides: Any) -> FailoverService:
    """An active web failover service with its own address."""
    n = FailoverService.objects.count()
    values = {
        "name": f"fos{n}",
        "active": True,
        "address": f"192.168.5.{80 + n}",
        "position": n,
        **overrides,
    }
    return FailoverService.objects.create(**values)
