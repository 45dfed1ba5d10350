"""The firewall-mark rules file, and the OpenSSH SFTP extensions with their
fallbacks, against the real sshd of test_sync_sshd.py.

The rules file goes the way lvs.cf goes: temp file, sha256 read back, rename,
one `.bak`; a failure with either file leaves both targets as they were.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from lbconfig import sync
from lbconfig.models import AuditEntry, Revision, SyncTarget
from lbconfig.sync.errors import TIMEOUT
from lbconfig.sync.extensions import HARDLINK, STATVFS, OpenSSHExtensions
from tests.factories import make_virtual_server
from tests.lbconfig import test_sync_sshd as fixtures
from tests.lbconfig.test_sync_sshd import Backup, configure, listing, put

backup = fixtures.backup

pytestmark = pytest.mark.django_db

RULES = b"*mangle\n-A PREROUTING -d 192.168.1.100/32 -p tcp --dport 21 -j MARK --set-mark 21\nCOMMIT\n"  # noqa: E501
OLD_RULES = b"*mangle\nCOMMIT\n"
OLD_CF = "serial_no = 1\n"


def revision(text: str = "serial_no = 2\n") -> Revision:
    return fixtures.revision(text)


def with_rules(backup: Backup, tmp_path: Path, remote: Path | None = None) -> Path:
    """Configure the sync with a local rules file (mode 0600) to copy."""
    configure(backup)
    local = tmp_path / "iptables"
    local.write_bytes(RULES)
    local.chmod(0o600)
    SyncTarget.objects.update(
        copy_fwmark_rules=True,
        fwmark_rules_path=str(local),
        fwmark_rules_remote_path=str(remote or backup.root / "iptables"),
    )
    return local


def test_the_rules_file_is_copied_with_its_mode_when_chosen(backup, tmp_path):
    with_rules(backup, tmp_path)

    result = sync.sync_to_backup(revision())

    remote = backup.root / "iptables"
    assert remote.read_bytes() == RULES
    assert remote.stat().st_mode & 0o777 == 0o600, "a new file gets the local mode"
    assert str(remote) in result.files
    assert listing(backup) == ["iptables", "lvs.cf"]


def test_an_existing_rules_file_keeps_mode_owner_and_one_bak(backup, tmp_path):
    with_rules(backup, tmp_path)
    remote = put(backup.root / "iptables", OLD_RULES)

    sync.sync_to_backup(revision())

    assert remote.read_bytes() == RULES
    assert (remote.stat().st_mode & 0o7777, remote.stat().st_gid) == (0o640, 4)
    assert (backup.root / "iptables.bak").read_bytes() == OLD_RULES


def test_the_rules_file_is_not_copied_by_default(backup, tmp_path):
    configure(backup)
    local = tmp_path / "iptables"
    local.write_bytes(RULES)
    SyncTarget.objects.update(fwmark_rules_path=str(local))

    result = sync.sync_to_backup(revision())

    assert listing(backup) == ["lvs.cf"]
    assert len(result.files) == 1


def test_a_missing_local_rules_file_is_said_and_nothing_is_sent(backup, tmp_path):
    local = with_rules(backup, tmp_path)
    local.unlink()
    cf = put(backup.root / "lvs.cf", OLD_CF.encode())

    with pytest.raises(sync.SyncError, match="cannot be read here") as info:
        sync.sync_to_backup(revision(), "admin")

    assert str(local) in str(info.value)
    assert "iptables-save" in str(info.value)
    assert cf.read_text() == OLD_CF
    assert listing(backup) == ["lvs.cf"]
    assert AuditEntry.objects.filter(action="sync failed").exists()


def test_a_directory_is_not_a_rules_file(backup, tmp_path):
    with_rules(backup, tmp_path)
    SyncTarget.objects.update(fwmark_rules_path=str(tmp_path))

    with pytest.raises(sync.SyncError, match="cannot be read here|not a firewall"):
        sync.sync_to_backup(revision())

    assert listing(backup) == []


def test_a_rules_file_that_cannot_be_placed_leaves_lvs_cf_unchanged(backup, tmp_path):
    with_rules(backup, tmp_path, remote=backup.root / "no-such-dir" / "iptables")
    cf = put(backup.root / "lvs.cf", OLD_CF.encode())
    inode = cf.stat().st_ino

    with pytest.raises(sync.SyncError, match="does not exist on the backup"):
        sync.sync_to_backup(revision())

    assert cf.read_text() == OLD_CF
    assert cf.stat().st_ino == inode
    assert listing(backup) == ["lvs.cf"], "no temp file is left behind"


def test_a_full_disk_with_the_rules_file_changes_neither_file(backup, tmp_path):
    with_rules(backup, tmp_path)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", backup.root], check=True
    )
    try:
        cf = put(backup.root / "lvs.cf", OLD_CF.encode())
        rules = put(backup.root / "iptables", OLD_RULES)
        (tmp_path / "iptables").write_bytes(RULES * 4000)  # ~400 kB

        with pytest.raises(sync.SyncError, match="disk is full"):
            sync.sync_to_backup(revision())

        assert (cf.read_text(), rules.read_bytes()) == (OLD_CF, OLD_RULES)
        assert listing(backup) == ["iptables", "lvs.cf"]
    finally:
        subprocess.run(["umount", backup.root], check=True)


# --- the OpenSSH extensions and their fallbacks ---------------------------------------


def test_sshd_announces_both_extensions_and_they_work(backup):
    configure(backup)
    old = put(backup.root / "a", b"x")
    with sync.session(SyncTarget.load()) as (client, _):
        with OpenSSHExtensions(client.get_transport(), TIMEOUT) as ext:
            assert {STATVFS, HARDLINK} <= set(ext.supported)
            free = ext.free_bytes(str(backup.root))
            assert ext.hardlink(str(old), str(backup.root / "b"))
            with pytest.raises(FileNotFoundError):
                ext.hardlink(str(backup.root / "missing"), str(backup.root / "c"))
    assert free is not None and free > 0
    assert (backup.root / "b").stat().st_ino == old.stat().st_ino


@pytest.fixture
def no_extensions(monkeypatch):
    """An SFTP server that announces no extension (not OpenSSH's)."""
    monkeypatch.setattr(OpenSSHExtensions, "_hello", lambda self: {})


def test_without_hardlink_the_bak_is_a_copy_and_the_target_stays(backup, no_extensions):
    configure(backup)
    cf = put(backup.root / "lvs.cf", OLD_CF.encode())
    inode = cf.stat().st_ino

    sync.sync_to_backup(revision())

    bak = backup.root / "lvs.cf.bak"
    assert bak.read_text() == OLD_CF
    assert bak.stat().st_ino != inode, "a copy, not a second name"
    assert (bak.stat().st_mode & 0o7777, bak.stat().st_gid) == (0o640, 4)
    assert cf.read_text() == "serial_no = 2\n"
    assert listing(backup) == ["lvs.cf", "lvs.cf.bak"]


def test_without_statvfs_a_full_disk_still_changes_nothing(backup, no_extensions):
    configure(backup)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", backup.root], check=True
    )
    try:
        cf = put(backup.root / "lvs.cf", OLD_CF.encode())
        with pytest.raises(sync.SyncError, match="backup refused uploading|disk"):
            sync.sync_to_backup(revision("x" * 400_000))
        assert cf.read_text() == OLD_CF
        assert listing(backup) == ["lvs.cf"]
    finally:
        subprocess.run(["umount", backup.root], check=True)


