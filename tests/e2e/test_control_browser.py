"""An admin runs pulse from CONTROL/MONITORING in a real browser and watches it.

Builds a virtual server on a 127.x address with three real HTTP servers
listening, publishes, presses START and sees all three up with connections
counting while a client sends requests; a killed real server goes down on the
page without a reload; a drained one gets no new connections; STOP closes the
virtual port. On failure the page is kept (screenshot and HTML) in tmp_path.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from lbconfig import control
from lbconfig.models import Redundancy
from tests.e2e.test_build_nat import (
    accept,
    activate_virtual_servers,
    add_virtual_server,
    fill,
    kept_on_failure,
    log_in,
    publish,
)
from tests.lbconfig.test_control_service import (
    Router,
    reaches,
    router_made,
    wait_for,
)

PASSWORD = "tulip-sky-42"
NAMES = ("a", "b", "c")
SEEN = 15_000  # ms the page may take to show a change (interval 1 s + a check)


class Client:
    """Sends HTTP requests to the virtual server until stopped."""

    def __init__(self, url: str) -> None:
        self.url, self.stop = url, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.url, timeout=2).read()
            self.stop.wait(0.05)

    def __enter__(self) -> Client:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


@pytest.fixture
def router(settings):
    with router_made(settings, backends=3) as made:
        yield made


def build_and_publish(page: Page, router: Router) -> None:
    page.locator("#panels").get_by_role("link", name="GLOBAL SETTINGS").click()
    fill(page, {"primary": "127.0.0.1"})
    page.locator("input[name=network][value=direct]").check()
    accept(page, "Saved global settings")
    add_virtual_server(
        page,
        {
            "name": "web",
            "address": router.vip,
            "device": "lo",
            "port": str(router.vport),
            "scheduler": "rr",
            "timeout": "1",
            "reentry": "1",
        },
        [
            {"name": n, "address": b.address, "port": str(b.port), "weight": "1"}
            for n, b in zip(NAMES, router.backends, strict=True)
        ],
        {"send": "GET / HTTP/1.0\\r\\n\\r\\n", "expect": "HTTP"},
    )
    activate_virtual_servers(page, 1)
    # A standalone router takes over after `deadtime` (18 s by default); the
    # REDUNDANCY page shows these fields only for a pair, so set them directly.
    Redundancy.objects.update(keepalive=1, deadtime=2)
    publish(page, "three real servers on loopback")


def row(page: Page, name: str) -> Locator:
    return page.locator(f'tr[data-rs="web/{name}"]')


def conns(page: Page, name: str) -> int:
    return int(row(page, name).locator("td").nth(7).inner_text())


def test_an_admin_starts_watches_drains_and_stops_pulse(
    live_server, transactional_db, django_user_model, page, router, tmp_path
):
    django_user_model.objects.create_superuser("piranha", password=PASSWORD)
    page.on("dialog", lambda dialog: dialog.accept())
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    with kept_on_failure(page, tmp_path / "artifacts"):
        log_in(page, live_server.url)
        build_and_publish(page, router)
        page.locator("#panels").get_by_role("link", name="CONTROL/MONITORING").click()
        page.locator("#update-every").fill("1")
        page.locator("#update-every").dispatch_event("change")
        expect(page.locator("#status-panel")).to_have_attribute(
            "hx-trigger", "every 1s"
        )

        page.get_by_role("button", name="START", exact=True).click()
        expect(page.locator(".alert-success")).to_contain_text("pulse started")
        with Client(f"http://{router.vip}:{router.vport}/client"):
            watch_up_and_counting(page)
            watch_a_server_go_down(page, router)
            watch_a_drained_server_get_nothing(page, router)
            watch_a_silent_pulse(page)

        page.get_by_role("button", name="STOP", exact=True).click()
        expect(page.locator(".alert-success")).to_contain_text("pulse stopped")
        expect(page.locator("#daemon-state")).to_have_text("stopped")
    assert not reaches(router.vip, router.vport)
    assert problems == [], "the browser reported errors (a CSP violation?)"


def watch_up_and_counting(page: Page) -> None:
    for name in NAMES:
        expect(row(page, name).locator(".badge")).to_have_text("up", timeout=SEEN)
    first = {name: conns(page, name) for name in NAMES}
    wait_for(
        lambda: all(conns(page, n) > first[n] for n in NAMES),
        timeout=SEEN / 1000,
        what="connections counting on every real server",
    )


def watch_a_server_go_down(page: Page, router: Router) -> None:
    # A mark in the window: still there afterwards means the page did not reload.
    page.evaluate("window.sameDocument = true")
    router.backends[2].close()
    expect(row(page, "c").locator(".badge")).to_have_text("down", timeout=SEEN)
    # In words: refused, or reset when the server closed during a check.
    text = row(page, "c").inner_text()
    assert "Connection refused" in text or "Connection reset by peer" in text
    assert page.evaluate("window.sameDocument === true")


def watch_a_silent_pulse(page: Page) -> None:
    """A runtime that stops answering shows as such, not as a stale table."""
    pid = control.status()["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        expect(page.locator("#daemon-state")).to_have_text(
            "not answering", timeout=SEEN
        )
        expect(page.locator("#routing-table")).to_have_count(0)
    finally:
        os.kill(pid, signal.SIGCONT)
    expect(page.locator("#daemon-state")).to_have_text("running", timeout=SEEN)


def watch_a_drained_server_get_nothing(page: Page, router: Router) -> None:
    row(page, "b").get_by_role("button", name="DRAIN").click()
    expect(page.locator(".alert-success")).to_contain_text("web/b: drain is set.")
    expect(row(page, "b").locator(".badge")).to_have_text("draining")
    a, b = router.backends[0].server, router.backends[1].server
    before_a, before_b = a.hits["/client"], b.hits["/client"]
    wait_for(
        lambda: a.hits["/client"] >= before_a + 20,
        timeout=SEEN / 1000,
        what="twenty more requests on a",
    )
    assert b.hits["/client"] == before_b


HIDE = "Object.defineProperty(document, 'hidden', {value: %s, configurable: true});"
SHOWN = "document.dispatchEvent(new Event('visibilitychange'))"


def browse_until(
    page: Page, predicate: Callable[[], bool], what: str, timeout: float = 15
) -> None:
    """wait_for, letting Playwright deliver the page's events meanwhile."""
    for _ in range(int(timeout * 10)):
        if predicate():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_a_hidden_tab_pauses_the_polls_and_a_failed_poll_is_flagged(
    live_server, transactional_db, django_user_model, page, router, tmp_path
):
    django_user_model.objects.create_superuser("piranha", password=PASSWORD)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/status/" in r.url else None)
    with kept_on_failure(page, tmp_path / "artifacts"):
        log_in(page, live_server.url)
        page.locator("#update-every").fill("1")
        page.locator("#update-every").dispatch_event("change")
        browse_until(page, lambda: len(polls) >= 3, "polls every second")

        page.evaluate(HIDE % "true")
        page.wait_for_timeout(500)  # a poll already on its way may still land
        hidden_from = len(polls)
        page.wait_for_timeout(3000)
        assert len(polls) == hidden_from, "the hidden tab kept polling"

        page.evaluate(HIDE % "false" + SHOWN)
        browse_until(page, lambda: len(polls) > hidden_from, "a poll on return", 2)

        page.route("**/status/**", lambda route: route.abort())
        expect(page.locator("#status-stale")).to_contain_text(
            "did not answer", timeout=SEEN
        )
        page.unroute("**/status/**")
        expect(page.locator("#status-stale")).to_be_hidden(timeout=SEEN)
