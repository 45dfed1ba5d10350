"""The whole path through the panels: build a NAT configuration, publish, read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import lvscf
from lbconfig.models import Revision, VirtualServer

pytestmark = pytest.mark.django_db

# The VIRTUAL SERVER form of an active-to-be web service on 192.168.1.100:80.
VIRTUAL_FORM: dict[str, object] = {
    "port": 80,
    "protocol": "tcp",
    "address": "192.168.1.100",
    "device": "eth0:1",
    "reentry": 15,
    "timeout": 6,
    "load_monitor": "none",
    "scheduler": "wlc",
    "persistent": 0,
    "fwmark": 0,
    "client_monitor": "/usr/sbin/nanny",
}


def post(client: Client, name: str, data: dict[str, object], **kwargs: int) -> None:
    response = client.post(reverse(f"lbconfig:{name}", kwargs=kwargs), data)
    form = response.context["form"] if response.context else None
    assert response.status_code == 302, form.errors if form else response.status_code


def build_nat(client: Client) -> VirtualServer:
    post(
        client,
        "globalsettings_edit",
        {
            "primary": "192.168.1.10",
            "network": "nat",
            "nat_router": "10.0.0.254",
            "nat_nmask": "255.255.255.0",
            "nat_router_device": "eth1:1",
            "tcp_timeout": 0,
            "tcpfin_timeout": 0,
            "udp_timeout": 0,
            "hard_shutdown": "on",
            "ipvsadm": "/sbin/ipvsadm",
            "rsh_command": "rsh",
            "debug_level": "NONE",
            "seen_version": 1,
        },
    )
    post(
        client,
        "virtualserver_add",
        {"name": "web", **VIRTUAL_FORM},
    )
    web = VirtualServer.objects.get(name="web")
    for n in range(3):
        post(
            client,
            "realserver_add",
            {"name": f"r{n}", "address": f"10.0.0.{n + 1}", "weight": 1},
            vs=web.pk,
        )
    post(client, "virtualserver_toggle", {}, pk=web.pk)
    for real in web.real_servers.all():
        post(client, "realserver_toggle", {}, vs=web.pk, pk=real.pk)
    return web


def test_a_nat_configuration_built_in_the_panels_is_published_as_lvs_cf(
    admin_client: Client, var_dir: Path
) -> None:
    build_nat(admin_client)
    post(admin_client, "publish", {"note": "first"})
    text = (var_dir / "lvs.cf").read_text()
    config = lvscf.parse(text)
    assert [p for p in lvscf.validate(config) if p.is_error] == []
    web = config.virtual("web")
    assert web is not None and web.active
    assert [(s.name, s.address, s.port, s.active) for s in web.servers] == [
        ("r0", "10.0.0.1", 80, True),
        ("r1", "10.0.0.2", 80, True),
        ("r2", "10.0.0.3", 80, True),
    ]
    assert web.send == "GET / HTTP/1.0\\r\\n\\r\\n" and web.expect == "HTTP"
    revision = Revision.objects.get()
    assert (revision.serial_no, revision.note, config.serial_no) == (1, "first", 1)


def test_a_duplicate_vip_port_is_refused_next_to_the_port_naming_the_other(
    admin_client: Client, var_dir: Path
) -> None:
    build_nat(admin_client)
    data = {
        "name": "web2",
        **VIRTUAL_FORM,
    }
    admin_client.post(reverse("lbconfig:virtualserver_add"), data)
    web2 = VirtualServer.objects.get(name="web2")
    admin_client.post(reverse("lbconfig:virtualserver_toggle", args=[web2.pk]))
    data["seen_version"] = web2.version + 1
    response = admin_client.post(
        reverse("lbconfig:virtualserver_edit", args=[web2.pk]), data
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already used by virtual server `web`" in errors["port"][0]


def test_legacy_and_fos_keys_are_editable_and_published(
    admin_client: Client, var_dir: Path
) -> None:
    web = build_nat(admin_client)
    data = {
        "name": "web",
        **VIRTUAL_FORM,
        "start_cmd": "/etc/rc.d/init.d/httpd start",
        "master": "10.9.9.9",
        "dirs": "/srv/a /srv/b",
        "seen_version": VirtualServer.objects.get(pk=web.pk).version,
    }
    post(admin_client, "virtualserver_edit", data, pk=web.pk)
    post(admin_client, "publish", {})
    config = lvscf.parse((var_dir / "lvs.cf").read_text())
    published = config.virtual("web")
    assert published is not None
    assert published.start_cmd == "/etc/rc.d/init.d/httpd start"
    assert (published.master, published.dirs) == ("10.9.9.9", ("/srv/a", "/srv/b"))
    assert config.heartbeat is False  # build_nat posted the box unchecked