# --- the settings page ----------------------------------------------------------------


SETTINGS = {
    "host": "10.0.0.2",
    "port": 22,
    "user": "root",
    "remote_path": "/etc/sysconfig/ha/lvs.cf",
    "seen_version": 1,
}


def test_the_settings_page_offers_the_rules_file_off_by_default(admin_client):
    page = admin_client.get(reverse("lbconfig:sync_settings"))

    assert "Also copy the firewall-mark rules file" in page.text
    assert not SyncTarget.load().copy_fwmark_rules
    assert SyncTarget.load().fwmark_rules_path == "/etc/sysconfig/iptables"


def test_the_settings_page_saves_the_rules_file_paths(admin_client):
    response = admin_client.post(
        reverse("lbconfig:sync_settings"),
        {
            **SETTINGS,
            "copy_fwmark_rules": "on",
            "fwmark_rules_path": "/etc/iptables/rules.v4",
            "fwmark_rules_remote_path": "/etc/iptables/rules.v4",
        },
    )

    assert response.status_code == 302
    target = SyncTarget.load()
    assert target.copy_fwmark_rules
    assert target.fwmark_rules_path == "/etc/iptables/rules.v4"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fwmark_rules_path", "iptables", "An absolute path"),
        ("fwmark_rules_remote_path", "/etc/../iptables", "without . or .."),
        ("fwmark_rules_path", "/etc/ipt\nables", "An absolute path"),
        ("fwmark_rules_remote_path", "/etc/sysconfig/ha/lvs.cf", "where lvs.cf goes"),
    ],
)
def test_the_settings_page_refuses_a_bad_rules_path_by_the_field(
    admin_client, field, value, message
):
    response = admin_client.post(
        reverse("lbconfig:sync_settings"), {**SETTINGS, field: value}
    )

    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    assert SyncTarget.load().fwmark_rules_path == "/etc/sysconfig/iptables"


