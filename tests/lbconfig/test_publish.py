"""Publishing lvs.cf: refusal on errors, the atomic write, serial_no, history, restore.

Also the drift check: a hand-edited or deleted lvs.cf is reported on the home and
preview pages with a link to import it.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse

import lvscf
from lbconfig import publish as publishing
from lbconfig.models import AuditEntry, GlobalSettings, Revision, VirtualServer
from tests.factories import make_global_settings, make_nat_config, make_virtual_server
from tests.lbconfig.helpers import messages_of, post, snapshot

pytestmark = pytest.mark.django_db

HAND_WRITTEN = "# kept by hand\nserial_no = 5\n"


def without_serial(text: str) -> str:
    return re.sub(r"(?m)^serial_no = \d+\n", "", text)


def test_publish_refuses_a_configuration_with_errors_and_leaves_the_file(
    admin_client, var_dir
):
    make_global_settings(nat_router=None)
    make_virtual_server()
    (var_dir / "lvs.cf").write_text(HAND_WRITTEN)
    before = snapshot()

    response = admin_client.post(reverse("lbconfig:publish"), follow=True)

    assert (var_dir / "lvs.cf").read_text() == HAND_WRITTEN
    assert snapshot() == before
    assert "lvs.cf was not written: 1 error(s) below." in messages_of(response)
    assert "error: network = nat needs a nat_router" in response.text


def test_publish_refuses_when_nothing_is_active(admin_client, var_dir):
    make_global_settings()
    make_virtual_server(active=False)

    with pytest.raises(publishing.PublishError) as refused:
        publishing.publish("admin")

    assert [p.message for p in refused.value.problems] == [
        'no active virtual server: pulse will not start ("no active lvs services '
        'defined")'
    ]
    assert not (var_dir / "lvs.cf").exists()
    assert Revision.objects.count() == 0


def test_publish_writes_the_canonical_text_of_the_database(admin_client, var_dir):
    make_nat_config()

    post(admin_client, "publish")

    text = (var_dir / "lvs.cf").read_text()
    config = lvscf.parse(text)
    assert lvscf.render(config) == text
    assert [p for p in lvscf.validate(config) if p.is_error] == []


def test_publish_bumps_serial_no_each_time(admin_client, var_dir):
    make_nat_config()

    post(admin_client, "publish")
    first = lvscf.parse((var_dir / "lvs.cf").read_text()).serial_no
    post(admin_client, "publish")
    second = lvscf.parse((var_dir / "lvs.cf").read_text()).serial_no

    assert (first, second) == (1, 2)
    assert GlobalSettings.load().serial_no == 2
    assert [r.serial_no for r in Revision.objects.all()] == [2, 1]


def test_publish_stores_a_revision_with_text_checksum_author_and_note(
    admin_client, admin_user, var_dir
):
    make_nat_config()

    post(admin_client, "publish", {"note": "first go"})

    revision = Revision.objects.get()
    data = (var_dir / "lvs.cf").read_bytes()
    assert revision.text.encode() == data
    assert revision.sha256 == hashlib.sha256(data).hexdigest()
    assert revision.author == admin_user
    assert revision.note == "first go"
    assert revision.path == str(var_dir / "lvs.cf")
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.action, entry.detail) == (
        "admin",
        "publish",
        f"revision {revision.pk}, serial 1: first go",
    )


def test_publish_replaces_the_file_by_rename_and_keeps_its_mode(admin_client, var_dir):
    make_nat_config()
    lvs_cf = var_dir / "lvs.cf"
    lvs_cf.write_text(HAND_WRITTEN)
    lvs_cf.chmod(0o640)
    inode = lvs_cf.stat().st_ino

    post(admin_client, "publish")

    assert lvs_cf.stat().st_ino != inode, "written in place, not renamed over"
    assert lvs_cf.stat().st_mode & 0o7777 == 0o640
    assert sorted(p.name for p in var_dir.iterdir()) == ["lvs.cf"]


def test_publish_keeps_the_previous_file_when_the_rename_fails(admin_client, var_dir):
    make_nat_config()
    (var_dir / "lvs.cf").write_text(HAND_WRITTEN)
    before = snapshot()
    failure = OSError(28, "No space left on device")

    with mock.patch.object(os, "replace", autospec=True, side_effect=failure):
        response = admin_client.post(reverse("lbconfig:publish"), follow=True)

    assert (var_dir / "lvs.cf").read_text() == HAND_WRITTEN
    assert sorted(p.name for p in var_dir.iterdir()) == ["lvs.cf"], "temp file left"
    assert snapshot() == before
    assert "lvs.cf was not written: No space left on device." in messages_of(response)


def test_history_lists_revisions_newest_first_with_their_diffs(admin_client, var_dir):
    (web,) = make_nat_config()
    post(admin_client, "publish", {"note": "one"})
    VirtualServer.objects.filter(pk=web.pk).update(scheduler="rr")
    post(admin_client, "publish", {"note": "two"})
    one, two = Revision.objects.order_by("pk")

    listing = admin_client.get(reverse("lbconfig:revision_list"))
    first = admin_client.get(reverse("lbconfig:revision_detail", args=[one.pk]))
    second = admin_client.get(reverse("lbconfig:revision_detail", args=[two.pk]))

    rows = re.findall(r'href="/revisions/(\d+)/"', listing.text)
    assert rows == [str(two.pk), str(one.pk)]
    assert two.sha256[:12] in listing.text
    expected = "".join(
        difflib.unified_diff(
            one.text.splitlines(keepends=True),
            two.text.splitlines(keepends=True),
            fromfile=str(one),
            tofile=str(two),
        )
    )
    assert second.context["diff"] == expected
    assert "+     scheduler = rr" in second.text
    assert first.context["diff"].startswith("--- (nothing)\n")


def test_restore_publishes_a_new_revision_with_the_old_text_but_a_new_serial(
    admin_client, var_dir
):
    (web,) = make_nat_config()
    post(admin_client, "publish", {"note": "good"})
    VirtualServer.objects.filter(pk=web.pk).update(port=8080, scheduler="rr")
    post(admin_client, "publish", {"note": "bad"})
    good = Revision.objects.get(note="good")

    response = post(admin_client, "revision_restore", pk=good.pk)

    assert response.status_code == 302
    restored = Revision.objects.first()
    assert restored is not None and restored.pk > good.pk
    assert restored.note == f"restore of revision {good.pk}"
    assert without_serial(restored.text) == without_serial(good.text)
    assert (var_dir / "lvs.cf").read_text() == restored.text
    assert VirtualServer.objects.get().port == 80
    assert restored.serial_no > 2, "serial_no went back to an older number"
    published = f"revision {restored.pk}, serial {restored.serial_no}"
    actions = list(AuditEntry.objects.values_list("action", "detail"))
    assert actions[:2] == [
        ("publish", f"{published}: restore of revision {good.pk}"),
        ("restore", f"revision {good.pk}"),
    ]


def test_restore_that_cannot_publish_changes_nothing(admin_client, var_dir):
    (web,) = make_nat_config()
    post(admin_client, "publish")
    bad = Revision.objects.create(
        serial_no=9,
        text="serial_no = 9\nnetwork = nat\nvirtual web {\n     active = 0\n}\n",
        sha256="",
        path="",
    )
    before = snapshot()

    response = admin_client.post(
        reverse("lbconfig:revision_restore", args=[bad.pk]), follow=True
    )

    assert snapshot() == before
    assert any(
        f"Revision {bad.pk} was not restored" in m for m in messages_of(response)
    )


@pytest.mark.parametrize("page", ["lbconfig:home", "lbconfig:preview"])
def test_a_hand_edited_lvs_cf_is_reported_with_an_import_link(
    admin_client, var_dir, page
):
    make_nat_config()
    post(admin_client, "publish")
    lvs_cf = var_dir / "lvs.cf"
    lvs_cf.write_text(lvs_cf.read_text().replace("weight = 1", "weight = 3", 1))

    response = admin_client.get(reverse(page))

    assert "was changed by hand after revision" in response.text
    assert f'href="{reverse("lbconfig:import")}?from=disk"' in response.text


@pytest.mark.parametrize("page", ["lbconfig:home", "lbconfig:preview"])
def test_a_deleted_lvs_cf_is_reported(admin_client, var_dir, page):
    make_nat_config()
    post(admin_client, "publish")
    (var_dir / "lvs.cf").unlink()

    response = admin_client.get(reverse(page))

    assert "was deleted after revision" in response.text


def test_an_lvs_cf_as_published_is_not_reported(admin_client, var_dir):
    make_nat_config()
    post(admin_client, "publish")

    response = admin_client.get(reverse("lbconfig:home"))

    assert 'id="drift"' not in response.text


def test_preview_diffs_against_the_file_on_disk(admin_client, var_dir):
    make_nat_config()
    post(admin_client, "publish")
    VirtualServer.objects.update(port=8080)

    response = admin_client.get(reverse("lbconfig:preview"))

    diff = response.context["preview"].diff
    assert "-serial_no = 1\n+serial_no = 2\n" in diff
    assert "-     port = 80\n+     port = 8080\n" in diff
    assert Path(var_dir / "lvs.cf").read_text().startswith("serial_no = 1\n")
