"""Views of the panels, one module per panel. Every view needs a login
(LoginRequiredMiddleware).

Views stay thin: forms validate fields, `lvscf.validate` (through
`common.keep_if_valid`) validates the whole, and side effects live in publish.py
and audit.py.
"""

from __future__ import annotations

from lbconfig.views.failover import (
    failover_delete,
    failover_delete_confirm,
    failover_edit,
    failover_list,
    failover_toggle,
)
from lbconfig.views.panels import global_settings, redundancy, redundancy_toggle
from lbconfig.views.publishing import (
    audit_log,
    import_file,
    preview,
    publish,
    revision_detail,
    revision_list,
    revision_restore,
)
from lbconfig.views.virtual import (
    monitoring_scripts,
    realserver_delete,
    realserver_delete_confirm,
    realserver_edit,
    realserver_list,
    realserver_toggle,
    virtualserver_delete,
    virtualserver_delete_confirm,
    virtualserver_edit,
    virtualserver_list,
    virtualserver_toggle,
)

__all__ = [
    "audit_log",
    "failover_delete",
    "failover_delete_confirm",
    "failover_edit",
    "failover_list",
    "failover_toggle",
    "global_settings",
    "import_file",
    "monitoring_scripts",
    "preview",
    "publish",
    "realserver_delete",
    "realserver_delete_confirm",
    "realserver_edit",
    "realserver_list",
    "realserver_toggle",
    "redundancy",
    "redundancy_toggle",
    "revision_detail",
    "revision_list",
    "revision_restore",
    "virtualserver_delete",
    "virtualserver_delete_confirm",
    "virtualserver_edit",
    "virtualserver_list",
    "virtualserver_toggle",
]
