"""Forms of the panels (django-crispy-forms, Bootstrap 5 layout declared here)."""

from __future__ import annotations

from typing import Any, ClassVar

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms

from lbconfig.models import (
    NETWORK_CHOICES,
    FailoverService,
    GlobalSettings,
    RealServer,
    Redundancy,
    Versioned,
    VirtualServer,
)
from lbconfig.validators import validate_command, validate_plain_word

STALE = (
    "Someone else saved this page after you opened it. Your changes were not "
    "saved: reload the page to see theirs, then edit again."
)
MASKS = [("", "Unused")] + [
    (m, m)
    for m in (
        "255.255.255.255 255.255.255.254 255.255.255.252 255.255.255.248 "
        "255.255.255.240 255.255.255.224 255.255.255.192 255.255.255.128 "
        "255.255.255.0 255.255.254.0 255.255.252.0 255.255.248.0 255.255.240.0 "
        "255.255.224.0 255.255.192.0 255.255.128.0 255.255.0.0"
    ).split()
]

# The notes of a block or of the whole file: a few lines, written as `#` lines.
NOTES_WIDGETS = {"notes": forms.Textarea(attrs={"rows": 3})}


def mask_field(label: str) -> forms.ChoiceField:
    """A netmask chosen from MASKS; "Unused" leaves the key out of lvs.cf."""
    return forms.ChoiceField(label=label, choices=MASKS, required=False)


class VersionedForm(forms.ModelForm):  # type: ignore[type-arg]
    """Refuses a save made from a page that is older than the row (optimistic lock)."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version
        notes = self.fields.get("notes")
        if isinstance(notes, forms.CharField):
            # Notes are the `#` lines of an imported file: "# text" keeps its blank.
            notes.strip = False
        self.helper = FormHelper()
        self.helper.add_input(Submit("accept", "ACCEPT"))
        parts = self.layout_parts()
        if parts:
            self.helper.layout = Layout("seen_version", *parts)

    def layout_parts(self) -> tuple[Any, ...]:
        """The crispy layout after the hidden version; () keeps the default one."""
        return ()

    def clean_notes(self) -> str:
        # Browsers send a text area's line breaks as CR LF; notes become # lines.
        notes: str = self.cleaned_data.get("notes", "")
        return notes.replace("\r\n", "\n").replace("\r", "\n")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen = data.get("seen_version")
        if self.instance.pk and seen is not None and seen != self.instance.version:
            raise forms.ValidationError(STALE, code="stale")
        return data

    def save(self, commit: bool = True) -> Any:
        row: Versioned = super().save(commit=False)
        if row.pk:
            # Compare-and-swap: another save in between makes this one match nothing.
            rows = type(row)._default_manager.filter(pk=row.pk, version=row.version)
            updated = rows.update(version=row.version + 1)
            if not updated:
                raise StaleEdit(STALE)
            row.version += 1
        if commit:
            row.save()
        return row


class StaleEdit(Exception):
    """The row changed between the form's validation and its save."""


class ExtraFieldsForm(VersionedForm):
    """Keys no panel of the original had (FOS, legacy), kept in the row's `extra`.

    `extra_fields` names form fields whose values live in `instance.extra` under
    the same keyword; blank means "not in lvs.cf".
    """

    extra_fields: tuple[str, ...] = ()
    # Initial values for keys the row's `extra` does not have.
    extra_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.load_extra(self.extra_defaults)

    def load_extra(self, defaults: dict[str, Any]) -> None:
        stored = {**defaults, **(self.instance.extra or {})}
        for name in self.extra_fields:
            value = stored.get(name)
            if isinstance(value, list | tuple):
                value = " ".join(value)
            self.fields[name].initial = value

    def store_extra(self) -> None:
        extra = dict(self.instance.extra or {})
        for name in self.extra_fields:
            value = self.cleaned_data.get(name)
            extra[name] = None if value in ("", None) else value
        self.instance.extra = extra

    def save(self, commit: bool = True) -> Any:
        self.store_extra()
        return super().save(commit)


def _words(value: str) -> list[str] | None:
    words = value.split()
    for word in words:
        validate_plain_word(word)
    return words or None


