"""The landing page: login required, shows where lvs.cf lives and whether it exists."""

from __future__ import annotations

from django.urls import reverse


def test_anonymous_user_is_redirected_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next=/"


def test_logged_in_user_sees_the_lvs_cf_path(admin_client, var_dir):
    response = admin_client.get("/")

    assert response.status_code == 200
    assert str(var_dir / "lvs.cf") in response.text
    assert "PIRANHA CONFIGURATION TOOL" in response.text
    assert "not published yet" in response.text


def test_home_offers_to_import_an_lvs_cf_that_was_not_published_here(
    admin_client, var_dir
):
    (var_dir / "lvs.cf").write_text("serial_no = 1\n")

    response = admin_client.get("/")

    assert "exists but was not published from here" in response.text
    assert "?from=disk" in response.text


def test_login_page_is_open_to_anonymous_users(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="password"' in response.text
