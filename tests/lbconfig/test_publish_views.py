"""PUBLISH, HISTORY, IMPORT, AUDIT LOG and CHANGE PASSWORD pages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse

from lbconfig.models import (
    AuditEntry,
    Revision,
    VirtualServer,
)
from tests.factories import (
    make_global_settings,
    make_nat_config,
    make_virtual_server,
)
from tests.lbconfig.helpers import (
    field_errors,
    last_audit,
    messages_of,
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


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