class GlobalSettingsForm(ExtraFieldsForm):
    extra_fields = (
        "heartbeat",
        "sync",
        "primary_shared",
        "backup_shared",
        "reservation_conflict_action",
    )
    heartbeat = forms.BooleanField(
        label="heartbeat (parsed, never used by pulse; the original GUI wrote 1)",
        required=False,
    )
    sync = forms.BooleanField(label="sync (legacy file sync, unused)", required=False)
    primary_shared = forms.CharField(
        label="Primary shared SCSI device (FOS)",
        required=False,
        validators=[validate_plain_word],
    )
    backup_shared = forms.CharField(
        label="Backup shared SCSI device (FOS)",
        required=False,
        validators=[validate_plain_word],
    )
    reservation_conflict_action = forms.ChoiceField(
        label="SCSI reservation conflict action (FOS)",
        choices=[("", "unset"), ("nothing", "nothing"), ("preempt", "preempt")],
        required=False,
    )
    nat_nmask = mask_field("NAT Router netmask")

    class Meta:
        model = GlobalSettings
        fields = [
            "primary",
            "primary_private",
            "tcp_timeout",
            "tcpfin_timeout",
            "udp_timeout",
            "network",
            "nat_router",
            "nat_nmask",
            "nat_router_device",
            "hard_shutdown",
            "active_cmd",
            "inactive_cmd",
            "ipvsadm",
            "rsh_command",
            "debug_level",
            "service",
            "notes",
        ]
        widgets = NOTES_WIDGETS

    extra_defaults: ClassVar[dict[str, Any]] = {"heartbeat": True}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network"].widget = forms.RadioSelect(choices=NETWORK_CHOICES)
        # Older clients and scripts post the page without it: keep what it was.
        self.fields["service"].required = False

    def layout_parts(self) -> tuple[Any, ...]:
        return (
            Fieldset("", "primary", "primary_private"),
            Fieldset("", "tcp_timeout", "tcpfin_timeout", "udp_timeout"),
            Fieldset("Use network type", "network"),
            Div("nat_router", "nat_nmask", "nat_router_device", css_id="nat-fields"),
            Fieldset(
                "Advanced",
                "hard_shutdown",
                "active_cmd",
                "inactive_cmd",
                "ipvsadm",
                "rsh_command",
                "debug_level",
                "service",
                "notes",
            ),
            Fieldset("Legacy and FOS keys", *self.extra_fields),
        )

    def clean_service(self) -> str:
        service: str = self.cleaned_data.get("service") or self.instance.service
        return service

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("network") == "nat":
            for field in ("nat_router", "nat_router_device"):
                if not data.get(field):
                    self.add_error(field, "NAT needs the router's address and device.")
        return data


class RedundancyForm(VersionedForm):
    class Meta:
        model = Redundancy
        fields = [
            "backup",
            "backup_private",
            "keepalive",
            "deadtime",
            "heartbeat_port",
            "monitor_links",
            "syncdaemon",
            "syncd_iface",
            "syncd_id",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        keepalive, deadtime = data.get("keepalive"), data.get("deadtime")
        if keepalive and deadtime and keepalive >= deadtime:
            self.add_error(
                "deadtime", "Must be longer than the heartbeat interval (e.g. 3×)."
            )
        primary = GlobalSettings.load().primary
        if primary and data.get("backup") == primary:
            self.add_error("backup", "This is the primary router's address.")
        return data


class VirtualServerForm(ExtraFieldsForm):
    extra_fields = ("start_cmd", "stop_cmd", "master", "dirs")
    start_cmd = forms.CharField(
        label="Start command (FOS)", required=False, validators=[validate_command]
    )
    stop_cmd = forms.CharField(
        label="Stop command (FOS)", required=False, validators=[validate_command]
    )
    master = forms.GenericIPAddressField(
        label="master (legacy, unused)", protocol="IPv4", required=False
    )
    dirs = forms.CharField(
        label="dirs (legacy list, unused)",
        required=False,
        help_text="Words separated by spaces.",
    )
    vip_nmask = mask_field("Virtual IP Network Mask")
    pmask = mask_field("Persistence Network Mask")

    class Meta:
        model = VirtualServer
        fields = [
            "name",
            "port",
            "protocol",
            "address",
            "vip_nmask",
            "sorry_server",
            "fwmark",
            "device",
            "reentry",
            "timeout",
            "quiesce_server",
            "load_monitor",
            "scheduler",
            "persistent",
            "pmask",
            "client_monitor",
            "notes",
        ]
        widgets = NOTES_WIDGETS

    def layout_parts(self) -> tuple[Any, ...]:
        return (
            *[Field(name) for name in self.Meta.fields if name != "client_monitor"],
            Fieldset("Advanced", "client_monitor"),
            Fieldset("Legacy and FOS keys", *self.extra_fields),
        )

    def clean_dirs(self) -> list[str] | None:
        return _words(self.cleaned_data.get("dirs") or "")


class MonitoringScriptsForm(VersionedForm):
    class Meta:
        model = VirtualServer
        fields = ["send_program", "send", "expect", "use_regex"]


class RealServerForm(VersionedForm):
    class Meta:
        model = RealServer
        fields = ["name", "address", "port", "weight", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def clean_name(self) -> str:
        # The (virtual server, name) constraint is not checked by the form itself,
        # because the virtual server is not one of its fields.
        name: str = self.cleaned_data["name"]
        others = RealServer.objects.filter(
            virtual_server_id=self.instance.virtual_server_id, name=name
        ).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                f"This virtual server already has a real server called {name}."
            )
        return name


class FailoverForm(VersionedForm):
    """A failover block (FAILOVER panel); the manual's fields, in its order."""

    vip_nmask = mask_field("Virtual IP Network Mask")

    class Meta:
        model = FailoverService
        fields = [
            "name",
            "address",
            "vip_nmask",
            "port",
            "device",
            "timeout",
            "start_cmd",
            "stop_cmd",
            "send_program",
            "send",
            "expect",
            "use_regex",
            "notes",
        ]
        widgets = NOTES_WIDGETS

    def layout_parts(self) -> tuple[Any, ...]:
        return (
            *self.Meta.fields[:6],
            Fieldset("Generic service scripts", *self.Meta.fields[6:12]),
            "notes",
        )


class PublishForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, label="Note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("publish", "PUBLISH"))


class ImportForm(forms.Form):
    file = forms.FileField(label="lvs.cf to import")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("import", "IMPORT"))
