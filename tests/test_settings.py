"""The settings helpers: PIRANHA_* variables and the generated secret key."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from piranha_web.settings import env_bool, env_int, env_str, load_secret_key


def test_unset_variables_give_the_default(monkeypatch):
    monkeypatch.delenv("PIRANHA_SOMETHING", raising=False)

    assert env_str("SOMETHING", "x") == "x"
    assert env_bool("SOMETHING", True) is True
    assert env_int("SOMETHING", 7) == 7


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("yes", True),
        ("On", True),
        ("0", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_yes_and_no(monkeypatch, value, expected):
    monkeypatch.setenv("PIRANHA_DEBUG", value)

    assert env_bool("DEBUG", not expected) is expected


def test_env_bool_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("PIRANHA_DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="PIRANHA_DEBUG='maybe'"):
        env_bool("DEBUG", False)


def test_env_int_rejects_a_word(monkeypatch):
    monkeypatch.setenv("PIRANHA_SESSION_SECONDS", "forever")

    with pytest.raises(ImproperlyConfigured, match="not a number"):
        env_int("SESSION_SECONDS", 1)


def test_secret_key_is_created_once_readable_only_by_its_owner(tmp_path):
    path = tmp_path / "var" / "secret_key"

    key = load_secret_key(path)

    assert len(key) >= 50
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert load_secret_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


def test_secret_key_in_an_unwritable_place_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("")

    with pytest.raises(ImproperlyConfigured, match="PIRANHA_VAR_DIR"):
        load_secret_key(tmp_path / "file" / "secret_key")


def test_the_wsgi_application_loads():
    from piranha_web.wsgi import application

    assert callable(application)
