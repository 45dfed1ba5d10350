"""manage.py piranha_passwd: creates the admin user or changes its password."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

GETPASS = "lbconfig.management.commands.piranha_passwd.getpass"


def typed(*answers):
    return mock.patch(GETPASS, autospec=True, side_effect=answers)


@pytest.mark.django_db
def test_it_creates_the_piranha_superuser(django_user_model):
    with typed("tulip-sky-42", "tulip-sky-42"):
        call_command("piranha_passwd", stdout=mock.Mock())

    user = django_user_model.objects.get(username="piranha")
    assert user.is_superuser
    assert user.is_staff
    assert login_as_piranha(password="tulip-sky-42") == user


@pytest.mark.django_db
def test_it_changes_the_password_of_an_existing_user(django_user_model):
    django_user_model.objects.create_user("piranha", password="old-pass-77")

    with typed("new-pass-88", "new-pass-88"):
        call_command("piranha_passwd", stdout=mock.Mock())

    assert login_as_piranha(password="new-pass-88") is not None
    assert login_as_piranha(password="old-pass-77") is None
    assert django_user_model.objects.count() == 1


@pytest.mark.django_db
def test_it_rejects_two_different_passwords(django_user_model):
    with typed("tulip-sky-42", "tulip-sky-43"), pytest.raises(CommandError):
        call_command("piranha_passwd")

    assert not django_user_model.objects.exists()


@pytest.mark.django_db
def test_it_rejects_a_weak_password(django_user_model):
    with typed("12345", "12345"), pytest.raises(CommandError, match="too short"):
        call_command("piranha_passwd")

    assert not django_user_model.objects.exists()


@pytest.mark.django_db
def test_it_fails_cleanly_when_nothing_can_be_typed():
    with typed(EOFError()), pytest.raises(CommandError, match="--generate"):
        call_command("piranha_passwd")


@pytest.mark.django_db
def test_generate_prints_a_password_that_works(capsys):
    call_command("piranha_passwd", "--generate")

    password = capsys.readouterr().out.split("password: ")[1].split()[0]
    assert login_as_piranha(password=password) is not None


@pytest.mark.django_db
def test_if_missing_leaves_an_existing_password_alone(django_user_model, capsys):
    django_user_model.objects.create_user("piranha", password="old-pass-77")

    call_command("piranha_passwd", "--generate", "--if-missing")

    assert "password: " not in capsys.readouterr().out
    assert login_as_piranha(password="old-pass-77") is not None


def test_it_refuses_a_password_on_the_command_line():
    with pytest.raises(CommandError, match="unrecognized arguments"):
        call_command("piranha_passwd", "tulip-sky-42")


def login_as_piranha(password):
    # The login throttle (django-axes) needs the request, as the login page gives it.
    request = RequestFactory().post("/login/")
    return authenticate(request, username="piranha", password=password)
