"""lvs.cf injection through the panels.

For every text field of every form (found by walking the forms, so a new field is
covered without editing this file) post what an attacker would: a line break
followed by `active = 1`, quotes, braces, `#`, a carriage return, a NUL. Either
the field refuses the value with an error next to it and nothing changes, or the
value is saved, publishes, and the published file parses back to exactly what was
entered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.urls import reverse

import lvscf
from lbconfig.forms import (
    FailoverForm,
    GlobalSettingsForm,
    MonitoringScriptsForm,
    RealServerForm,
    RedundancyForm,
    VersionedForm,
    VirtualServerForm,
)
from lbconfig.models import (
    FailoverService,
    GlobalSettings,
    Redundancy,
    Revision,
    VirtualServer,
)
from tests.factories import form_data, make_nat_config
from tests.lbconfig.helpers import snapshot

pytestmark = pytest.mark.django_db

PAYLOADS = {
    "newline": "\nactive = 1",
    "double quote": '"x',
    "single quote": "'x",
    "open brace": "{x",
    "close brace": "}x",
    "hash": " #x",
    "carriage return": "\rx",
    "nul": "\x00x",
}


def _notes(comments: lvscf.Comments) -> str:
    return "\n".join(comments.above)


def _virtual(config: lvscf.Config) -> lvscf.VirtualServer:
    return config.virtual_servers[0]


def _real(config: lvscf.Config) -> lvscf.RealServer:
    return config.virtual_servers[0].servers[0]


def _global_value(config: lvscf.Config, field: str) -> Any:
    return _notes(config.comments) if field == "notes" else getattr(config, field)


def _virtual_value(config: lvscf.Config, field: str) -> Any:
    vs = _virtual(config)
    if field == "dirs":  # a list: any whitespace separates its words
        return " ".join(vs.dirs or ())
    return _notes(vs.comments) if field == "notes" else getattr(vs, field)


def _real_value(config: lvscf.Config, field: str) -> Any:
    rs = _real(config)
    return _notes(rs.comments) if field == "notes" else getattr(rs, field)


def _failover_value(config: lvscf.Config, field: str) -> Any:
    fs = config.failover_services[0]
    return _notes(fs.comments) if field == "notes" else getattr(fs, field)


def _global_url() -> str:
    return reverse("lbconfig:globalsettings_edit")


def _redundancy_url() -> str:
    return reverse("lbconfig:redundancy_edit")


def _virtual_url() -> str:
    return reverse("lbconfig:virtualserver_edit", args=[VirtualServer.objects.get().pk])


def _scripts_url() -> str:
    return reverse(
        "lbconfig:monitoringscripts_edit", args=[VirtualServer.objects.get().pk]
    )


def _real_url() -> str:
    vs = VirtualServer.objects.get()
    real = vs.real_servers.get()
    return reverse("lbconfig:realserver_edit", args=[vs.pk, real.pk])


def _failover_url() -> str:
    return reverse("lbconfig:failover_edit", args=[FailoverService.objects.get().pk])


def _failover_row() -> Any:
    return FailoverService.objects.get()


def _global_row() -> Any:
    return GlobalSettings.load()


def _redundancy_row() -> Any:
    return Redundancy.load()


def _virtual_row() -> Any:
    return VirtualServer.objects.get()


def _real_row() -> Any:
    return VirtualServer.objects.get().real_servers.get()


# form -> (URL, the row it edits, how to read a field back from the parsed file)
PANELS: dict[
    type[VersionedForm],
    tuple[Callable[[], str], Callable[[], Any], Callable[[lvscf.Config, str], Any]],
] = {
    GlobalSettingsForm: (_global_url, _global_row, _global_value),
    RedundancyForm: (_redundancy_url, _redundancy_row, _global_value),
    VirtualServerForm: (_virtual_url, _virtual_row, _virtual_value),
    MonitoringScriptsForm: (_scripts_url, _virtual_row, _virtual_value),
    RealServerForm: (_real_url, _real_row, _real_value),
    FailoverForm: (_failover_url, _failover_row, _failover_value),
}

# A valid value to append the payload to, for fields whose current value is empty.
SEEDS = {
    "primary_private": "10.0.0.10",
    "active_cmd": "/bin/up",
    "inactive_cmd": "/bin/down",
    "backup": "192.168.1.11",
    "backup_private": "10.0.0.11",
    "sorry_server": "10.0.0.250",
    "send_program": "/usr/local/bin/check %h %p",
    "notes": "note",
    "vip_nmask": "255.255.255.0",
    "pmask": "255.255.255.0",
}


def text_fields(form_class: type[VersionedForm]) -> list[str]:
    """The fields of a form that take text (inputs, text areas, selects)."""
    return [
        name
        for name, field in form_class().fields.items()
        if isinstance(field, forms.CharField | forms.ChoiceField)
        and not isinstance(field.widget, forms.HiddenInput)
    ]


CASES = [
    (form_class, field, payload)
    for form_class in PANELS
    for field in text_fields(form_class)
    for payload in PAYLOADS
]


def build_config() -> None:
    """One active NAT virtual server with one real server, redundancy on, and
    one (inactive) failover service."""
    (web,) = make_nat_config(reals=1)
    FailoverService.objects.create(name="smtp", address="192.168.1.25", port=25)
    VirtualServer.objects.filter(pk=web.pk).update(persistent=300)
    Redundancy.load()
    Redundancy.objects.update(
        backup_active=True, backup="192.168.1.11", syncdaemon=True
    )


def test_every_form_has_text_fields_to_attack():
    assert {form.__name__: len(text_fields(form)) for form in PANELS} == {
        "GlobalSettingsForm": 16,
        "RedundancyForm": 3,
        "VirtualServerForm": 15,
        "MonitoringScriptsForm": 3,
        "RealServerForm": 3,
        "FailoverForm": 10,
    }


@pytest.mark.parametrize(
    ("form_class", "field", "payload"),
    CASES,
    ids=[f"{c.__name__}.{f}-{p}" for c, f, p in CASES],
)
def test_an_attacker_value_is_refused_by_the_field_or_published_exactly(
    admin_client, var_dir, form_class, field, payload
):
    build_config()
    url, row, read_back = PANELS[form_class]
    data = form_data(form_class, row())
    value = str(data[field] or SEEDS.get(field, "x")) + PAYLOADS[payload]
    before = snapshot()

    response = admin_client.post(url(), {**data, field: value})

    if response.status_code == 200:
        errors = response.context["form"].errors
        assert errors.get(field), f"refused, but not next to {field}: {errors}"
        assert snapshot() == before
        return
    assert response.status_code == 302, response.status_code
    published = admin_client.post(reverse("lbconfig:publish"), follow=True)
    assert Revision.objects.exists(), (
        f"{field}={value!r} was saved but cannot be published: "
        f"{[str(m) for m in published.context['messages']]}"
    )
    config = lvscf.parse((var_dir / "lvs.cf").read_text())
    if field == "notes":  # a browser's CR LF or CR is a line break of the notes
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if field == "dirs":
        value = " ".join(value.split())
    assert read_back(config, field) == value
    assert [vs.active for vs in config.virtual_servers] == [True]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_publish_note_never_reaches_lvs_cf(admin_client, var_dir, payload):
    build_config()
    note = "note" + PAYLOADS[payload]

    admin_client.post(reverse("lbconfig:publish"), {"note": note})

    revision = Revision.objects.get()
    assert revision.note in (note, ""), "kept exactly, or dropped by the form"
    assert "note" not in revision.text
    assert (var_dir / "lvs.cf").read_text() == revision.text
