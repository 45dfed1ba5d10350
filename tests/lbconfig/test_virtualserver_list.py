"""The VIRTUAL SERVERS list of a large router: pages, page size, filter.

A router may have 1,000 virtual servers (bench/web_bench.py): the list shows
100 a page unless the admin picks another size, which is remembered, and a
filter box finds a server by name, VIP, device, port or firewall mark.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from lbconfig.models import VirtualServer
from lbconfig.views.virtual import DEFAULT_PAGE_SIZE
from tests.factories import make_nat_config, make_virtual_server

pytestmark = pytest.mark.django_db

URL = "/virtual-servers/"


def names(response: Any) -> list[str]:
    return [row["name"] for row in response.context["servers"]]


def make_many(n: int) -> None:
    for _ in range(n):
        make_virtual_server()


def test_the_url_is_the_lists():
    assert reverse("lbconfig:virtualserver_list") == URL


def test_the_list_shows_100_a_page_with_links_to_the_others(admin_client, var_dir):
    make_many(DEFAULT_PAGE_SIZE + 5)

    first = admin_client.get(URL)
    second = admin_client.get(f"{URL}?page=2")

    assert names(first) == [f"vs{n}" for n in range(DEFAULT_PAGE_SIZE)]
    assert "1–100 of 105" in first.text
    assert 'href="?page=2"' in first.text
    assert names(second) == [f"vs{n}" for n in range(100, 105)]


def test_a_page_beyond_the_last_shows_the_last(admin_client, var_dir):
    make_many(3)

    response = admin_client.get(f"{URL}?page=99")

    assert names(response) == ["vs0", "vs1", "vs2"]


def test_the_page_size_is_chosen_and_remembered(admin_client, var_dir):
    make_many(30)

    chosen = admin_client.get(f"{URL}?size=25")
    later = admin_client.get(URL)

    assert len(names(chosen)) == 25
    assert len(names(later)) == 25
    assert '<option value="25" selected>' in later.text


@pytest.mark.parametrize("size", ["7", "-1", "abc", "100000", "%C2%B2"])
def test_a_page_size_not_offered_is_ignored(admin_client, var_dir, size):
    make_many(30)

    response = admin_client.get(f"{URL}?size={size}")

    assert len(names(response)) == 30
    assert response.context["size"] == DEFAULT_PAGE_SIZE


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("mail", ["mail", "mail2"]),
        ("MAIL2", ["mail2"]),
        ("10.9.", ["dns"]),
        ("eth3", ["mail2"]),
        ("8080", ["mail"]),
        ("42", ["ftp"]),
        ("nothing-like-it", []),
        ("\u00b2", []),  # a superscript two is a digit to str.isdigit, not to int
    ],
)
def test_the_filter_finds_by_name_vip_device_port_or_mark(
    admin_client, var_dir, query, found
):
    make_virtual_server(name="web", address="192.168.1.10")
    make_virtual_server(name="mail", address="192.168.1.11", port=8080)
    make_virtual_server(name="mail2", address="192.168.1.12", device="eth3:1")
    make_virtual_server(name="dns", address="10.9.0.53", port=53)
    make_virtual_server(name="ftp", address="192.168.1.21", port=21, fwmark=42)

    response = admin_client.get(URL, {"q": query})

    assert names(response) == found
    if not found:
        assert f"No virtual server matches “{query}”." in response.text


def test_the_filter_is_kept_in_the_page_links(admin_client, var_dir):
    make_many(30)

    response = admin_client.get(URL, {"q": "vs", "size": 25})

    assert 'href="?q=vs&amp;page=2"' in response.text


def test_each_row_counts_its_real_servers(admin_client, var_dir):
    make_nat_config(virtuals=2, reals=3)
    make_virtual_server(name="empty")

    response = admin_client.get(URL)

    assert [row["count"] for row in response.context["servers"]] == ["3", "3", "0"]


def test_activate_returns_to_the_page_and_filter_it_was_on(admin_client, var_dir):
    make_many(30)
    server = VirtualServer.objects.get(name="vs27")
    page = admin_client.get(URL, {"size": 25, "page": 2})
    assert f'name="next" value="{URL}?size=25&amp;page=2"' in page.text

    response = admin_client.post(
        reverse("lbconfig:virtualserver_toggle", args=[server.pk]),
        {"next": f"{URL}?size=25&page=2"},
    )

    assert response.url == f"{URL}?size=25&page=2"


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/", "/x"])
def test_activate_goes_back_only_to_the_list(admin_client, var_dir, back):
    server = make_virtual_server()

    response = admin_client.post(
        reverse("lbconfig:virtualserver_toggle", args=[server.pk]), {"next": back}
    )

    assert response.url == URL