@pytest.mark.parametrize("inside", ["var", "code"])
def test_the_settings_page_refuses_to_send_piranha_webs_own_files(
    admin_client, settings, tmp_path, inside
):
    own = settings.PIRANHA_VAR_DIR if inside == "var" else settings.BASE_DIR
    link = tmp_path / "rules"  # a link into our files is refused as well
    link.symlink_to(Path(own) / "secret_key")
    for path in (f"{own}/secret_key", str(link)):
        response = admin_client.post(
            reverse("lbconfig:sync_settings"),
            {**SETTINGS, "copy_fwmark_rules": "on", "fwmark_rules_path": path},
        )
        assert response.status_code == 200
        (error,) = response.context["form"].errors["fwmark_rules_path"]
        assert "one of piranha-web's own files" in error
    assert SyncTarget.load().fwmark_rules_path == "/etc/sysconfig/iptables"


def test_a_server_with_one_session_a_connection_gets_the_fallbacks(monkeypatch, db):
    # sshd refuses our second channel: the sync must still work, by the copy.
    monkeypatch.setattr(fixtures, "CONFIG", fixtures.CONFIG + "MaxSessions 1\n")
    with fixtures.running_backup() as one_session:
        configure(one_session)
        cf = put(one_session.root / "lvs.cf", OLD_CF.encode())
        inode = cf.stat().st_ino

        sync.sync_to_backup(revision())

        bak = one_session.root / "lvs.cf.bak"
        assert (cf.read_text(), bak.read_text()) == ("serial_no = 2\n", OLD_CF)
        assert bak.stat().st_ino != inode, "a copy: hardlink needs our own channel"
        assert listing(one_session) == ["lvs.cf", "lvs.cf.bak"]


def test_the_settings_page_says_when_marked_virtual_servers_need_the_rules(
    admin_client,
):
    make_virtual_server(name="ftp", fwmark=21)
    make_virtual_server(name="web")
    url = reverse("lbconfig:sync_settings")

    hint = admin_client.get(url)
    SyncTarget.objects.update(copy_fwmark_rules=True)
    copied = admin_client.get(url)

    assert "1 virtual server uses a firewall mark" in hint.text
    assert 'id="fwmark-rules-hint"' not in copied.text
