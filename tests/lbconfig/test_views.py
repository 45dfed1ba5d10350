"""The healthchecks checklist for every view of the panels.

Every view refuses an anonymous user (a redirect to login that changes nothing),
POST-only views answer GET with 405, bad input re-renders with the error next to
the field, good input saves, leaves an audit entry and redirects, and a form
posted from a stale page (`seen_version`) is refused without changing anything.

The `make_*` functions and `form_data` are the data helpers of the lbconfig tests
(the other modules import them from here).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse

from lbconfig import publish as publishing
from lbconfig.forms import (
    STALE,
    GlobalSettingsForm,
    MonitoringScriptsForm,
    RealServerForm,
    RedundancyForm,
    VirtualServerForm,
)
from lbconfig.models import (
    AuditEntry,
    FailoverService,
    GlobalSettings,
    RealServer,
    Redundancy,
    Revision,
    VirtualServer,
)

pytestmark = pytest.mark.django_db


# --- data helpers --------------------------------------------------------------------


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


def snapshot(var_dir: Path | None = None) -> dict[str, Any]:
    """Everything a view could change: every row and the file on disk."""
    # The singletons' rows are created on first read; that is not a change.
    GlobalSettings.load()
    Redundancy.load()
    state: dict[str, Any] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            GlobalSettings,
            Redundancy,
            VirtualServer,
            RealServer,
            FailoverService,
            Revision,
            AuditEntry,
        )
    }
    state["users"] = list(get_user_model().objects.order_by("pk").values())
    lvs_cf = publishing.target()
    state["lvs.cf"] = lvs_cf.read_bytes() if lvs_cf.exists() else None
    return state


def post(client, name, data=None, **kw):
    """POST to the lbconfig URL `name` with `kw` as its arguments."""
    return client.post(reverse(f"lbconfig:{name}", kwargs=kw), data or {})


def field_errors(response, field):
    """The form's errors for `field`, after checking the page shows them by it."""
    assert response.status_code == 200, response
    errors = list(response.context["form"].errors.get(field, []))
    if errors:
        # crispy-forms puts a field's errors right under its input.
        assert f'id="error_1_id_{field}"' in response.text
    return errors


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def last_audit() -> tuple[str, str, str]:
    """(user, action, detail) of the newest entry; the detail's case is free."""
    entry = AuditEntry.objects.first()
    assert entry is not None, "no audit entry was recorded"
    return entry.user, entry.action, entry.detail.lower()


# --- anonymous users -----------------------------------------------------------------


@pytest.fixture
def world(var_dir, admin_client):
    """A published configuration, so every URL of the app has an object to act on."""
    (web,) = make_nat_config()
    smtp = FailoverService.objects.create(name="smtp", address="192.168.1.25")
    post(admin_client, "publish", {"note": "first"})
    return {
        "fs": smtp.pk,
        "vs": web.pk,
        "rs": web.real_servers.first().pk,  # type: ignore[union-attr]
        "rev": Revision.objects.get().pk,
    }


# (URL name, its arguments as keys of `world`); the password view is the project's.
URLS = [
    ("lbconfig:home", {}),
    ("lbconfig:globalsettings_edit", {}),
    ("lbconfig:redundancy_edit", {}),
    ("lbconfig:redundancy_toggle", {}),
    ("lbconfig:virtualserver_list", {}),
    ("lbconfig:virtualserver_add", {}),
    ("lbconfig:virtualserver_edit", {"pk": "vs"}),
    ("lbconfig:virtualserver_delete", {"pk": "vs"}),
    ("lbconfig:virtualserver_delete_confirm", {"pk": "vs"}),
    ("lbconfig:virtualserver_toggle", {"pk": "vs"}),
    ("lbconfig:monitoringscripts_edit", {"pk": "vs"}),
    ("lbconfig:realserver_list", {"vs": "vs"}),
    ("lbconfig:realserver_add", {"vs": "vs"}),
    ("lbconfig:realserver_edit", {"vs": "vs", "pk": "rs"}),
    ("lbconfig:realserver_delete", {"vs": "vs", "pk": "rs"}),
    ("lbconfig:realserver_delete_confirm", {"vs": "vs", "pk": "rs"}),
    ("lbconfig:realserver_toggle", {"vs": "vs", "pk": "rs"}),
    ("lbconfig:failover_list", {}),
    ("lbconfig:failover_add", {}),
    ("lbconfig:failover_edit", {"pk": "fs"}),
    ("lbconfig:failover_delete", {"pk": "fs"}),
    ("lbconfig:failover_delete_confirm", {"pk": "fs"}),
    ("lbconfig:failover_toggle", {"pk": "fs"}),
    ("lbconfig:preview", {}),
    ("lbconfig:publish", {}),
    ("lbconfig:revision_list", {}),
    ("lbconfig:revision_detail", {"pk": "rev"}),
    ("lbconfig:revision_restore", {"pk": "rev"}),
    ("lbconfig:import", {}),
    ("lbconfig:audit_list", {}),
    ("password_change", {}),
]
POST_ONLY = {
    "lbconfig:redundancy_toggle",
    "lbconfig:virtualserver_delete",
    "lbconfig:virtualserver_toggle",
    "lbconfig:realserver_delete",
    "lbconfig:realserver_toggle",
    "lbconfig:failover_delete",
    "lbconfig:failover_toggle",
    "lbconfig:publish",
    "lbconfig:revision_restore",
}
# What an anonymous attacker would post: valid input for any of the forms.
ANONYMOUS_POST = {
    **new_virtual_server_data(name="evil", address="192.168.9.9"),
    "note": "evil",
    "weight": 1,
    "old_password": "password",
    "new_password1": "evil-password-42",
    "new_password2": "evil-password-42",
    "primary": "192.168.9.1",
    "keepalive": 1,
    "deadtime": 2,
    "heartbeat_port": 539,
    "syncd_iface": "eth0",
    "syncd_id": 0,
}


