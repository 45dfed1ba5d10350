"""Importing an lvs.cf into the panels: upload and `?from=disk`.

A file with problems changes nothing and lists them with their line numbers; a
good file replaces the configuration, keeping every keyword and comment, so that
importing and publishing it writes the same configuration (apart from serial_no).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import lvscf
from lbconfig.models import AuditEntry, RealServer, VirtualServer
from tests.factories import make_nat_config
from tests.lbconfig.helpers import post, snapshot

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parents[1] / "lvscf" / "fixtures"

# Files the import must refuse: (name, text, what the page must say).
BAD_FILES = [
    (
        "unknown keyword",
        "serial_no = 1\nnetwork = nat\nbogus = 2\n",
        "line 3: error: unknown command",
    ),
    (
        "bad port",
        "serial_no = 1\nvirtual web {\n     active = 1\n     port = http80\n}\n",
        "line 4: error: invalid argument",
    ),
    (
        "a brace that closes nothing",
        "serial_no = 1\n}\n",
        "line 2: error: unknown command",
    ),
    (
        "a bad weight",
        "serial_no = 1\nvirtual web {\n     server a {\n         weight = x\n"
        "     }\n}\n",
        "line 4: error: integer expected",
    ),
    (
        "two virtual servers of one name",
        (
            "serial_no = 1\nnetwork = direct\n"
            "virtual web {\n     active = 1\n     address = 192.168.1.1 eth0:1\n}\n"
            "virtual web {\n     active = 1\n     address = 192.168.1.2 eth0:1\n}\n"
        ),
        "line 7: error: two virtual blocks are called `web`",
    ),
    (
        "two real servers of one name",
        (
            "serial_no = 1\nnetwork = direct\n"
            "virtual web {\n     active = 1\n     address = 192.168.1.1 eth0:1\n"
            "     server a {\n         address = 10.0.0.1\n     }\n"
            "     server a {\n         address = 10.0.0.2\n     }\n}\n"
        ),
        "line 9: error: two real servers are called `a` in this virtual server",
    ),
    (
        "a VIP:port used twice",
        (
            "serial_no = 1\nnetwork = direct\n"
            "virtual web {\n     active = 1\n     address = 192.168.1.1 eth0:1\n}\n"
            "virtual www {\n     active = 1\n     address = 192.168.1.1 eth0:1\n}\n"
        ),
        "line 7: error: 192.168.1.1:80/tcp is already used by virtual server `web`",
    ),
]


def upload(admin_client, text, follow=False):
    data = text.encode() if isinstance(text, str) else text
    return admin_client.post(
        reverse("lbconfig:import"),
        {"file": SimpleUploadedFile("lvs.cf", data)},
        follow=follow,
    )


def differences(a: Any, b: Any, path: str = "config") -> list[str]:
    """Where two lvscf values differ, as `path: a != b` lines."""
    if dataclasses.is_dataclass(a) and type(a) is type(b):
        found = []
        for field in dataclasses.fields(a):
            if field.compare:
                found += differences(
                    getattr(a, field.name),
                    getattr(b, field.name),
                    f"{path}.{field.name}",
                )
        return found
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return [
            line
            for n, (x, y) in enumerate(zip(a, b, strict=True))
            for line in differences(x, y, f"{path}[{n}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def without_serial(config: lvscf.Config) -> lvscf.Config:
    return dataclasses.replace(config, serial_no=0)


# --- good files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["everything.cf", "hand-written-comments.cf", "gui-nat.cf", "udp-dns.cf"]
)
def test_an_imported_and_published_file_parses_as_the_original(
    admin_client, var_dir, name
):
    text = (FIXTURES / name).read_text()

    response = upload(admin_client, text)
    assert response.status_code == 302, response.context["problems"]
    response = post(admin_client, "publish", {"note": f"import of {name}"})
    assert response.status_code == 302

    published = lvscf.parse((var_dir / "lvs.cf").read_text())
    original = lvscf.parse(text)
    assert published.serial_no == original.serial_no + 1
    assert differences(without_serial(published), without_serial(original)) == []


def test_an_imported_file_is_published_as_its_canonical_text(admin_client, var_dir):
    canonical = (FIXTURES / "canonical" / "everything.cf").read_text()
    upload(admin_client, canonical)

    post(admin_client, "publish")

    published = (var_dir / "lvs.cf").read_text()
    serial = lvscf.parse(canonical).serial_no
    assert published == canonical.replace(
        f"serial_no = {serial}\n", f"serial_no = {serial + 1}\n"
    )


def test_import_replaces_the_whole_configuration(admin_client, var_dir):
    make_nat_config(virtuals=3, reals=2)

    response = upload(admin_client, (FIXTURES / "gui-nat.cf").read_text())

    assert response.status_code == 302
    assert response.url == reverse("lbconfig:virtualserver_list")
    assert list(VirtualServer.objects.values_list("name", "position")) == [
        ("web", 0),
        ("mail", 1),
    ]
    assert list(RealServer.objects.values_list("name", flat=True)) == [
        "web1",
        "web2",
        "mx1",
        "mx2",
    ]
    entry = AuditEntry.objects.first()
    assert entry is not None
    assert (entry.user, entry.action) == ("admin", "import")


def test_import_from_disk_reads_the_lvs_cf_being_edited(admin_client, var_dir):
    (var_dir / "lvs.cf").write_text((FIXTURES / "gui-nat.cf").read_text())

    response = admin_client.get(reverse("lbconfig:import") + "?from=disk")

    assert response.status_code == 302
    assert [vs.name for vs in VirtualServer.objects.all()] == ["web", "mail"]
    entry = AuditEntry.objects.first()
    assert entry is not None and entry.action == "import"


def test_import_from_disk_then_publish_ends_the_drift(admin_client, var_dir):
    make_nat_config()
    post(admin_client, "publish")
    lvs_cf = var_dir / "lvs.cf"
    lvs_cf.write_text(lvs_cf.read_text().replace("weight = 1", "weight = 7"))

    admin_client.get(reverse("lbconfig:import") + "?from=disk")
    post(admin_client, "publish")

    assert set(RealServer.objects.values_list("weight", flat=True)) == {7}
    home = admin_client.get(reverse("lbconfig:home"))
    assert 'id="drift"' not in home.text


# --- bad files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_an_uploaded_file_with_errors_changes_nothing_and_lists_them_by_line(
    admin_client, var_dir, text, shown
):
    make_nat_config()
    before = snapshot()

    response = upload(admin_client, text)

    assert response.status_code == 200
    assert snapshot() == before
    listed = response.context["problems"]
    assert listed and all(p.line for p in listed if p.is_error), listed
    assert shown in response.text.replace("&#x27;", "'").replace("&quot;", '"')


@pytest.mark.parametrize(
    ("text", "shown"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_a_file_on_disk_with_errors_changes_nothing_and_lists_them_by_line(
    admin_client, var_dir, text, shown
):
    make_nat_config()
    (var_dir / "lvs.cf").write_text(text)
    before = snapshot()

    response = admin_client.get(reverse("lbconfig:import") + "?from=disk")

    assert response.status_code == 200
    assert snapshot() == before
    listed = response.context["problems"]
    assert listed and all(p.line for p in listed if p.is_error), listed
    assert shown in response.text.replace("&#x27;", "'").replace("&quot;", '"')


def test_a_file_that_is_not_utf8_changes_nothing(admin_client, var_dir):
    make_nat_config()
    before = snapshot()

    response = upload(admin_client, b"serial_no = 1\n# caf\xe9\n")

    assert response.status_code == 200
    assert snapshot() == before
    assert "the file is not UTF-8 text" in response.text


def test_import_from_disk_without_a_file_says_so(admin_client, var_dir):
    make_nat_config()
    before = snapshot()

    response = admin_client.get(reverse("lbconfig:import") + "?from=disk")

    assert response.status_code == 200
    assert snapshot() == before
    assert f"{var_dir / 'lvs.cf'} does not exist" in response.text
