"""A person clicks SYNC TO BACKUP in a real browser and sees the backup in sync.

The browser runs in a thread of its own: tests/e2e keeps a session-wide
Playwright (and its event loop) in the main thread, and a second sync Playwright
there is refused.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from lbconfig.models import Revision
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_login import expect_text
from tests.lbconfig import test_sync_sshd as fixtures
from tests.lbconfig.test_sync_sshd import configure

backup = fixtures.backup  # a bound name makes pytest see the fixture


def click_sync(url: str, expected: str, dump_dir: Path) -> list[str]:
    """Log in, click SYNC TO BACKUP, wait for `expected`; the console errors."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: keep_error(problems, m))
            log_in(page, url)
            # The panel loads itself with htmx and checks the backup (empty yet).
            expect(page.locator("#sync-state-text")).to_contain_text("backup differs")
            page.get_by_role("button", name="SYNC TO BACKUP").click()
            expect_text(page, expected, dump_dir)
            expect(page.locator("#sync-state-text")).to_contain_text("in sync")
            assert page.url == url + "/"
            return problems
        finally:
            browser.close()


def keep_error(problems: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        problems.append(message.text)


def log_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill("piranha")
    page.get_by_label("Password").fill("tulip-sky-42")
    page.get_by_role("button", name="Log in").click()


def test_sync_to_backup_button_copies_and_shows_the_result(
    live_server, transactional_db, backup, django_user_model, tmp_path
):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    django_user_model.objects.create_superuser("piranha", password="tulip-sky-42")
    configure(backup)
    text = "serial_no = 3\n"
    sha = hashlib.sha256(text.encode()).hexdigest()
    rev = Revision.objects.create(serial_no=3, text=text, sha256=sha, path="x")

    expected = f"Backup in sync: revision {rev.pk}"
    with ThreadPoolExecutor(1) as pool:
        run = pool.submit(click_sync, live_server.url, expected, tmp_path)
        problems = run.result(timeout=120)

    assert (backup.root / "lvs.cf").read_text() == text
    assert problems == [], "the browser reported errors (a CSP violation?)"