def url_of(name: str, keys: dict[str, str], world: dict[str, int]) -> str:
    return reverse(name, kwargs={arg: world[key] for arg, key in keys.items()})


@pytest.mark.parametrize(("name", "keys"), URLS, ids=[u[0] for u in URLS])
def test_an_anonymous_get_is_redirected_to_login_and_changes_nothing(
    client, world, name, keys
):
    before = snapshot()
    url = url_of(name, keys, world)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"
    assert snapshot() == before


@pytest.mark.parametrize(("name", "keys"), URLS, ids=[u[0] for u in URLS])
def test_an_anonymous_post_is_redirected_to_login_and_changes_nothing(
    client, world, name, keys
):
    before = snapshot()
    url = url_of(name, keys, world)

    response = client.post(url, ANONYMOUS_POST)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_a_get_of_a_post_only_view_is_refused_with_405_and_changes_nothing(
    admin_client, world, name
):
    keys = dict(URLS)[name]
    before = snapshot()

    response = admin_client.get(url_of(name, keys, world))

    assert response.status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "keys"),
    [u for u in URLS if u[0] not in POST_ONLY],
    ids=[u[0] for u in URLS if u[0] not in POST_ONLY],
)
def test_every_page_renders_for_a_logged_in_user(admin_client, world, name, keys):
    response = admin_client.get(url_of(name, keys, world))

    assert response.status_code == 200
    assert "PIRANHA CONFIGURATION TOOL" in response.text


# --- home ----------------------------------------------------------------------------


def test_home_counts_the_virtual_and_real_servers(admin_client, var_dir):
    make_nat_config(virtuals=2, reals=3)
    make_virtual_server(active=False)

    response = admin_client.get(reverse("lbconfig:home"))

    assert "2 active of 3; 6 real servers" in response.text


def test_home_lists_the_errors_of_the_configuration(admin_client, var_dir):
    make_global_settings()
    make_virtual_server(active=False)

    response = admin_client.get(reverse("lbconfig:home"))

    assert "error: no active virtual server" in response.text


# --- GLOBAL SETTINGS -----------------------------------------------------------------


def global_data(**overrides: Any) -> dict[str, Any]:
    return {**form_data(GlobalSettingsForm, GlobalSettings.load()), **overrides}


def test_global_settings_saves_good_input_and_redirects(admin_client, var_dir):
    make_global_settings()

    response = post(
        admin_client,
        "globalsettings_edit",
        global_data(primary="192.168.1.20", tcp_timeout=900, active_cmd="/bin/up"),
    )

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:globalsettings_edit")
    glob = GlobalSettings.load()
    assert (glob.primary, glob.tcp_timeout, glob.active_cmd) == (
        "192.168.1.20",
        900,
        "/bin/up",
    )
    assert glob.version == 2
    assert last_audit() == ("admin", "change", "global settings")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("primary", "192.168.1.300", "Enter a valid IPv4 address."),
        ("tcp_timeout", "-1", "greater than or equal to 0"),
        ("nat_router_device", "eth 1", "Not an interface name"),
        ("nat_router", "", "NAT needs the router's address and device."),
        ("active_cmd", "up.sh", "absolute path"),
        ("rsh_command", "r sh", "One word"),
        ("nat_nmask", "255.0.255.0", "Select a valid choice."),
    ],
)
def test_global_settings_shows_bad_input_next_to_the_field_and_keeps_the_row(
    admin_client, var_dir, field, value, message
):
    make_global_settings()
    before = snapshot()

    response = post(admin_client, "globalsettings_edit", global_data(**{field: value}))

    assert any(message in error for error in field_errors(response, field))
    assert snapshot() == before


