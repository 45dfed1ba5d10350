"""Settings of piranha-web, read from ``PIRANHA_*`` environment variables.

The defaults run the embedded mode: the database, the secret key and lvs.cf live under
``<checkout>/var/``, which is created on first start. Relative paths in the variables
are taken from the checkout, not from the current directory.

    PIRANHA_VAR_DIR          state directory (default: var)
    PIRANHA_LVS_CF           the lvs.cf being edited (default: $PIRANHA_VAR_DIR/lvs.cf)
    PIRANHA_DEBUG            Django's debug pages, for development only (default: no)
    PIRANHA_ALLOWED_HOSTS    comma-separated host names (default: *)
    PIRANHA_SECURE_COOKIES   send cookies over HTTPS only (default: no, the tool
                             speaks plain HTTP on :3636 unless a TLS proxy fronts it)
    PIRANHA_SESSION_SECONDS  how long a login lasts (default: 28800, eight hours)
    PIRANHA_ALLOWED_NETWORKS comma-separated CIDRs that may reach the tool at all,
                             checked before login (default: loopback and the
                             private ranges)
    PIRANHA_LOGIN_FAILURES   failed logins of one user from one address before a
                             15-minute lock-out (default: 5)
    PIRANHA_PULSE_MODE       how START/STOP/RESTART/RELOAD reach pulse: "embedded"
                             (default: the web runs `python -m pulse run` itself, on
                             the published lvs.cf, pid file and log in the state
                             directory) or "systemd" (a router: `sudo -n systemctl
                             VERB pulse`, see docs/router-install.md)
    PIRANHA_PULSE_SOCKET     pulse's control socket (default: pulse.sock in
                             $PIRANHA_VAR_DIR; on a router /run/pulse/pulse.sock)
    PIRANHA_PULSE_TIMEOUT    seconds to wait for pulse's status answer before the page
                             says "not answering" (default: 1)
    PIRANHA_STATUS_TOKEN     a read-only token for /status.json and /metrics, sent as
                             `Authorization: Bearer TOKEN` (default: none, login only)
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def env_str(name: str, default: str) -> str:
    return os.environ.get(f"PIRANHA_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(f"PIRANHA_{name}")
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"PIRANHA_{name}={value!r} is not a yes/no value")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(f"PIRANHA_{name}")
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"PIRANHA_{name}={value!r} is not a number"
        ) from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(f"PIRANHA_{name}")
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"PIRANHA_{name}={value!r} is not a number"
        ) from None


def load_secret_key(path: Path) -> str:
    """Read the secret key from path, creating it (mode 0600) on first start."""
    if not path.exists():
        try:
            # 0700: the directory holds the key and the database of password hashes.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkstemp files are 0600. link() refuses to replace an existing file, so
            # when two processes start at once both end up using the first key.
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as f:
                f.write(secrets.token_urlsafe(50))
            try:
                os.link(f.name, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(f.name)
        except OSError as exc:
            raise ImproperlyConfigured(
                f"cannot create the secret key {path}: {exc.strerror}; "
                "make PIRANHA_VAR_DIR writable or point it elsewhere"
            ) from exc
    return path.read_text().strip()


PIRANHA_VAR_DIR = BASE_DIR / env_str("VAR_DIR", "var")
PIRANHA_LVS_CF = BASE_DIR / env_str("LVS_CF", str(PIRANHA_VAR_DIR / "lvs.cf"))

SECRET_KEY = load_secret_key(PIRANHA_VAR_DIR / "secret_key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "*").split(",")]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, so that runserver serves static files the way gunicorn does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "lbconfig",
]

MIDDLEWARE = [
    # First: an address outside the allowed networks gets nothing, not even /login/.
    "lbconfig.middleware.AllowedNetworksMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs a login unless it is marked @login_not_required (the login view
    # is), so a new view cannot be left open by a forgotten decorator.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lbconfig.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: it answers for locked-out logins.
    "axes.middleware.AxesMiddleware",
]

# Failed-login throttling (django-axes): a user name is locked out from one address
# after PIRANHA_LOGIN_FAILURES failures, for 15 minutes; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Where a sync puts the IP-forwarding sysctl file on the backup router: a file of
# its own, so the backup's other sysctl settings are left alone.
PIRANHA_SYNC_SYSCTL_PATH = env_str(
    "SYNC_SYSCTL_PATH", "/etc/sysctl.d/90-piranha-lvs.conf"
)

# pulse, the runtime: how the web starts and stops it, and where it answers. The mode
# and the socket path are checked by lbconfig/apps.py (manage.py check), not here, so
# that a typo shows as a clear check message rather than a traceback at import.
PIRANHA_PULSE_MODE = env_str("PULSE_MODE", "embedded")
# Empty: pulse.sock in the state directory, looked up when used (tests move the
# state directory after this file is read).
PIRANHA_PULSE_SOCKET = env_str("PULSE_SOCKET", "")
PIRANHA_PULSE_TIMEOUT = env_float("PULSE_TIMEOUT", 1.0)
PIRANHA_STATUS_TOKEN = env_str("STATUS_TOKEN", "")

PIRANHA_ALLOWED_NETWORKS = [
    ip_network(cidr.strip(), strict=False)
    for cidr in env_str(
        "ALLOWED_NETWORKS",
        "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
    ).split(",")
    if cidr.strip()
]

ROOT_URLCONF = "piranha_web.urls"
WSGI_APPLICATION = "piranha_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": PIRANHA_VAR_DIR / "piranha.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lbconfig:home"
LOGOUT_REDIRECT_URL = "login"

# Cookies carry no port, so another Django site on the same router would share the
# default cookie names; our own names keep the two logins apart.
SESSION_COOKIE_NAME = "piranha_session"
CSRF_COOKIE_NAME = "piranha_csrftoken"
SESSION_COOKIE_AGE = env_int("SESSION_SECONDS", 8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline scripts or styles anywhere: every script and stylesheet is a vendored
# file under /static/. Bootstrap draws some icons as data: SVG images.
PIRANHA_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = PIRANHA_VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
