"""URLs of the lbconfig app, named ``lbconfig:<model>_<action>``."""

from __future__ import annotations

from django.urls import path

from lbconfig import control_views, sync_views, views

app_name = "lbconfig"

urlpatterns = [
    *control_views.urlpatterns,
    path("global-settings/", views.global_settings, name="globalsettings_edit"),
    path("redundancy/", views.redundancy, name="redundancy_edit"),
    path("redundancy/toggle/", views.redundancy_toggle, name="redundancy_toggle"),
    path("virtual-servers/", views.virtualserver_list, name="virtualserver_list"),
    path("virtual-servers/add/", views.virtualserver_edit, name="virtualserver_add"),
    path(
        "virtual-servers/<int:pk>/edit/",
        views.virtualserver_edit,
        name="virtualserver_edit",
    ),
    path(
        "virtual-servers/<int:pk>/delete/",
        views.virtualserver_delete,
        name="virtualserver_delete",
    ),
    path(
        "virtual-servers/<int:pk>/delete/confirm/",
        views.virtualserver_delete_confirm,
        name="virtualserver_delete_confirm",
    ),
    path(
        "virtual-servers/<int:pk>/toggle/",
        views.virtualserver_toggle,
        name="virtualserver_toggle",
    ),
    path(
        "virtual-servers/<int:pk>/monitoring-scripts/",
        views.monitoring_scripts,
        name="monitoringscripts_edit",
    ),
    path(
        "virtual-servers/<int:vs>/real-servers/",
        views.realserver_list,
        name="realserver_list",
    ),
    path(
        "virtual-servers/<int:vs>/real-servers/add/",
        views.realserver_edit,
        name="realserver_add",
    ),
    path(
        "virtual-servers/<int:vs>/real-servers/<int:pk>/edit/",
        views.realserver_edit,
        name="realserver_edit",
    ),
    path(
        "virtual-servers/<int:vs>/real-servers/<int:pk>/delete/",
        views.realserver_delete,
        name="realserver_delete",
    ),
    path(
        "virtual-servers/<int:vs>/real-servers/<int:pk>/delete/confirm/",
        views.realserver_delete_confirm,
        name="realserver_delete_confirm",
    ),
    path(
        "virtual-servers/<int:vs>/real-servers/<int:pk>/toggle/",
        views.realserver_toggle,
        name="realserver_toggle",
    ),
    path("failover/", views.failover_list, name="failover_list"),
    path("failover/add/", views.failover_edit, name="failover_add"),
    path("failover/<int:pk>/edit/", views.failover_edit, name="failover_edit"),
    path("failover/<int:pk>/delete/", views.failover_delete, name="failover_delete"),
    path(
        "failover/<int:pk>/delete/confirm/",
        views.failover_delete_confirm,
        name="failover_delete_confirm",
    ),
    path("failover/<int:pk>/toggle/", views.failover_toggle, name="failover_toggle"),
    path("publish/", views.preview, name="preview"),
    path("publish/write/", views.publish, name="publish"),
    path("revisions/", views.revision_list, name="revision_list"),
    path("revisions/<int:pk>/", views.revision_detail, name="revision_detail"),
    path(
        "revisions/<int:pk>/restore/", views.revision_restore, name="revision_restore"
    ),
    path("import/", views.import_file, name="import"),
    path("audit/", views.audit_log, name="audit_list"),
    *sync_views.urlpatterns,
]