def test_global_settings_from_a_stale_page_is_refused_and_changes_nothing(
    admin_client, var_dir
):
    make_global_settings()
    stale = global_data(primary="192.168.1.99")
    post(admin_client, "globalsettings_edit", global_data(tcp_timeout=60))
    before = snapshot()

    response = post(admin_client, "globalsettings_edit", stale)

    assert response.status_code == 200
    assert STALE in response.context["form"].non_field_errors()
    assert "Someone else saved this page" in response.text
    assert snapshot() == before


# --- REDUNDANCY ----------------------------------------------------------------------


def redundancy_data(**overrides: Any) -> dict[str, Any]:
    return {**form_data(RedundancyForm, Redundancy.load()), **overrides}


def test_redundancy_toggle_turns_the_backup_on_and_off(admin_client, var_dir):
    response = post(admin_client, "redundancy_toggle")

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:redundancy_edit")
    assert Redundancy.load().backup_active
    assert last_audit() == ("admin", "change", "backup router enabled")
    post(admin_client, "redundancy_toggle")
    assert not Redundancy.load().backup_active
    assert last_audit() == ("admin", "change", "backup router disabled")


def test_redundancy_saves_good_input_and_redirects(admin_client, var_dir):
    make_global_settings()
    post(admin_client, "redundancy_toggle")

    response = post(
        admin_client,
        "redundancy_edit",
        redundancy_data(backup="192.168.1.11", keepalive=4, deadtime=12),
    )

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:redundancy_edit")
    red = Redundancy.load()
    assert (red.backup, red.keepalive, red.deadtime) == ("192.168.1.11", 4, 12)
    assert last_audit() == ("admin", "change", "redundancy")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deadtime", "6", "Must be longer than the heartbeat interval"),
        ("backup", "192.168.1.10", "This is the primary router's address."),
        ("heartbeat_port", "70000", "less than or equal to 65535"),
        ("syncd_iface", "eth/0", "Not an interface name"),
        ("keepalive", "0", "greater than or equal to 1"),
    ],
)
def test_redundancy_shows_bad_input_next_to_the_field_and_keeps_the_row(
    admin_client, var_dir, field, value, message
):
    make_global_settings()
    post(admin_client, "redundancy_toggle")
    before = snapshot()

    response = post(admin_client, "redundancy_edit", redundancy_data(**{field: value}))

    assert any(message in error for error in field_errors(response, field))
    assert snapshot() == before


def test_redundancy_from_a_stale_page_is_refused_and_changes_nothing(
    admin_client, var_dir
):
    post(admin_client, "redundancy_toggle")
    stale = redundancy_data(backup="192.168.1.11")
    post(admin_client, "redundancy_edit", redundancy_data(keepalive=3))
    before = snapshot()

    response = post(admin_client, "redundancy_edit", stale)

    assert response.status_code == 200
    assert STALE in response.context["form"].non_field_errors()
    assert snapshot() == before


def test_redundancy_form_is_not_saved_while_the_backup_is_off(admin_client, var_dir):
    before = snapshot()

    response = post(admin_client, "redundancy_edit", redundancy_data(keepalive=3))

    assert response.status_code == 200
    assert snapshot() == before


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


# --- PUBLISH, HISTORY, IMPORT, AUDIT -------------------------------------------------


def test_preview_shows_the_text_to_publish_and_its_diff(admin_client, var_dir):
    make_nat_config()

    response = admin_client.get(reverse("lbconfig:preview"))

    preview = response.context["preview"]
    assert preview.errors == []
    assert "serial_no = 1\n" in preview.text
    assert "+serial_no = 1" in preview.diff
    assert 'id="publish-form"' in response.text


def test_preview_lists_errors_and_offers_no_publish_button(admin_client, var_dir):
    make_global_settings(nat_router=None)
    make_virtual_server()

    response = admin_client.get(reverse("lbconfig:preview"))

    assert "error: network = nat needs a nat_router" in response.text
    assert 'id="publish-form"' not in response.text


