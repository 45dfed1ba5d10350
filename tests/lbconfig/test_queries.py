"""The two pages that grow with the router run a constant number of queries.

The VIRTUAL SERVERS list and a virtual server's REAL SERVER page are what an admin
of a large router (1,000 × 16, see bench/web_bench.py) opens all day: their query
count must not depend on the number of rows.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_nat_config, make_real_server

pytestmark = pytest.mark.django_db


def queries_of(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_virtual_server_list_runs_as_many_queries_for_30_as_for_3(
    admin_client, django_assert_max_num_queries
):
    make_nat_config(virtuals=3, reals=2)
    url = reverse("lbconfig:virtualserver_list")
    small = queries_of(admin_client, url)
    make_nat_config(virtuals=27, reals=2)

    with django_assert_max_num_queries(small):
        response = admin_client.get(url)

    assert len(response.context["servers"]) == 30
    assert small <= 6, (
        "session, user, how many rows, the page's rows, their real server "
        "counts, the FAILOVER tab"
    )


def test_a_filtered_later_page_runs_as_many_queries_as_the_first(
    admin_client, django_assert_max_num_queries
):
    make_nat_config(virtuals=3, reals=2)
    url = reverse("lbconfig:virtualserver_list")
    small = queries_of(admin_client, f"{url}?size=25")
    make_nat_config(virtuals=60, reals=2)

    with django_assert_max_num_queries(small):
        response = admin_client.get(f"{url}?q=vs&page=2")

    assert len(response.context["servers"]) == 25


def test_the_real_server_page_runs_as_many_queries_for_30_as_for_3(
    admin_client, django_assert_max_num_queries
):
    (web,) = make_nat_config(virtuals=1, reals=3)
    url = reverse("lbconfig:realserver_list", args=[web.pk])
    small = queries_of(admin_client, url)
    for _ in range(27):
        make_real_server(web)

    with django_assert_max_num_queries(small):
        response = admin_client.get(url)

    assert len(response.context["reals"]) == 30
    assert small <= 5, (
        "session, user, the virtual server, its real servers, the FAILOVER tab"
    )
