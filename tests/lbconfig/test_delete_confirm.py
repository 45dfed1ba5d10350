"""DELETE asks first: the list buttons open a confirmation page (GET) that names
what goes, and only its form POSTs to the delete URL (which stays POST-only).

The anonymous checks of the confirmation URLs are in test_views.py's URL list.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from lbconfig.models import FailoverService, RealServer, VirtualServer
from tests.factories import make_nat_config, make_virtual_server
from tests.lbconfig.helpers import snapshot

pytestmark = pytest.mark.django_db


def form_action(html: str) -> str:
    found = re.search(r'<form method="post" action="([^"]+)" id="delete-form">', html)
    assert found, "the page has a delete form"
    return found.group(1)


def test_virtual_server_confirmation_names_it_and_its_real_servers(
    admin_client, var_dir
):
    (web,) = make_nat_config(virtuals=1, reals=3)
    before = snapshot()

    response = admin_client.get(
        reverse("lbconfig:virtualserver_delete_confirm", args=[web.pk])
    )

    assert response.status_code == 200
    assert f"<strong>{web.name}</strong> ({web.address}:80/tcp)" in response.text
    assert "Its 3 real servers go with it." in response.text
    assert form_action(response.text) == reverse(
        "lbconfig:virtualserver_delete", args=[web.pk]
    )
    assert snapshot() == before, "showing the page deletes nothing"


@pytest.mark.parametrize(
    ("reals", "sentence"),
    [(0, "It has no real servers."), (1, "Its 1 real server goes with it.")],
)
def test_virtual_server_confirmation_counts_in_words(
    admin_client, var_dir, reals, sentence
):
    (web,) = make_nat_config(virtuals=1, reals=reals)

    response = admin_client.get(
        reverse("lbconfig:virtualserver_delete_confirm", args=[web.pk])
    )

    assert sentence in response.text


def test_the_confirmation_form_deletes_the_virtual_server(admin_client, var_dir):
    web, mail = make_nat_config(virtuals=2, reals=2)
    page = admin_client.get(
        reverse("lbconfig:virtualserver_delete_confirm", args=[web.pk])
    )

    response = admin_client.post(form_action(page.text))

    assert response.status_code == 302
    assert list(VirtualServer.objects.all()) == [mail]
    assert RealServer.objects.filter(virtual_server_id=web.pk).count() == 0


def test_real_server_confirmation_names_it_and_its_virtual_server(
    admin_client, var_dir
):
    (web,) = make_nat_config(virtuals=1, reals=2)
    real = web.real_servers.first()
    assert real is not None

    response = admin_client.get(
        reverse("lbconfig:realserver_delete_confirm", args=[web.pk, real.pk])
    )

    assert f"<strong>{real.name}</strong>" in response.text
    assert f"of virtual server {web.name}" in response.text
    assert form_action(response.text) == reverse(
        "lbconfig:realserver_delete", args=[web.pk, real.pk]
    )
    admin_client.post(form_action(response.text))
    assert not RealServer.objects.filter(pk=real.pk).exists()
    assert web.real_servers.count() == 1


def test_real_server_confirmation_of_another_virtual_servers_server_is_404(
    admin_client, var_dir
):
    web, mail = make_nat_config(virtuals=2, reals=1)
    real = mail.real_servers.get()

    response = admin_client.get(
        reverse("lbconfig:realserver_delete_confirm", args=[web.pk, real.pk])
    )

    assert response.status_code == 404


def test_failover_confirmation_names_it(admin_client, var_dir):
    smtp = FailoverService.objects.create(name="smtp", address="192.168.5.25", port=25)

    response = admin_client.get(
        reverse("lbconfig:failover_delete_confirm", args=[smtp.pk])
    )

    assert "<strong>smtp</strong> (192.168.5.25:25)" in response.text
    assert form_action(response.text) == reverse(
        "lbconfig:failover_delete", args=[smtp.pk]
    )


@pytest.mark.parametrize(
    "name",
    [
        "virtualserver_delete_confirm",
        "realserver_delete_confirm",
        "failover_delete_confirm",
    ],
)
def test_a_post_to_a_confirmation_page_is_405_and_deletes_nothing(
    admin_client, var_dir, name
):
    (web,) = make_nat_config()
    real = web.real_servers.first()
    assert real is not None
    smtp = FailoverService.objects.create(name="smtp", address="192.168.5.25")
    args = {
        "virtualserver_delete_confirm": [web.pk],
        "realserver_delete_confirm": [web.pk, real.pk],
        "failover_delete_confirm": [smtp.pk],
    }[name]
    before = snapshot()

    response = admin_client.post(reverse(f"lbconfig:{name}", args=args))

    assert response.status_code == 405
    assert snapshot() == before


def test_the_confirmation_of_a_missing_virtual_server_is_404(admin_client, var_dir):
    response = admin_client.get(
        reverse("lbconfig:virtualserver_delete_confirm", args=[999])
    )

    assert response.status_code == 404


def test_the_lists_delete_buttons_open_the_confirmation(admin_client, var_dir):
    (web,) = make_nat_config(reals=1)
    make_virtual_server(name="other")
    real = web.real_servers.get()
    smtp = FailoverService.objects.create(name="smtp", address="192.168.5.25")

    pages = {
        "lbconfig:virtualserver_list": (
            [],
            reverse("lbconfig:virtualserver_delete_confirm", args=[web.pk]),
            reverse("lbconfig:virtualserver_delete", args=[web.pk]),
        ),
        "lbconfig:realserver_list": (
            [web.pk],
            reverse("lbconfig:realserver_delete_confirm", args=[web.pk, real.pk]),
            reverse("lbconfig:realserver_delete", args=[web.pk, real.pk]),
        ),
        "lbconfig:failover_list": (
            [],
            reverse("lbconfig:failover_delete_confirm", args=[smtp.pk]),
            reverse("lbconfig:failover_delete", args=[smtp.pk]),
        ),
    }
    for name, (args, confirm, delete) in pages.items():
        text = admin_client.get(reverse(name, args=args)).text
        assert f'href="{confirm}">DELETE</a>' in text, name
        assert f'"{delete}"' not in text, f"{name} posts to the delete URL directly"
