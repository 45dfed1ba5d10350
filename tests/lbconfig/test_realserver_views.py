"""REAL SERVER: good input saves, bad input and lvscf.validate errors are refused
by the field, a stale page changes nothing, (DE)ACTIVATE and DELETE, and a real
server of another virtual server is out of reach."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lbconfig.forms import (
    STALE,
    RealServerForm,
)
from tests.factories import (
    form_data,
    make_nat_config,
    make_real_server,
)
from tests.lbconfig.helpers import (
    field_errors,
    last_audit,
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


# --- REAL SERVER ---------------------------------------------------------------------


def test_real_server_list_shows_the_servers_of_one_virtual_server(
    admin_client, var_dir
):
    web, mail = make_nat_config(virtuals=2, reals=2)
    make_real_server(web, name="alt", port=8080)

    response = admin_client.get(reverse("lbconfig:realserver_list", args=[web.pk]))

    assert [r.name for r in response.context["reals"]] == ["r0", "r1", "alt"]
    assert "8080" in response.text


def test_real_server_list_of_a_missing_virtual_server_is_404(admin_client, var_dir):
    response = admin_client.get(reverse("lbconfig:realserver_list", args=[999]))

    assert response.status_code == 404


def test_real_server_add_saves_good_input_inactive_and_redirects(admin_client, var_dir):
    (web,) = make_nat_config(reals=0)
    data = {"name": "www1", "address": "10.0.0.1", "port": "", "weight": 5}

    response = post(admin_client, "realserver_add", data, vs=web.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:realserver_list", args=[web.pk])
    real = web.real_servers.get()
    assert (real.name, real.address, real.port, real.weight, real.active) == (
        "www1",
        "10.0.0.1",
        None,
        5,
        False,
    )
    assert last_audit() == ("admin", "change", f"real server www1 of {web.name}")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "www{1}", "no spaces"),
        ("address", "10.0.0.256", "Enter a valid IPv4 address."),
        ("port", "0", "greater than or equal to 1"),
        ("weight", "70000", "less than or equal to"),
        ("notes", "tab\there", "No control characters."),
    ],
)
def test_real_server_add_shows_bad_input_next_to_the_field_and_saves_nothing(
    admin_client, var_dir, field, value, message
):
    (web,) = make_nat_config(reals=0)
    before = snapshot()
    data = {"name": "www1", "address": "10.0.0.1", "weight": 1, field: value}

    response = post(admin_client, "realserver_add", data, vs=web.pk)

    assert any(message in error for error in field_errors(response, field))
    assert snapshot() == before


def test_real_server_add_refuses_a_name_the_virtual_server_has(admin_client, var_dir):
    (web,) = make_nat_config(reals=1)
    before = snapshot()

    response = post(
        admin_client,
        "realserver_add",
        {"name": "r0", "address": "10.0.0.9", "weight": 1},
        vs=web.pk,
    )

    assert field_errors(response, "name") == [
        "This virtual server already has a real server called r0."
    ]
    assert snapshot() == before


def test_real_server_edit_refuses_the_address_of_another_active_one(
    admin_client, var_dir
):
    (web,) = make_nat_config(reals=2)
    r0, r1 = web.real_servers.all()
    before = snapshot()

    response = post(
        admin_client,
        "realserver_edit",
        {**form_data(RealServerForm, r1), "address": r0.address},
        vs=web.pk,
        pk=r1.pk,
    )

    assert field_errors(response, "address") == [
        f"{r0.address}:80 is already real server `r0` of this virtual server"
    ]
    assert snapshot() == before


def test_real_server_edit_saves_good_input_and_redirects(admin_client, var_dir):
    (web,) = make_nat_config(reals=1)
    real = web.real_servers.get()

    response = post(
        admin_client,
        "realserver_edit",
        {**form_data(RealServerForm, real), "weight": 9, "port": 8080},
        vs=web.pk,
        pk=real.pk,
    )

    assert response.status_code == 302
    real.refresh_from_db()
    assert (real.weight, real.port, real.version, real.active) == (9, 8080, 2, True)


def test_real_server_edit_from_a_stale_page_is_refused_and_changes_nothing(
    admin_client, var_dir
):
    (web,) = make_nat_config(reals=1)
    real = web.real_servers.get()
    stale = {**form_data(RealServerForm, real), "weight": 9}
    post(admin_client, "realserver_toggle", vs=web.pk, pk=real.pk)
    before = snapshot()

    response = post(admin_client, "realserver_edit", stale, vs=web.pk, pk=real.pk)

    assert response.status_code == 200
    assert STALE in response.context["form"].non_field_errors()
    assert snapshot() == before


def test_real_server_toggle_activates_and_deactivates(admin_client, var_dir):
    (web,) = make_nat_config(reals=0)
    real = make_real_server(web, active=False)

    response = post(admin_client, "realserver_toggle", vs=web.pk, pk=real.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:realserver_list", args=[web.pk])
    real.refresh_from_db()
    assert (real.active, real.version) == (True, 2)
    assert last_audit() == ("admin", "change", f"real server {real.name} activated")


def test_real_server_delete_removes_only_that_server(admin_client, var_dir):
    (web,) = make_nat_config(reals=2)
    r0, r1 = web.real_servers.all()

    response = post(admin_client, "realserver_delete", vs=web.pk, pk=r0.pk)

    assert response.status_code == 302
    assert list(web.real_servers.all()) == [r1]
    assert last_audit() == ("admin", "delete", f"real server {r0.name}")


@pytest.mark.parametrize(
    "name", ["realserver_edit", "realserver_delete", "realserver_toggle"]
)
def test_real_server_views_refuse_a_server_of_another_virtual_server(
    admin_client, var_dir, name
):
    web, mail = make_nat_config(virtuals=2, reals=1)
    other = mail.real_servers.get()
    before = snapshot()

    response = post(
        admin_client, name, {"name": "x", "address": "10.9.9.9"}, vs=web.pk, pk=other.pk
    )

    assert response.status_code == 404
    assert snapshot() == before
