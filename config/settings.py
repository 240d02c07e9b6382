"""Settings, read from the environment with safe local defaults for `make demo` / `make test`."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def local_secret_key(path: Path) -> str:
    """A key made on this machine at first start and kept in an untracked file, so no installation shares a
    known key; SECRET_KEY in the environment wins (production)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        # O_EXCL: when two processes start at once, one writes and both read the same key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


# Debug pages show settings and the URLconf: only when asked for (`DEBUG=1`, development).
DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key(
    Path(os.environ.get("SECRET_KEY_FILE", BASE_DIR / ".secret_key")))
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters (e.g. python -c 'import secrets; "
                               "print(secrets.token_urlsafe(50))')")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "django_q",
    "ninja",  # its Swagger UI from our static files: no CDN, no inline script
    "axes",
    "csp",
    "assets",
    "inspections",
    "ledger",
    "clusters",
    "reports",
    "generator",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgresql:///gunmane"),
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=60,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Japanese first; English is one switch away (LocaleMiddleware + i18n URLs).
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise serves /static/ from the app itself, with DEBUG off too (`make demo`, small deployments).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Stored files (inspection photos, plan PDFs) are never served from a public URL: only through views that
# check the record's scope (config/files.py). MEDIA_URL is not routed.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# How those views hand the bytes over: "django" (the app streams the file), "x-accel" (nginx: internal
# location FILES_INTERNAL_URL aliased to MEDIA_ROOT) or "x-sendfile" (Apache mod_xsendfile, lighttpd).
FILES_SERVE_MODE = os.environ.get("FILES_SERVE_MODE", "django")
if FILES_SERVE_MODE not in {"django", "x-accel", "x-sendfile"}:
    raise ImproperlyConfigured(f"FILES_SERVE_MODE must be django, x-accel or x-sendfile, got {FILES_SERVE_MODE!r}")
FILES_INTERNAL_URL = os.environ.get("FILES_INTERNAL_URL", "/protected-media/")

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# JGD2011 geographic; every stored geometry uses it (domain.md §4.6).
GEOMETRY_SRID = 6668

Q_CLUSTER = {
    "name": "gunmane",
    "orm": "default",
    "workers": 2,
    "timeout": 1800,
    "retry": 3600,
    "sync": envbool("Q_SYNC", False),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Lockouts and failed sign-ins are logged whatever LOG_LEVEL says.
    "loggers": {"axes": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}

# Debian 12 ships GDAL 3.6, which cannot sandbox file access in spatial references; uploads are parsed
# with our own readers and explicit SRIDs, so the warning is acknowledged rather than fixed here.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# --- HTTPS deployment ------------------------------------------------------------------------------------
# HTTPS=1 turns on everything a site behind TLS wants; each setting can still be set on its own.
HTTPS = envbool("HTTPS", False)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Only behind a proxy that sets X-Forwarded-Proto itself (and strips the client's): e.g. nginx.
if envbool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) --------------------------------------------------------------
# No inline script, anywhere: every script is a static file and data reaches it through json_script or
# data- attributes. The basemap's tiles are the one outside source, and only with MAP_BASEMAP=gsi.
# The basemap (MAP_BASEMAP=gsi: 地理院タイル when reachable, else drawn from our own data; =local: always our
# own data, no outside request at all). Set here, before the policy, because its host is the one img-src
# allowed outside 'self'.
MAP_BASEMAP = os.environ.get("MAP_BASEMAP", "gsi")
if MAP_BASEMAP not in {"gsi", "local"}:
    raise ImproperlyConfigured(f"MAP_BASEMAP must be gsi or local, got {MAP_BASEMAP!r}")
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "地理院タイル")
MAP_TILE_ATTRIBUTION_URL = os.environ.get("MAP_TILE_ATTRIBUTION_URL", "https://maps.gsi.go.jp/development/ichiran.html")
_tile_hosts = []
if MAP_BASEMAP == "gsi" and MAP_TILE_URL.startswith(("https://", "http://")):
    _tile_hosts.append("/".join(MAP_TILE_URL.split("/")[:3]))  # the region map, asset map and admin widget
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Leaflet and OpenLayers position their panes with style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_tile_hosts],
        "connect-src": ["'self'"],
        # MapLibre's worker is our static file (its CSP build), never a blob: URL.
        "worker-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Login throttle (django-axes) ------------------------------------------------------------------------
# LOGIN_FAILURE_LIMIT wrong passwords for one user name, or from one address, lock that user name or address
# out of the sign-in page and the admin's for LOGIN_LOCKOUT_MINUTES; the answer is 429 and a log line.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_HTTP_RESPONSE_CODE = 429
# The log says which user name and address were locked out (operators must see whom to unlock); passwords
# are never logged.
AXES_SENSITIVE_PARAMETERS = []
# Behind a reverse proxy the client's address is in X-Forwarded-For; say how many proxies to trust.
AXES_IPWARE_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT
                                     else ["REMOTE_ADDR"])

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inspection-pick"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
ENGINE_SYNC = envbool("ENGINE_SYNC", False)

