"""The backup sync views and commands: the checklist, then the flows on a real sshd."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

import lvscf
from lbconfig import sync
from lbconfig.convert import import_config
from lbconfig.models import AuditEntry, Revision, SyncTarget
from tests.lbconfig import test_sync_sshd as fixtures
from tests.lbconfig.test_sync_sshd import configure

pytestmark = pytest.mark.django_db
backup = fixtures.backup

GUI_NAT = Path(__file__).parents[1] / "lvscf/fixtures/canonical/gui-nat.cf"
POSTS = ["sync_keygen", "sync_run", "sync_check", "sync_publish"]


def revision(text: str = "serial_no = 7\n") -> Revision:
    sha = hashlib.sha256(text.encode()).hexdigest()
    return Revision.objects.create(serial_no=7, text=text, sha256=sha, path="lvs.cf")


def shown(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.parametrize("name", POSTS)
def test_state_changing_views_refuse_get(admin_client, name):
    assert admin_client.get(reverse(f"lbconfig:{name}")).status_code == 405


@pytest.mark.parametrize("name", [*POSTS, "sync_settings", "sync_hostkey_confirm"])
def test_anonymous_users_are_sent_to_login_and_nothing_changes(client, name):
    response = client.post(reverse(f"lbconfig:{name}"))
    assert response.headers["Location"].startswith(reverse("login"))
    assert not SyncTarget.objects.filter(private_key__gt="").exists()


def test_posts_need_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(reverse("lbconfig:sync_keygen")).status_code == 403


def test_generate_key_shows_the_public_line(admin_client):
    response = admin_client.post(reverse("lbconfig:sync_keygen"), follow=True)
    public = SyncTarget.load().public_key
    assert public.startswith("ssh-ed25519 ")
    assert any(public in m for m in shown(response))
    assert AuditEntry.objects.filter(action="sync key").exists()


def test_settings_save_and_refuse_a_relative_path(admin_client):
    url = reverse("lbconfig:sync_settings")
    data = {"host": "10.0.0.2", "port": 2222, "user": "root", "seen_version": 1}
    bad = admin_client.post(url, {**data, "remote_path": "lvs.cf"})
    assert "absolute path" in str(bad.context["form"].errors)
    good = admin_client.post(url, {**data, "remote_path": "/etc/lvs.cf"})
    assert good.status_code == 302
    assert (SyncTarget.load().host, SyncTarget.load().port) == ("10.0.0.2", 2222)


def test_settings_refuse_a_host_that_is_not_an_address(admin_client):
    url = reverse("lbconfig:sync_settings")
    data = {"host": "x;reboot", "port": 22, "user": "root", "remote_path": "/a"}
    response = admin_client.post(url, {**data, "seen_version": 1})
    assert "host" in response.context["form"].errors


def test_first_contact_shows_the_fingerprint_then_trusts_it(admin_client, backup):
    configure(backup)
    SyncTarget.objects.update(host_key="", host_key_fingerprint="")
    url = reverse("lbconfig:sync_hostkey_confirm")
    page = admin_client.get(url)
    assert backup.host_key.fingerprint in page.content.decode()
    form = {"line": backup.host_key.line, "fingerprint": backup.host_key.fingerprint}
    admin_client.post(url, form)
    assert SyncTarget.load().host_key_fingerprint == backup.host_key.fingerprint


def test_a_changed_host_key_is_flagged_on_the_confirm_page(admin_client, backup):
    configure(backup)
    _, other = sync.generate_key()
    sync.confirm_host_key(other, sync.parse_host_key(other).fingerprint, "t")
    page = admin_client.get(reverse("lbconfig:sync_hostkey_confirm"))
    assert "has CHANGED" in page.content.decode()


def test_sync_button_syncs_and_says_so(admin_client, backup):
    configure(backup)
    rev = revision()
    response = admin_client.post(
        reverse("lbconfig:sync_run"), {"next": "/redundancy/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/redundancy/"
    assert any("Backup in sync" in m for m in shown(response))
    assert (backup.root / "lvs.cf").read_text() == rev.text


def test_sync_button_turns_a_failure_into_an_error_message(admin_client, backup):
    configure(backup, port=fixtures.free_port())
    revision()
    response = admin_client.post(reverse("lbconfig:sync_run"), follow=True)
    assert any("Backup not synced: Not reachable" in m for m in shown(response))


def test_sync_refuses_an_outside_next_url(admin_client):
    response = admin_client.post(
        reverse("lbconfig:sync_run"), {"next": "https://evil.example/"}
    )
    assert response.headers["Location"] == reverse("lbconfig:sync_settings")


def test_the_state_panel_checks_after_a_publish(admin_client, backup):
    configure(backup)
    revision()
    response = admin_client.get(reverse("lbconfig:sync_state"))
    assert "backup differs (published revision" in response.content.decode()
    assert b"hx-trigger" not in response.content


def test_home_and_redundancy_load_the_panel(admin_client):
    for url in ("/", reverse("lbconfig:redundancy_edit")):
        assert reverse("lbconfig:sync_state") in admin_client.get(url).content.decode()


def test_check_now_reports_the_state(admin_client, backup):
    configure(backup)
    rev = revision()
    (backup.root / "lvs.cf").write_text(rev.text)
    response = admin_client.post(reverse("lbconfig:sync_check"), follow=True)
    assert any(f"in sync (revision {rev.pk})" in m for m in shown(response))


def test_sync_backup_command_syncs_and_checks(backup, capsys):
    configure(backup)
    revision()
    with pytest.raises(CommandError, match="backup differs"):
        call_command("sync_backup", "--check")
    call_command("sync_backup")
    call_command("sync_backup", "--check")
    assert "in sync" in capsys.readouterr().out


def test_sync_keygen_command_keeps_an_existing_key_without_force(db, capsys):
    call_command("sync_keygen")
    first = SyncTarget.load().public_key
    with pytest.raises(CommandError, match="--force"):
        call_command("sync_keygen")
    call_command("sync_keygen", "--force")
    assert SyncTarget.load().public_key != first
    assert first in capsys.readouterr().out


def test_publish_and_sync_writes_here_then_there(admin_client, backup, var_dir):
    configure(backup)
    import_config(lvscf.parse(GUI_NAT.read_text()))
    response = admin_client.post(reverse("lbconfig:sync_publish"), follow=True)
    assert Revision.objects.exists(), shown(response)
    rev = Revision.objects.get()
    assert (var_dir / "lvs.cf").read_text() == rev.text
    assert (backup.root / "lvs.cf").read_text() == rev.text
    assert any("Backup in sync" in m for m in shown(response))
