"""A person clicks SYNC TO BACKUP in a real browser and sees the backup in sync."""

from __future__ import annotations

import hashlib

from playwright.sync_api import expect

from lbconfig.models import Revision
from tests.e2e import test_login as browsers
from tests.lbconfig import test_sync_sshd as fixtures
from tests.lbconfig.test_sync_sshd import configure

# Fixtures shared with the other modules: a bound name makes pytest see them.
backup, browser, page = fixtures.backup, browsers.browser, browsers.page


def test_sync_to_backup_button_copies_and_shows_the_result(
    live_server, transactional_db, page, backup, django_user_model, tmp_path
):
    django_user_model.objects.create_superuser("piranha", password="tulip-sky-42")
    configure(backup)
    text = "serial_no = 3\n"
    sha = hashlib.sha256(text.encode()).hexdigest()
    rev = Revision.objects.create(serial_no=3, text=text, sha256=sha, path="x")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(live_server.url)
    page.get_by_label("Username").fill("piranha")
    page.get_by_label("Password").fill("tulip-sky-42")
    page.get_by_role("button", name="Log in").click()
    # The panel loads itself with htmx and checks the backup (nothing there yet).
    expect(page.locator("#sync-state-text")).to_contain_text("backup differs")
    page.get_by_role("button", name="SYNC TO BACKUP").click()

    browsers.expect_text(page, f"Backup in sync: revision {rev.pk}", tmp_path)
    expect(page.locator("#sync-state-text")).to_contain_text("in sync")
    assert page.url == live_server.url + "/"
    assert (backup.root / "lvs.cf").read_text() == text
    assert problems == [], "the browser reported errors (a CSP violation?)"
