"""VIRTUAL SERVERS and MONITORING SCRIPTS: good input saves, bad input and
lvscf.validate errors are refused by the field, a stale page changes nothing,
(DE)ACTIVATE and DELETE. REAL SERVER is in test_realserver_views.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lbconfig.forms import (
    STALE,
    MonitoringScriptsForm,
    VirtualServerForm,
)
from lbconfig.models import (
    GlobalSettings,
    RealServer,
    VirtualServer,
)
from tests.factories import (
    form_data,
    make_nat_config,
    make_virtual_server,
    new_virtual_server_data,
)
from tests.lbconfig.helpers import (
    field_errors,
    last_audit,
    messages_of,
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


# --- VIRTUAL SERVERS -----------------------------------------------------------------


def test_virtual_server_list_shows_each_server_with_its_real_server_count(
    admin_client, var_dir
):
    web, mail = make_nat_config(virtuals=2, reals=3)
    make_virtual_server(name="marked", fwmark=42)

    response = admin_client.get(reverse("lbconfig:virtualserver_list"))

    assert [s["name"] for s in response.context["servers"]] == [
        web.name,
        mail.name,
        "marked",
    ]
    assert [s["count"] for s in response.context["servers"]] == ["3", "3", "0"]
    assert "fwmark 42" in response.text


def test_virtual_server_add_saves_good_input_inactive_and_redirects(
    admin_client, var_dir
):
    response = post(admin_client, "virtualserver_add", new_virtual_server_data())

    web = VirtualServer.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("lbconfig:virtualserver_edit", args=[web.pk])
    assert (web.name, web.address, web.active, web.version) == (
        "web",
        "192.168.1.100",
        False,
        1,
    )
    assert last_audit() == ("admin", "change", "virtual server web")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "my web", "no spaces"),
        ("address", "192.168.1.256", "Enter a valid IPv4 address."),
        ("port", "70000", "less than or equal to 65535"),
        ("device", "eth0:1 eth1", "Not an interface name"),
        ("vip_nmask", "255.255.0.255", "Select a valid choice."),
        ("scheduler", "fastest", "Select a valid choice."),
        ("sorry_server", "sorry", "Enter a valid IPv4 address."),
        ("timeout", "0", "greater than or equal to 1"),
        ("client_monitor", "nanny", "absolute path"),
        ("notes", "bell\x07", "No control characters."),
    ],
)
def test_virtual_server_add_shows_bad_input_next_to_the_field_and_saves_nothing(
    admin_client, var_dir, field, value, message
):
    before = snapshot()

    response = post(
        admin_client, "virtualserver_add", new_virtual_server_data(**{field: value})
    )

    assert any(message in error for error in field_errors(response, field))
    assert snapshot() == before


def test_virtual_server_add_refuses_a_name_already_taken(admin_client, var_dir):
    make_virtual_server(name="web")
    before = snapshot()

    response = post(
        admin_client,
        "virtualserver_add",
        new_virtual_server_data(address="192.168.1.200"),
    )

    assert field_errors(response, "name") == [
        "Virtual server with this Name already exists."
    ]
    assert snapshot() == before


def test_virtual_server_edit_saves_good_input_and_bumps_the_version(
    admin_client, var_dir
):
    (web,) = make_nat_config()
    data = form_data(VirtualServerForm, web)

    response = post(
        admin_client,
        "virtualserver_edit",
        {**data, "port": 8080, "scheduler": "rr"},
        pk=web.pk,
    )

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:virtualserver_edit", args=[web.pk])
    web.refresh_from_db()
    assert (web.port, web.scheduler, web.version, web.active) == (8080, "rr", 2, True)
    assert last_audit() == ("admin", "change", f"virtual server {web.name}")


def test_virtual_server_edit_of_a_missing_server_is_404(admin_client, var_dir):
    response = admin_client.get(reverse("lbconfig:virtualserver_edit", args=[999]))

    assert response.status_code == 404


def test_virtual_server_edit_refuses_a_duplicate_vip_port_naming_the_other(
    admin_client, var_dir
):
    web, mail = make_nat_config(virtuals=2)
    before = snapshot()

    response = post(
        admin_client,
        "virtualserver_edit",
        {**form_data(VirtualServerForm, mail), "address": web.address},
        pk=mail.pk,
    )

    errors = field_errors(response, "port")
    assert errors == [
        f"{web.address}:80/tcp is already used by virtual server `{web.name}`"
    ]
    assert snapshot() == before


def test_virtual_server_edit_shows_warnings_but_saves(admin_client, var_dir):
    (web,) = make_nat_config()

    response = admin_client.post(
        reverse("lbconfig:virtualserver_edit", args=[web.pk]),
        {**form_data(VirtualServerForm, web), "fwmark": 7},
        follow=True,
    )

    web.refresh_from_db()
    assert web.fwmark == 7
    assert any(
        "a firewall mark without persistence" in m for m in messages_of(response)
    )
    assert "a firewall mark without persistence" in response.text


def test_virtual_server_edit_is_not_blocked_by_errors_elsewhere(admin_client, var_dir):
    web, _ = make_nat_config(virtuals=2)
    GlobalSettings.objects.update(nat_router=None)  # an error of the globals

    response = post(
        admin_client,
        "virtualserver_edit",
        {**form_data(VirtualServerForm, web), "port": 81},
        pk=web.pk,
    )

    assert response.status_code == 302
    web.refresh_from_db()
    assert web.port == 81


def test_virtual_server_edit_from_a_stale_page_is_refused_and_changes_nothing(
    admin_client, var_dir
):
    (web,) = make_nat_config()
    stale = {**form_data(VirtualServerForm, web), "port": 8080}
    post(admin_client, "virtualserver_toggle", pk=web.pk)
    before = snapshot()

    response = post(admin_client, "virtualserver_edit", stale, pk=web.pk)

    assert response.status_code == 200
    assert STALE in response.context["form"].non_field_errors()
    assert "Someone else saved this page" in response.text
    assert snapshot() == before


def test_virtual_server_toggle_activates_and_deactivates(admin_client, var_dir):
    web = make_virtual_server(active=False)

    response = post(admin_client, "virtualserver_toggle", pk=web.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:virtualserver_list")
    web.refresh_from_db()
    assert (web.active, web.version) == (True, 2)
    assert last_audit() == ("admin", "change", f"virtual server {web.name} activated")
    post(admin_client, "virtualserver_toggle", pk=web.pk)
    web.refresh_from_db()
    assert not web.active
    assert last_audit()[2] == f"virtual server {web.name} deactivated"


def test_virtual_server_delete_removes_it_with_its_real_servers(admin_client, var_dir):
    web, mail = make_nat_config(virtuals=2)

    response = post(admin_client, "virtualserver_delete", pk=web.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:virtualserver_list")
    assert list(VirtualServer.objects.all()) == [mail]
    assert RealServer.objects.filter(virtual_server_id=web.pk).count() == 0
    assert last_audit() == ("admin", "delete", f"virtual server {web.name}")


@pytest.mark.parametrize("name", ["virtualserver_delete", "virtualserver_toggle"])
def test_virtual_server_actions_on_a_missing_server_are_404(
    admin_client, var_dir, name
):
    make_nat_config()
    before = snapshot()

    response = post(admin_client, name, pk=999)

    assert response.status_code == 404
    assert snapshot() == before


# --- MONITORING SCRIPTS --------------------------------------------------------------


def test_monitoring_scripts_saves_good_input_and_redirects(admin_client, var_dir):
    (web,) = make_nat_config()
    data = {
        **form_data(MonitoringScriptsForm, web),
        "send": "HEAD / HTTP/1.0\\r\\n\\r\\n",
        "expect": "HTTP/1.[01] 200",
        "use_regex": "on",
    }

    response = post(admin_client, "monitoringscripts_edit", data, pk=web.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:monitoringscripts_edit", args=[web.pk])
    web.refresh_from_db()
    assert (web.send, web.expect, web.use_regex) == (
        "HEAD / HTTP/1.0\\r\\n\\r\\n",
        "HTTP/1.[01] 200",
        True,
    )
    assert last_audit() == ("admin", "change", f"monitoring scripts of {web.name}")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("send", 'GET "/"', "A double quote"),
        ("expect", "caf\u00e9", "printable ASCII"),
        ("send_program", "check %h", "absolute path"),
    ],
)
def test_monitoring_scripts_shows_bad_input_next_to_the_field(
    admin_client, var_dir, field, value, message
):
    (web,) = make_nat_config()
    before = snapshot()

    response = post(
        admin_client,
        "monitoringscripts_edit",
        {**form_data(MonitoringScriptsForm, web), field: value},
        pk=web.pk,
    )

    assert any(message in error for error in field_errors(response, field))
    assert snapshot() == before


def test_monitoring_scripts_refuses_an_invalid_regex_next_to_expect(
    admin_client, var_dir
):
    (web,) = make_nat_config()
    before = snapshot()
    data = {**form_data(MonitoringScriptsForm, web), "expect": "HTTP(", "use_regex": 1}

    response = post(admin_client, "monitoringscripts_edit", data, pk=web.pk)

    errors = field_errors(response, "expect")
    assert errors and errors[0].startswith("expect is not a valid regular expression")
    assert snapshot() == before


def test_monitoring_scripts_from_a_stale_page_is_refused(admin_client, var_dir):
    (web,) = make_nat_config()
    stale = {**form_data(MonitoringScriptsForm, web), "expect": "HTTP/1.1"}
    post(
        admin_client,
        "virtualserver_edit",
        {**form_data(VirtualServerForm, web), "port": 81},
        pk=web.pk,
    )
    before = snapshot()

    response = post(admin_client, "monitoringscripts_edit", stale, pk=web.pk)

    assert response.status_code == 200
    assert STALE in response.context["form"].non_field_errors()
    assert snapshot() == before
