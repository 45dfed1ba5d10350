"""Management commands: import_lvscf, export_lvscf, publish, piranha_passwd stdin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import lvscf
from lbconfig.models import AuditEntry, Revision, VirtualServer

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parents[1] / "lvscf" / "fixtures"


def test_import_then_export_gives_the_same_configuration_back(capsys):
    source = FIXTURES / "gui-nat.cf"
    call_command("import_lvscf", str(source), stdout=io.StringIO())
    call_command("export_lvscf")
    exported = lvscf.parse(capsys.readouterr().out)
    original = lvscf.parse(source.read_text())
    assert exported.virtual_servers == original.virtual_servers
    assert (exported.primary, exported.nat_router) == (
        original.primary,
        original.nat_router,
    )
    assert AuditEntry.objects.filter(action="import").exists()


def test_import_of_a_file_with_errors_changes_nothing_and_names_the_line(tmp_path):
    call_command("import_lvscf", str(FIXTURES / "gui-nat.cf"))
    before = list(VirtualServer.objects.values_list("name", flat=True))
    bad = tmp_path / "lvs.cf"
    bad.write_text("serial_no = 1\nkeepalive = 3 # x\n")
    with pytest.raises(CommandError) as error:
        call_command("import_lvscf", str(bad))
    assert f"{bad}:2:" in str(error.value)
    assert "no trailing comments" in str(error.value)
    assert list(VirtualServer.objects.values_list("name", flat=True)) == before


def test_publish_command_writes_lvs_cf_and_a_revision(var_dir):
    call_command("import_lvscf", str(FIXTURES / "gui-nat.cf"))
    call_command("publish", "--note", "from cron")
    revision = Revision.objects.get()
    assert revision.note == "from cron"
    assert (var_dir / "lvs.cf").read_text() == revision.text


def test_publish_command_refuses_errors_and_writes_nothing(var_dir):
    with pytest.raises(CommandError, match="no active virtual server"):
        call_command("publish")
    assert not (var_dir / "lvs.cf").exists()
    assert not Revision.objects.exists()


def test_piranha_passwd_reads_the_password_from_stdin(django_user_model):
    from lbconfig.management.commands import piranha_passwd

    command = piranha_passwd.Command()
    command.stdin = io.StringIO("horse-battery-77\n")
    call_command(command, "--password-stdin")
    user = django_user_model.objects.get(username="piranha")
    assert user.check_password("horse-battery-77")
