"""Forms of the backup sync: its SSH settings, and the host key confirmation."""

from __future__ import annotations

import posixpath
import re

from django import forms

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
        ]

    def clean_host(self) -> str:
        host: str = self.cleaned_data["host"].strip()
        # A host name or address only: it reaches getaddrinfo, never a command line.
        if host and not re.fullmatch(r"[A-Za-z0-9.:\-\[\]]+", host):
            raise forms.ValidationError("A host name or an IP address, nothing else.")
        return host.strip("[]")

    def clean_remote_path(self) -> str:
        path: str = self.cleaned_data["remote_path"]
        if not path.startswith("/") or _CONTROL.search(path):
            raise forms.ValidationError(
                "An absolute path such as /etc/sysconfig/ha/lvs.cf."
            )
        if path.endswith("/") or posixpath.normpath(path) != path:
            raise forms.ValidationError("The path of the file itself, without . or ..")
        return path


class HostKeyForm(forms.Form):
    """The host key the admin saw on first contact, sent back to be trusted."""

    line = forms.CharField(widget=forms.HiddenInput, max_length=16384)
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=128)
