"""What the panel views share: saving a form against the whole configuration."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

import lvscf
from lbconfig.audit import record
from lbconfig.convert import to_config
from lbconfig.forms import StaleEdit, VersionedForm
from lbconfig.models import FailoverService, RealServer, VirtualServer

# lvscf paths end in the keyword; these keywords live in another form field.
_FIELD_OF = {"nat_router_device": "nat_router_device", "device": "device"}


def user_of(request: HttpRequest) -> str:
    return request.user.get_username()


def keep_if_valid(
    request: HttpRequest, form: VersionedForm, prefix: tuple[str, ...], what: str
) -> bool:
    """Save the form, then check the whole configuration; undo on our errors.

    Errors `lvscf.validate` finds for this object (e.g. a VIP:port another
    virtual server uses) are put next to the field; warnings are shown but
    do not block; problems elsewhere in the configuration do not block here.
    """
    try:
        with transaction.atomic():
            form.save()
            problems = lvscf.validate(to_config())
            mine = [p for p in problems if _concerns(p.path, prefix)]
            errors = [p for p in mine if p.is_error]
            for problem in errors:
                field = _field(form, problem.path[len(prefix) :])
                form.add_error(field, problem.message)
            if errors:
                transaction.set_rollback(True)
                return False
    except StaleEdit as exc:
        form.add_error(None, str(exc))
        return False
    for problem in mine:
        messages.warning(request, problem.message)
    record(user_of(request), "change", what)
    messages.success(request, f"Saved {what}. Publish to write lvs.cf.")
    return True


def _concerns(path: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    """Is a problem at `path` about the object at `prefix` (() = the global keys)?"""
    if not path or path[: len(prefix)] != prefix:
        return False
    return bool(prefix) or len(path) == 1


def _field(form: VersionedForm, rest: tuple[str, ...]) -> str | None:
    name = _FIELD_OF.get(rest[0], rest[0]) if rest else None
    return name if name in form.fields else None


def toggle(
    request: HttpRequest, row: VirtualServer | RealServer | FailoverService, what: str
) -> None:
    """(DE)ACTIVATE: flip `active`, note it in the audit log and say so."""
    row.active = not row.active
    row.version += 1
    row.save(update_fields=["active", "version"])
    state = "activated" if row.active else "deactivated"
    record(user_of(request), "change", f"{what} {state}")
    messages.success(request, f"{what} {state}. Publish to write lvs.cf.")


@dataclass(frozen=True)
class Deletion:
    """What a DELETE confirmation page names, and where its buttons go."""

    what: str  # "virtual server"
    name: str
    detail: str  # "192.168.1.10:80/tcp"
    action: str  # the POST-only delete URL
    cancel: str
    consequences: tuple[str, ...] = ()


def confirm_delete(request: HttpRequest, nav: str, deletion: Deletion) -> HttpResponse:
    """The page that names what DELETE removes; its form posts to the delete URL."""
    return render(request, "lbconfig/confirm_delete.html", {"nav": nav, "d": deletion})


@dataclass(frozen=True)
class BlockPage:
    """The edit page of a named block: `keyword NAME { ... }` in lvs.cf."""

    keyword: str  # "virtual": where lvscf puts this block's problems
    what: str  # "virtual server": how messages and the audit log name it
    url: str  # the edit URL name, given the row's pk
    template: str


def edit_block(
    request: HttpRequest,
    form_class: type[VersionedForm],
    row: VirtualServer | FailoverService,
    page: BlockPage,
    context: dict[str, object],
) -> HttpResponse:
    """ADD (a row without pk, placed last) and EDIT of a block share this body."""
    if not row.pk:
        row.position = type(row)._default_manager.count()
    form = form_class(request.POST or None, instance=row)
    if form.is_valid():
        name = form.cleaned_data["name"]
        if keep_if_valid(request, form, (page.keyword, name), f"{page.what} {name}"):
            return redirect(page.url, pk=form.instance.pk)
    return render(request, page.template, {**context, "form": form})


def delete_row(
    request: HttpRequest,
    row: VirtualServer | RealServer | FailoverService,
    what: str,
) -> None:
    """DELETE: remove the row, note it in the audit log and say so."""
    row.delete()
    record(user_of(request), "delete", what)
    messages.success(request, f"Deleted {what}.")
