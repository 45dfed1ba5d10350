"""What the lbconfig view tests share: the state a view could change
(`snapshot`), posting to a named URL, and reading errors, messages and the
audit log back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse

from lbconfig import publish as publishing
from lbconfig.models import (
    AuditEntry,
    FailoverService,
    GlobalSettings,
    RealServer,
    Redundancy,
    Revision,
    VirtualServer,
)


def snapshot(var_dir: Path | None = None) -> dict[str, Any]:
    """Everything a view could change: every row and the file on disk."""
    # The singletons' rows are created on first read; that is not a change.
    GlobalSettings.load()
    Redundancy.load()
    state: dict[str, Any] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            GlobalSettings,
            Redundancy,
            VirtualServer,
            RealServer,
            FailoverService,
            Revision,
            AuditEntry,
        )
    }
    state["users"] = list(get_user_model().objects.order_by("pk").values())
    lvs_cf = publishing.target()
    state["lvs.cf"] = lvs_cf.read_bytes() if lvs_cf.exists() else None
    return state


def post(client, name, data=None, **kw):
    """POST to the lbconfig URL `name` with `kw` as its arguments."""
    return client.post(reverse(f"lbconfig:{name}", kwargs=kw), data or {})


def field_errors(response, field):
    """The form's errors for `field`, after checking the page shows them by it."""
    assert response.status_code == 200, response
    errors = list(response.context["form"].errors.get(field, []))
    if errors:
        # crispy-forms puts a field's errors right under its input.
        assert f'id="error_1_id_{field}"' in response.text
    return errors


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def last_audit() -> tuple[str, str, str]:
    """(user, action, detail) of the newest entry; the detail's case is free."""
    entry = AuditEntry.objects.first()
    assert entry is not None, "no audit entry was recorded"
    return entry.user, entry.action, entry.detail.lower()
