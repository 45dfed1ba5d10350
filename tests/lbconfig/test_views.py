"""The healthchecks checklist for every view of the panels: every URL refuses an
anonymous user (a redirect to login that changes nothing), POST-only views answer
GET with 405, every page renders. The panels' own checks (bad input by the field,
good input saves and redirects, stale pages) are in test_settings_views.py,
test_virtualserver_views.py, test_publish_views.py and test_failover.py.

Data helpers live in tests/factories.py and view helpers in helpers.py.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from lbconfig.models import (
    FailoverService,
    Revision,
)
from tests.factories import (
    make_global_settings,
    make_nat_config,
    make_virtual_server,
    new_virtual_server_data,
)
from tests.lbconfig.helpers import (
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


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
