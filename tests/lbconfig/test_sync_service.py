"""sync_to_backup() and sync_state() against a real sshd: success and every failure."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest

from lbconfig import sync
from lbconfig.models import AuditEntry, Revision, SyncTarget
from lbconfig.sync import state as sync_state_module
from tests.lbconfig import test_sync_sshd as fixtures
from tests.lbconfig.test_sync_sshd import (
    Backup,
    configure,
    free_port,
    listing,
    put,
)

# The sshd fixtures live in one module; a name bound here makes pytest see them.
backup, cutting_proxy = fixtures.backup, fixtures.cutting_proxy

pytestmark = pytest.mark.django_db

OLD = "serial_no = 1\n# the backup's own file\n"


def revision(text: str = "serial_no = 2\nprimary = 10.0.0.1\n") -> Revision:
    return fixtures.revision(text)


def big_text() -> str:
    line = "# " + "x" * 60 + "\n"
    return line * (1_900_000 // len(line))


def put_old(backup: Backup, mode: int = 0o640) -> Path:
    return put(backup.root / "lvs.cf", OLD.encode(), mode)


def test_sync_copies_verifies_and_keeps_mode_owner_and_one_bak(backup):
    configure(backup)
    path, rev = put_old(backup), revision()
    result = sync.sync_to_backup(rev, "admin")
    assert path.read_text() == rev.text
    assert (path.stat().st_mode & 0o7777, path.stat().st_gid) == (0o640, 4)
    assert (backup.root / "lvs.cf.bak").read_text() == OLD
    assert listing(backup) == ["lvs.cf", "lvs.cf.bak"]
    assert result.sha256 == rev.sha256 and result.reload_problem is None
    assert AuditEntry.objects.filter(action="sync", user="admin").exists()
    assert sync.sync_state(rev).status == "in_sync"


def test_sync_creates_a_missing_file_0644(backup):
    configure(backup)
    sync.sync_to_backup(revision())
    assert (backup.root / "lvs.cf").stat().st_mode & 0o777 == 0o644
    assert listing(backup) == ["lvs.cf"]


def test_a_second_sync_replaces_the_bak_and_keeps_only_one(backup):
    configure(backup)
    put_old(backup)
    sync.sync_to_backup(revision("serial_no = 2\n"))
    sync.sync_to_backup(revision("serial_no = 3\n"))
    assert (backup.root / "lvs.cf.bak").read_text() == "serial_no = 2\n"
    assert listing(backup) == ["lvs.cf", "lvs.cf.bak"]


def test_sync_copies_the_sysctl_file_when_chosen(backup, settings):
    configure(backup)
    settings.PIRANHA_SYNC_SYSCTL_PATH = str(backup.root / "90-lvs.conf")
    SyncTarget.objects.update(copy_sysctl=True)
    result = sync.sync_to_backup(revision())
    assert "net.ipv4.ip_forward = 1" in (backup.root / "90-lvs.conf").read_text()
    assert len(result.files) == 2


def test_sync_runs_the_reload_command_without_shell_expansion(backup):
    configure(backup)
    marker = backup.root / "reloaded$HOME;x"
    SyncTarget.objects.update(reload_command=f"/usr/bin/touch {marker}")
    assert sync.sync_to_backup(revision()).reload_problem is None
    assert marker.exists(), "the arguments reach the program as written"


def test_a_failing_reload_command_is_reported_after_the_copy(backup):
    configure(backup)
    SyncTarget.objects.update(reload_command="/bin/false")
    result = sync.sync_to_backup(revision())
    assert "exited with 1" in (result.reload_problem or "")
    assert (backup.root / "lvs.cf").exists()


def test_a_reload_command_that_hangs_is_given_up_after_the_timeout(backup, monkeypatch):
    monkeypatch.setattr(sync_state_module, "RELOAD_TIMEOUT", 1.0)
    configure(backup)
    SyncTarget.objects.update(reload_command="/bin/sleep 600")
    started = time.monotonic()
    result = sync.sync_to_backup(revision())
    assert "did not finish" in (result.reload_problem or "")
    assert time.monotonic() - started < 60  # not the command's 600 s
    assert (backup.root / "lvs.cf").exists()


def test_state_says_the_backup_differs_with_its_sha(backup):
    configure(backup)
    put_old(backup)
    state = sync.sync_state(revision())
    sha = hashlib.sha256(OLD.encode()).hexdigest()[:12]
    assert state.status == "differs"
    assert f"backup has sha {sha}" in state.message
    assert "published revision" in SyncTarget.load().last_result


def test_state_is_unset_until_configured(db):
    assert sync.sync_state(revision()).message == "backup sync not set up"


def test_unreachable_backup_is_said_and_audited(backup):
    configure(backup, port=free_port())
    with pytest.raises(sync.SyncError, match="refused the connection"):
        sync.sync_to_backup(revision(), "admin")
    assert AuditEntry.objects.filter(action="sync failed").exists()
    assert sync.sync_state().status == "unreachable"


def test_a_silent_port_times_out(backup, monkeypatch):
    monkeypatch.setattr(sync.errors, "TIMEOUT", 0.5)
    with __import__("socket").create_server(("127.0.0.1", 0)) as silent:
        configure(backup, port=silent.getsockname()[1])
        with pytest.raises(sync.SyncError, match="Timed out"):
            sync.sync_to_backup(revision())


def test_a_key_the_backup_does_not_know_is_refused(backup):
    configure(backup)
    (backup.dir / "authorized_keys").write_text("")
    with pytest.raises(sync.SyncError, match="refused our key for user root"):
        sync.sync_to_backup(revision())


def test_a_changed_host_key_refuses_to_connect(backup):
    configure(backup)
    put_old(backup)
    _, other = sync.generate_key()
    key = sync.parse_host_key(other)
    sync.confirm_host_key(other, key.fingerprint, "test")
    with pytest.raises(sync.SyncError, match="host key has CHANGED") as info:
        sync.sync_to_backup(revision())
    assert backup.host_key.fingerprint in str(info.value)
    assert (backup.root / "lvs.cf").read_text() == OLD


def test_an_unconfirmed_host_key_is_never_accepted(backup):
    configure(backup)
    SyncTarget.objects.update(host_key="", host_key_fingerprint="")
    with pytest.raises(sync.SyncError, match="not confirmed"):
        sync.sync_to_backup(revision())


def test_first_contact_shows_the_fingerprint_sshd_has(backup):
    configure(backup)
    found = sync.fetch_host_key(SyncTarget.load())
    assert found == backup.host_key


def test_confirming_a_line_with_another_fingerprint_is_refused(backup):
    with pytest.raises(sync.SyncError, match="does not match"):
        sync.confirm_host_key(backup.host_key.line, "SHA256:forged", "test")


def test_permission_denied_changes_nothing(backup):
    configure(backup, user="nobody")
    path = put_old(backup, 0o644)
    with pytest.raises(sync.SyncError, match="Permission denied"):
        sync.sync_to_backup(revision())
    assert path.read_text() == OLD
    assert listing(backup) == ["lvs.cf"]


def test_a_full_disk_is_said_and_changes_nothing(backup):
    configure(backup)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", backup.root], check=True
    )
    try:
        path = put_old(backup)
        with pytest.raises(sync.SyncError, match="disk is full"):
            sync.sync_to_backup(revision("x" * 400_000))
        assert path.read_text() == OLD
        assert listing(backup) == ["lvs.cf"]
    finally:
        subprocess.run(["umount", backup.root], check=True)


def test_a_connection_cut_during_the_upload_leaves_the_target_unchanged(
    backup, cutting_proxy
):
    configure(backup, port=cutting_proxy.port)
    path = put_old(backup)
    before = path.stat()
    with pytest.raises(sync.SyncError, match="dropped|stopped answering"):
        sync.sync_to_backup(revision(big_text()))
    assert cutting_proxy.sent > cutting_proxy.limit, "the cut came mid-upload"
    assert path.read_text() == OLD
    assert path.stat().st_ino == before.st_ino
    assert not (backup.root / "lvs.cf.bak").exists()
    # The next sync clears the partial temp file the cut left behind.
    SyncTarget.objects.update(port=backup.port)
    sync.sync_to_backup(revision())
    assert listing(backup) == ["lvs.cf", "lvs.cf.bak"]
