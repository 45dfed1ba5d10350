"""An admin builds a NAT router pair through the pages with a real browser.

Two virtual servers (the second one groups FTP by a firewall mark, with
persistence), three real servers each, monitoring scripts, then PUBLISH: the
written lvs.cf must parse, validate without errors and be exactly the expected
canonical text. On failure the page is kept (screenshot and HTML) in the test's
tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import lvscf

PASSWORD = "tulip-sky-42"

EXPECTED = """\
serial_no = 1
primary = 192.168.1.10
service = lvs
backup_active = 0
heartbeat = 1
heartbeat_port = 539
keepalive = 6
deadtime = 18
network = nat
nat_router = 10.0.0.254 eth1:1
nat_nmask = 255.255.255.0
debug_level = NONE
monitor_links = 0
syncdaemon = 0
tcp_timeout = 0
tcpfin_timeout = 0
udp_timeout = 0
hard_shutdown = 1
virtual web {
     active = 1
     address = 192.168.1.100 eth0:1
     vip_nmask = 255.255.255.0
     port = 80
     send = "GET /health HTTP/1.0\\r\\n\\r\\n"
     expect = "HTTP"
     use_regex = 0
     load_monitor = none
     scheduler = wlc
     protocol = tcp
     timeout = 6
     reentry = 15
     quiesce_server = 0
     server web1 {
         address = 10.0.0.1
         active = 1
         port = 80
         weight = 1
     }
     server web2 {
         address = 10.0.0.2
         active = 1
         port = 80
         weight = 2
     }
     server web3 {
         address = 10.0.0.3
         active = 1
         port = 8080
         weight = 3
     }
}
virtual ftp {
     active = 1
     address = 192.168.1.101 eth0:2
     vip_nmask = 255.255.255.0
     fwmark = 21
     port = 21
     persistent = 300
     pmask = 255.255.255.0
     expect = "OK"
     use_regex = 0
     send_program = "/usr/local/bin/check_ftp %h %p"
     load_monitor = none
     scheduler = rr
     protocol = tcp
     timeout = 6
     reentry = 15
     quiesce_server = 0
     server ftp1 {
         address = 10.0.0.11
         active = 1
         port = 21
         weight = 1
     }
     server ftp2 {
         address = 10.0.0.12
         active = 1
         port = 21
         weight = 1
     }
     server ftp3 {
         address = 10.0.0.13
         active = 1
         port = 21
         weight = 1
     }
}
"""


@contextmanager
def kept_on_failure(page: Page, artifacts: Path) -> Iterator[None]:
    """Keep a screenshot and the HTML of the page when the block fails."""
    try:
        yield
    except Exception as exc:
        artifacts.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=artifacts / "page.png", full_page=True)
        (artifacts / "page.html").write_text(page.content())
        raise AssertionError(
            f"{exc}\n(at {page.url}; screenshot and HTML in {artifacts})"
        ) from exc


def log_in(page: Page, base_url: str) -> None:
    page.goto(base_url)
    page.get_by_label("Username").fill("piranha")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#panels")).to_be_visible()


def accept(page: Page, saved: str) -> None:
    page.get_by_role("button", name="ACCEPT").click()
    expect(page.locator(".alert-success")).to_contain_text(saved)


def fill(page: Page, values: dict[str, str]) -> None:
    """Fill crispy-form fields by name: text inputs, text areas and selects."""
    for name, value in values.items():
        field = page.locator(f"#id_{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def set_global_settings(page: Page) -> None:
    page.locator("#panels").get_by_role("link", name="GLOBAL SETTINGS").click()
    fill(page, {"primary": "192.168.1.10"})
    page.locator("input[name=network][value=nat]").check()
    fill(
        page,
        {
            "nat_router": "10.0.0.254",
            "nat_nmask": "255.255.255.0",
            "nat_router_device": "eth1:1",
        },
    )
    accept(page, "Saved global settings")


def add_virtual_server(
    page: Page,
    values: dict[str, str],
    reals: list[dict[str, str]],
    scripts: dict[str, str],
) -> None:
    page.locator("#panels").get_by_role("link", name="VIRTUAL SERVERS").click()
    page.locator("#add-virtual").click()
    fill(page, values)
    accept(page, f"Saved virtual server {values['name']}")
    for real in reals:
        page.locator("#virtual-tabs").get_by_role("link", name="REAL SERVER").click()
        page.locator("#add-real").click()
        fill(page, real)
        accept(page, f"Saved real server {real['name']}")
    rows = page.locator("#real-servers tbody tr")
    expect(rows).to_have_count(len(reals))
    for n in range(1, len(reals) + 1):
        page.locator("#real-servers").get_by_role(
            "button", name="ACTIVATE", exact=True
        ).first.click()
        expect(page.locator("#real-servers .text-bg-success")).to_have_count(n)
    page.locator("#virtual-tabs").get_by_role("link", name="MONITORING SCRIPTS").click()
    fill(page, scripts)
    accept(page, f"Saved monitoring scripts of {values['name']}")


def activate_virtual_servers(page: Page, count: int) -> None:
    page.locator("#panels").get_by_role("link", name="VIRTUAL SERVERS").click()
    table = page.locator("#virtual-servers")
    for n in range(1, count + 1):
        table.get_by_role("button", name="ACTIVATE", exact=True).first.click()
        expect(table.locator(".text-bg-success")).to_have_count(n)


def publish(page: Page, note: str) -> None:
    page.locator("#panels").get_by_role("link", name="PUBLISH").click()
    expect(page.locator("#problems .text-danger")).to_have_count(0)
    page.locator("#id_note").fill(note)
    page.get_by_role("button", name="PUBLISH").click()
    expect(page.locator(".alert-success")).to_contain_text("Published revision")


@pytest.fixture
def piranha(transactional_db, django_user_model):
    return django_user_model.objects.create_superuser("piranha", password=PASSWORD)


def test_an_admin_builds_and_publishes_a_nat_configuration(
    live_server, piranha, page, var_dir, tmp_path
):
    with kept_on_failure(page, tmp_path / "artifacts"):
        log_in(page, live_server.url)
        set_global_settings(page)
        add_virtual_server(
            page,
            {
                "name": "web",
                "address": "192.168.1.100",
                "device": "eth0:1",
                "vip_nmask": "255.255.255.0",
                "port": "80",
                "scheduler": "wlc",
            },
            [
                {"name": "web1", "address": "10.0.0.1", "weight": "1"},
                {"name": "web2", "address": "10.0.0.2", "weight": "2"},
                {"name": "web3", "address": "10.0.0.3", "weight": "3", "port": "8080"},
            ],
            {"send": "GET /health HTTP/1.0\\r\\n\\r\\n", "expect": "HTTP"},
        )
        add_virtual_server(
            page,
            {
                "name": "ftp",
                "address": "192.168.1.101",
                "device": "eth0:2",
                "vip_nmask": "255.255.255.0",
                "port": "21",
                "fwmark": "21",
                "persistent": "300",
                "pmask": "255.255.255.0",
                "scheduler": "rr",
            },
            [
                {"name": f"ftp{n}", "address": f"10.0.0.1{n}", "weight": "1"}
                for n in (1, 2, 3)
            ],
            {
                "send_program": "/usr/local/bin/check_ftp %h %p",
                "send": "",
                "expect": "OK",
            },
        )
        activate_virtual_servers(page, 2)
        publish(page, "built in the browser")

    text = (var_dir / "lvs.cf").read_text()
    config = lvscf.parse(text)
    assert [p for p in lvscf.validate(config) if p.is_error] == []
    assert [vs.name for vs in config.virtual_servers] == ["web", "ftp"]
    ftp = config.virtual("ftp")
    assert ftp is not None and (ftp.fwmark, ftp.persistent) == (21, 300)
    assert text == EXPECTED


def test_a_note_of_two_lines_typed_in_the_browser_is_saved(
    live_server, piranha, page, var_dir, tmp_path
):
    with kept_on_failure(page, tmp_path / "artifacts"):
        log_in(page, live_server.url)
        page.locator("#panels").get_by_role("link", name="GLOBAL SETTINGS").click()
        page.locator("input[name=network][value=direct]").check()
        # Browsers send a text area's line breaks as CR LF (the HTML standard).
        page.locator("#id_notes").fill("Router pair of rack 4\nOwner: ops")
        accept(page, "Saved global settings")


def test_an_admin_adds_a_failover_service_then_deletes_it_after_confirming(
    live_server, piranha, page, var_dir, tmp_path
):
    with kept_on_failure(page, tmp_path / "artifacts"):
        log_in(page, live_server.url)
        panels = page.locator("#panels")
        expect(panels.get_by_role("link", name="FAILOVER")).to_have_count(0)
        panels.get_by_role("link", name="GLOBAL SETTINGS").click()
        fill(page, {"primary": "192.168.5.10", "service": "fos"})
        page.locator("input[name=network][value=direct]").check()
        accept(page, "Saved global settings")

        panels.get_by_role("link", name="FAILOVER").click()
        page.locator("#add-failover").click()
        fill(page, {"name": "web1", "address": "192.168.5.80"})
        accept(page, "Saved failover service web1")
        panels.get_by_role("link", name="FAILOVER").click()
        table = page.locator("#failover-services")
        table.get_by_role("button", name="ACTIVATE", exact=True).click()
        expect(table.locator(".text-bg-success")).to_have_count(1)
        publish(page, "a FOS router")

        panels.get_by_role("link", name="FAILOVER").click()
        table.get_by_role("link", name="DELETE").click()
        expect(page.locator("#delete-what")).to_contain_text("web1 (192.168.5.80:80)")
        page.get_by_role("link", name="CANCEL").click()
        expect(table.locator("tbody tr")).to_have_count(1)
        table.get_by_role("link", name="DELETE").click()
        page.locator("#delete-form").get_by_role("button", name="DELETE").click()
        expect(page.locator(".alert-success")).to_contain_text(
            "Deleted failover service web1"
        )
        expect(table).to_contain_text("No failover services yet.")

    config = lvscf.parse((var_dir / "lvs.cf").read_text())
    assert config.service == "fos"
    assert [(fs.name, fs.active) for fs in config.failover_services] == [("web1", True)]
