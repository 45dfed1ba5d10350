"""The FAILOVER panel: failover services (`failover NAME { ... }`, service = fos).

The anonymous, 405 and "every page renders" checks are in test_views.py (its URL
list holds the failover URLs); here: good and bad input, lvscf.validate problems
by the field, (DE)ACTIVATE, DELETE, the navigation tab, and that importing and
publishing a FOS file keeps every keyword.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

import lvscf
from lbconfig.convert import to_config
from lbconfig.forms import STALE, FailoverForm, GlobalSettingsForm
from lbconfig.models import FailoverService, GlobalSettings
from tests.factories import (
    form_data,
    make_failover,
    make_global_settings,
    make_nat_config,
)
from tests.lbconfig.helpers import field_errors, last_audit, post, snapshot
from tests.lbconfig.test_import import differences, upload, without_serial

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parents[1] / "lvscf" / "fixtures"


def new_failover_data(**overrides: Any) -> dict[str, Any]:
    data = form_data(FailoverForm, FailoverService())
    data.update(name="web1", address="192.168.5.80")
    data.pop("seen_version")
    return {**data, **overrides}


def test_failover_add_saves_the_manuals_defaults_inactive_and_redirects(
    admin_client, var_dir
):
    response = post(admin_client, "failover_add", new_failover_data())

    web1 = FailoverService.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("lbconfig:failover_edit", args=[web1.pk])
    assert (web1.active, web1.device, web1.vip_nmask, web1.port, web1.timeout) == (
        False,
        "eth0:1",
        "255.255.255.0",
        80,
        6,
    )
    assert (web1.send, web1.expect) == ("GET / HTTP/1.0\\r\\n\\r\\n", "HTTP")
    assert (web1.start_cmd, web1.stop_cmd) == (
        "/etc/rc.d/init.d/httpd start",
        "/etc/rc.d/init.d/httpd stop",
    )
    assert last_audit() == ("admin", "change", "failover service web1")


def test_failover_add_page_has_the_manuals_labels_and_says_it_starts_inactive(
    admin_client, var_dir
):
    response = admin_client.get(reverse("lbconfig:failover_add"))

    for label in (
        "Virtual IP Address",
        "Application port",
        "Device",
        "Service timeout",
        "Generic service scripts",
        "Start command",
        "Stop command",
    ):
        assert label in response.text
    assert "starts inactive" in response.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "my web", "no spaces"),
        ("address", "192.168.5.300", "Enter a valid IPv4 address."),
        ("port", "0", "greater than or equal to 1"),
        ("device", "eth0 1", "Not an interface name"),
        ("vip_nmask", "255.0.255.0", "Select a valid choice."),
        ("timeout", "0", "greater than or equal to 1"),
        ("start_cmd", "httpd start", "absolute path"),
        ("stop_cmd", '/sbin/service "httpd" stop', "double quotes"),
        ("send", 'GET "/"', "double quote"),
        ("expect", "HTTP\x01", "printable ASCII"),
    ],
)
def test_failover_add_shows_bad_input_next_to_the_field_and_saves_nothing(
    admin_client, var_dir, field, value, message
):
    before = snapshot()

    response = post(admin_client, "failover_add", new_failover_data(**{field: value}))

    assert any(message in error for error in field_errors(response, field))
    assert snapshot() == before


def test_failover_add_refuses_a_name_already_taken(admin_client, var_dir):
    make_failover(name="web1")
    before = snapshot()

    response = post(
        admin_client, "failover_add", new_failover_data(address="192.168.5.99")
    )

    assert field_errors(response, "name") == [
        "Failover service with this Name already exists."
    ]
    assert snapshot() == before


def test_failover_edit_puts_lvscf_problems_next_to_the_field(admin_client, var_dir):
    web1 = make_failover(name="web1")
    before = snapshot()

    response = post(
        admin_client,
        "failover_edit",
        {**form_data(FailoverForm, web1), "expect": "HTTP/1.[01", "use_regex": "on"},
        pk=web1.pk,
    )

    errors = field_errors(response, "expect")
    assert errors and "regular expression" in errors[0]
    assert snapshot() == before


def test_failover_edit_refuses_an_active_service_without_its_address(
    admin_client, var_dir
):
    web1 = make_failover(name="web1")
    before = snapshot()

    response = post(
        admin_client,
        "failover_edit",
        {**form_data(FailoverForm, web1), "address": "0.0.0.0"},
        pk=web1.pk,
    )

    assert field_errors(response, "address") == [
        "an active failover service needs its VIP"
    ]
    assert snapshot() == before


def test_failover_edit_saves_good_input_and_bumps_the_version(admin_client, var_dir):
    web1 = make_failover(name="web1")

    response = post(
        admin_client,
        "failover_edit",
        {**form_data(FailoverForm, web1), "port": 8080, "timeout": 9},
        pk=web1.pk,
    )

    assert response.status_code == 302
    web1.refresh_from_db()
    assert (web1.port, web1.timeout, web1.version, web1.active) == (8080, 9, 2, True)


def test_failover_edit_from_a_stale_page_is_refused_and_changes_nothing(
    admin_client, var_dir
):
    web1 = make_failover(name="web1")
    stale = {**form_data(FailoverForm, web1), "port": 8080}
    post(admin_client, "failover_toggle", pk=web1.pk)
    before = snapshot()

    response = post(admin_client, "failover_edit", stale, pk=web1.pk)

    assert response.status_code == 200
    assert STALE in response.context["form"].non_field_errors()
    assert snapshot() == before


def test_failover_toggle_activates_and_deactivates(admin_client, var_dir):
    web1 = make_failover(name="web1", active=False)

    response = post(admin_client, "failover_toggle", pk=web1.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:failover_list")
    web1.refresh_from_db()
    assert (web1.active, web1.version) == (True, 2)
    assert last_audit() == ("admin", "change", "failover service web1 activated")
    post(admin_client, "failover_toggle", pk=web1.pk)
    web1.refresh_from_db()
    assert not web1.active


def test_failover_delete_removes_only_that_service(admin_client, var_dir):
    web1, ftp = make_failover(name="web1"), make_failover(name="ftp")

    response = post(admin_client, "failover_delete", pk=web1.pk)

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:failover_list")
    assert list(FailoverService.objects.all()) == [ftp]
    assert last_audit() == ("admin", "delete", "failover service web1")


@pytest.mark.parametrize("name", ["failover_delete", "failover_toggle"])
def test_failover_actions_on_a_missing_service_are_404(admin_client, var_dir, name):
    make_failover()
    before = snapshot()

    response = post(admin_client, name, pk=999)

    assert response.status_code == 404
    assert snapshot() == before


def test_failover_list_shows_each_service(admin_client, var_dir):
    make_failover(name="web1")
    make_failover(name="ftp", active=False, port=21)

    response = admin_client.get(reverse("lbconfig:failover_list"))

    assert [s.name for s in response.context["services"]] == ["web1", "ftp"]
    assert "192.168.5.81" in response.text
    assert 'id="not-fos"' in response.text, "service = lvs: say they are unused"


def tab_shown(admin_client: Any) -> bool:
    response = admin_client.get(reverse("lbconfig:virtualserver_list"))
    return ">FAILOVER</a>" in response.text


def test_the_failover_tab_shows_only_for_fos_or_existing_blocks(admin_client, var_dir):
    make_nat_config()
    assert not tab_shown(admin_client)

    GlobalSettings.objects.update(service="fos")
    assert tab_shown(admin_client)

    GlobalSettings.objects.update(service="lvs")
    make_failover()
    assert tab_shown(admin_client)


def test_the_service_type_is_chosen_on_global_settings(admin_client, var_dir):
    make_global_settings()
    data = {**form_data(GlobalSettingsForm, GlobalSettings.load()), "service": "fos"}

    response = post(admin_client, "globalsettings_edit", data)

    assert response.status_code == 302
    assert GlobalSettings.load().service == "fos"


def test_a_failover_service_built_in_the_panel_is_published(admin_client, var_dir):
    make_global_settings(network="direct", service="fos")
    post(admin_client, "failover_add", new_failover_data(notes="the web site"))
    web1 = FailoverService.objects.get()
    post(admin_client, "failover_toggle", pk=web1.pk)

    response = post(admin_client, "publish")

    assert response.status_code == 302, response
    text = (var_dir / "lvs.cf").read_text()
    assert (
        "#the web site\n"
        "failover web1 {\n"
        "     active = 1\n"
        "     address = 192.168.5.80 eth0:1\n"
        "     vip_nmask = 255.255.255.0\n"
        "     port = 80\n"
        '     send = "GET / HTTP/1.0\\r\\n\\r\\n"\n'
        '     expect = "HTTP"\n'
        "     timeout = 6\n"
        '     start_cmd = "/etc/rc.d/init.d/httpd start"\n'
        '     stop_cmd = "/etc/rc.d/init.d/httpd stop"\n'
        "}\n"
    ) in text
    assert lvscf.parse(text).service == "fos"


# --- import and publish keep every keyword -------------------------------------------

# A failover block with virtual-only keys, a real server and comments: the panel
# edits none of those, but they must survive import and publish.
ODD_FAILOVER = """\
serial_no = 4
primary = 192.168.5.10
service = fos
network = direct
# above the block
failover odd {
     active = 1
     # above the address
     address = 192.168.5.90 eth0:4
     port = 8080
     scheduler = rr
     protocol = udp
     persistent = 60
     reentry = 30
     quiesce_server = 1
     dirs = [ /a /b ]
     timeout = 3
     start_cmd = "/usr/sbin/odd start"
     # the one server
     server s1 {
         address = 10.0.0.1
         active = 1
         weight = 3
     }
}
"""


@pytest.mark.parametrize("name", ["failover.cf", "everything.cf"])
def test_an_imported_fos_file_is_published_with_every_keyword(
    admin_client, var_dir, name
):
    text = (FIXTURES / name).read_text()

    response = upload(admin_client, text)
    assert response.status_code == 302, response.context["problems"]
    post(admin_client, "publish")

    published = lvscf.parse((var_dir / "lvs.cf").read_text())
    original = lvscf.parse(text)
    assert differences(without_serial(published), without_serial(original)) == []
    assert FailoverService.objects.count() == len(original.failover_services)


def test_an_imported_fos_file_is_published_as_its_canonical_text(admin_client, var_dir):
    canonical = (FIXTURES / "canonical" / "failover.cf").read_text()
    upload(admin_client, canonical)

    post(admin_client, "publish")

    assert (var_dir / "lvs.cf").read_text() == canonical.replace(
        "serial_no = 2\n", "serial_no = 3\n"
    )


def test_keys_no_failover_page_edits_survive_an_edit_and_a_publish(
    admin_client, var_dir
):
    upload(admin_client, ODD_FAILOVER)
    odd = FailoverService.objects.get()
    post(
        admin_client,
        "failover_edit",
        {**form_data(FailoverForm, odd), "timeout": 4},
        pk=odd.pk,
    )

    post(admin_client, "publish")

    published = lvscf.parse((var_dir / "lvs.cf").read_text())
    expected = lvscf.parse(ODD_FAILOVER.replace("timeout = 3", "timeout = 4"))
    assert differences(without_serial(published), without_serial(expected)) == []


def test_two_failover_blocks_of_one_name_are_refused_on_import(admin_client, var_dir):
    text = ODD_FAILOVER + ODD_FAILOVER.split("# above the block\n")[1]
    before = snapshot()

    response = upload(admin_client, text)

    assert response.status_code == 200
    assert "two failover blocks are called `odd`" in response.text
    assert snapshot() == before


def test_the_migration_moves_stored_failover_blocks_into_rows(db):
    migration = importlib.import_module("lbconfig.migrations.0003_failoverservice")
    config = lvscf.parse((FIXTURES / "failover.cf").read_text())
    # How the previous schema kept them: plain dicts, without comments.
    blocks = []
    for vs in config.failover_services:
        block = {k: v for k, v in vars(vs).items() if k != "comments"}
        block["servers"] = []
        blocks.append(block)
    GlobalSettings.objects.create(pk=1, extra={"failover_services": blocks})

    migration.move_failover_blocks(apps, None)

    assert "failover_services" not in GlobalSettings.load().extra
    moved = [
        replace(fs, comments=lvscf.Comments()) for fs in to_config().failover_services
    ]
    kept = [replace(fs, comments=lvscf.Comments()) for fs in config.failover_services]
    assert moved == kept
