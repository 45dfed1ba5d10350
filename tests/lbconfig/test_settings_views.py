"""GLOBAL SETTINGS and REDUNDANCY: good input saves, bad input is refused by the
field, a stale page changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from lbconfig.forms import (
    STALE,
    GlobalSettingsForm,
    RedundancyForm,
)
from lbconfig.models import (
    GlobalSettings,
    Redundancy,
)
from tests.factories import (
    form_data,
    make_global_settings,
)
from tests.lbconfig.helpers import (
    field_errors,
    last_audit,
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


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
