"""Every response carries the headers that keep the tool out of frames and scripts."""

from __future__ import annotations

from django.urls import reverse


def test_responses_forbid_framing_and_inline_scripts(client):
    response = client.get(reverse("login"))

    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_login_sets_a_http_only_lax_session_cookie(client, django_user_model):
    django_user_model.objects.create_user("piranha", password="correct horse 1")

    response = client.post(
        reverse("login"), {"username": "piranha", "password": "correct horse 1"}
    )

    assert response.status_code == 302
    cookie = response.cookies["piranha_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
