"""A person logs in with a real browser and lands on the configuration tool."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect


def expect_text(page: Page, text: str, dump_dir: Path) -> None:
    """Assert that the page shows text; if not, keep the page to look at."""
    try:
        expect(page.locator("body")).to_contain_text(text)
    except AssertionError:
        (dump_dir / "page.html").write_text(page.content())
        page.screenshot(path=dump_dir / "page.png")
        raise AssertionError(f"{text!r} not shown; the page is in {dump_dir}") from None


def test_piranha_logs_in_and_sees_the_landing_page(
    live_server, transactional_db, page, django_user_model, settings, tmp_path
):
    django_user_model.objects.create_superuser("piranha", password="tulip-sky-42")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(live_server.url)
    page.get_by_label("Username").fill("piranha")
    page.get_by_label("Password").fill("tulip-sky-42")
    page.get_by_role("button", name="Log in").click()

    expect_text(page, "PIRANHA CONFIGURATION TOOL", tmp_path)
    expect_text(page, str(settings.PIRANHA_LVS_CF), tmp_path)
    # Bootstrap's stylesheet loaded: the navbar is dark.
    navbar = page.locator("nav.navbar")
    assert (
        navbar.evaluate("n => getComputedStyle(n).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    assert problems == [], "the browser reported errors (a CSP violation?)"
