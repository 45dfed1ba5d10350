"""Access control: allowed networks before login, and failed-login throttling."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from lbconfig.models import VirtualServer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/login/", "/virtual-servers/", "/static/x"])
def test_an_address_outside_the_allowed_networks_gets_403_even_for_login(path):
    client = Client(REMOTE_ADDR="203.0.113.9")
    response = client.get(path)
    assert response.status_code == 403
    assert b"203.0.113.9 is not in PIRANHA_ALLOWED_NETWORKS" in response.content


def test_a_post_from_outside_the_allowed_networks_changes_nothing(admin_user):
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.force_login(admin_user)
    response = client.post(reverse("lbconfig:virtualserver_add"), {"name": "x"})
    assert response.status_code == 403
    assert not VirtualServer.objects.exists()


def test_an_address_inside_a_private_range_reaches_the_login_page():
    assert Client(REMOTE_ADDR="192.168.7.20").get("/login/").status_code == 200


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_every_method_of_a_panel_needs_a_login(client, method):
    # The original's CVE-2013-6492: only GET required a login.
    response = getattr(client, method)(reverse("lbconfig:virtualserver_list"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("login"))


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_user_out_even_with_the_right_one(
    django_user_model,
):
    django_user_model.objects.create_user("piranha", password="right-horse-9")
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "piranha", "password": "wrong"})
    response = client.post(
        "/login/", {"username": "piranha", "password": "right-horse-9"}
    )
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


def test_a_right_password_logs_in_and_resets_the_count(django_user_model):
    django_user_model.objects.create_user("piranha", password="right-horse-9")
    client = Client()
    client.post("/login/", {"username": "piranha", "password": "wrong"})
    response = client.post(
        "/login/", {"username": "piranha", "password": "right-horse-9"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