def test_publish_writes_lvs_cf_and_redirects_to_history(admin_client, var_dir):
    make_nat_config()

    response = post(admin_client, "publish", {"note": "go"})

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:revision_list")
    revision = Revision.objects.get()
    text = (var_dir / "lvs.cf").read_text()
    assert text == revision.text
    assert revision.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert last_audit() == ("admin", "publish", f"revision {revision.pk}, serial 1: go")


def test_publish_with_errors_redirects_to_preview_and_writes_nothing(
    admin_client, var_dir
):
    make_global_settings()
    make_virtual_server(active=False)
    before = snapshot()

    response = admin_client.post(reverse("lbconfig:publish"), follow=True)

    assert response.redirect_chain == [(reverse("lbconfig:preview"), 302)]
    assert "lvs.cf was not written: 1 error(s) below." in messages_of(response)
    assert snapshot() == before


def test_revision_list_and_detail_show_each_publish(admin_client, var_dir):
    (web,) = make_nat_config()
    post(admin_client, "publish", {"note": "first"})
    VirtualServer.objects.filter(pk=web.pk).update(port=8080)
    post(admin_client, "publish", {"note": "second"})
    first, second = Revision.objects.order_by("pk")

    listing = admin_client.get(reverse("lbconfig:revision_list"))
    detail = admin_client.get(reverse("lbconfig:revision_detail", args=[second.pk]))

    assert list(listing.context["revisions"]) == [second, first]
    assert "first" in listing.text and "second" in listing.text
    assert "-serial_no = 1\n+serial_no = 2\n" in detail.context["diff"]
    assert "+     port = 8080\n" in detail.context["diff"]


def test_revision_detail_of_a_missing_revision_is_404(admin_client, var_dir):
    response = admin_client.get(reverse("lbconfig:revision_detail", args=[999]))

    assert response.status_code == 404


def test_revision_restore_publishes_the_old_configuration(admin_client, var_dir):
    (web,) = make_nat_config()
    post(admin_client, "publish")
    VirtualServer.objects.filter(pk=web.pk).update(port=8080)
    post(admin_client, "publish")
    first = Revision.objects.order_by("pk").first()
    assert first is not None

    response = post(admin_client, "revision_restore", pk=first.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:revision_list")
    assert VirtualServer.objects.get().port == 80
    latest = Revision.objects.first()
    # serial_no only goes up: pulse and the backup tell configurations apart by it.
    assert latest is not None and latest.serial_no == 3
    assert last_audit()[1] == "publish"
    assert AuditEntry.objects.filter(action="restore").count() == 1


def test_import_form_saves_a_good_file_and_redirects(admin_client, var_dir):
    fixture = Path(__file__).parents[1] / "lvscf" / "fixtures" / "gui-nat.cf"

    with fixture.open("rb") as upload:
        response = admin_client.post(reverse("lbconfig:import"), {"file": upload})

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:virtualserver_list")
    assert [vs.name for vs in VirtualServer.objects.all()] == ["web", "mail"]
    assert last_audit() == ("admin", "import", "2 virtual servers")


def test_import_form_without_a_file_shows_the_error_by_the_field(admin_client, var_dir):
    before = snapshot()

    response = admin_client.post(reverse("lbconfig:import"), {"import": "IMPORT"})

    assert field_errors(response, "file") == ["This field is required."]
    assert snapshot() == before


def test_audit_list_shows_the_entries_newest_first(admin_client, var_dir):
    make_nat_config()
    post(admin_client, "redundancy_toggle")
    post(admin_client, "publish")

    response = admin_client.get(reverse("lbconfig:audit_list"))

    assert [e.action for e in response.context["entries"]] == ["publish", "change"]
    assert "backup router enabled" in response.text


# --- CHANGE PASSWORD -----------------------------------------------------------------


def password_data(old: str, new: str) -> dict[str, str]:
    return {"old_password": old, "new_password1": new, "new_password2": new}


def admin_user() -> AbstractBaseUser:
    return get_user_model().objects.get(username="admin")


def test_password_change_saves_a_good_password_and_redirects(admin_client):
    response = admin_client.post(
        reverse("password_change"), password_data("password", "tulip-sky-42")
    )

    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert admin_user().check_password("tulip-sky-42")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (password_data("wrong", "tulip-sky-42"), "old_password"),
        ({**password_data("password", "tulip-sky-42"), "new_password2": "x"}, ""),
    ],
    ids=["wrong old password", "passwords differ"],
)
def test_password_change_shows_bad_input_next_to_the_field(admin_client, data, field):
    field = field or "new_password2"
    before = snapshot()

    response = admin_client.post(reverse("password_change"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert f'id="id_{field}_error"' in response.text
    assert snapshot() == before
