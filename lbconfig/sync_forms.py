"""Forms of the backup sync: its SSH settings, and the host key confirmation."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

from django import forms
from django.conf import settings

from lbconfig.forms import VersionedForm
from lbconfig.models import SyncTarget

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SyncSettingsForm(VersionedForm):
    """Where and how to reach the backup; keys are set by their own buttons."""

    class Meta:
        model = SyncTarget
        fields = [
            "host",
            "port",
            "user",
            "remote_path",
            "reload_command",
            "copy_sysctl",
            "copy_fwmark_rules",
            "fwmark_rules_path",
            "fwmark_rules_remote_path",
        ]

    def clean_host(self) -> str:
        host: str = self.cleaned_data["host"].strip()
        # A host name or address only: it reaches getaddrinfo, never a command line.
        if host and not re.fullmatch(r"[A-Za-z0-9.:\-\[\]]+", host):
            raise forms.ValidationError("A host name or an IP address, nothing else.")
        return host.strip("[]")

    def clean_remote_path(self) -> str:
        return _file_path(self.cleaned_data["remote_path"], "/etc/sysconfig/ha/lvs.cf")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left blank (or posted by an older page), they keep their value.
        for name in ("fwmark_rules_path", "fwmark_rules_remote_path"):
            self.fields[name].required = False

    def clean_fwmark_rules_path(self) -> str:
        path = self.cleaned_data["fwmark_rules_path"]
        return _outside_our_files(
            _file_path(path or self.instance.fwmark_rules_path, RULES)
        )

    def clean_fwmark_rules_remote_path(self) -> str:
        path = self.cleaned_data["fwmark_rules_remote_path"]
        return _file_path(path or self.instance.fwmark_rules_remote_path, RULES)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        rules = data.get("fwmark_rules_remote_path")
        if rules and rules == data.get("remote_path"):
            self.add_error(
                "fwmark_rules_remote_path", "This is where lvs.cf goes on the backup."
            )
        return data


RULES = "/etc/sysconfig/iptables"


def _file_path(path: str, example: str) -> str:
    """An absolute, normalised path of a file: it reaches SFTP or open() as is."""
    if not path.startswith("/") or _CONTROL.search(path):
        raise forms.ValidationError(f"An absolute path such as {example}.")
    if path.endswith("/") or posixpath.normpath(path) != path:
        raise forms.ValidationError("The path of the file itself, without . or ..")
    return path


def _outside_our_files(path: str) -> str:
    """The web reads this file and sends it off: never its own secrets or code."""
    real = os.path.realpath(path)
    for ours in (settings.PIRANHA_VAR_DIR, settings.BASE_DIR):
        mine = os.path.realpath(ours)
        if real == mine or real.startswith(mine.rstrip("/") + "/"):
            raise forms.ValidationError(
                f"{path} is one of piranha-web's own files; choose the firewall "
                "rules file, such as /etc/sysconfig/iptables."
            )
    return path


class HostKeyForm(forms.Form):
    """The host key the admin saw on first contact, sent back to be trusted."""

    line = forms.CharField(widget=forms.HiddenInput, max_length=16384)
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=128)
