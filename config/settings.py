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
# DJANGO_ENV=production (or GUNMANE_ENV): a deployment, where nothing falls back to a made-up local value.
ENVIRONMENT = (os.environ.get("DJANGO_ENV") or os.environ.get("GUNMANE_ENV") or "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, got {ENVIRONMENT!r}")
PRODUCTION = ENVIRONMENT == "production"
if PRODUCTION and not os.environ.get("SECRET_KEY"):
    # Every server behind the same site must sign sessions with the same key, and a key written to a file on
    # one machine is neither shared nor backed up: a deployment sets it explicitly.
    raise ImproperlyConfigured("SECRET_KEY must be set in production (DJANGO_ENV=production), e.g. python -c "
                               "'import secrets; print(secrets.token_urlsafe(50))'")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (DJANGO_ENV=production)")
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key(
    Path(os.environ.get("SECRET_KEY_FILE", BASE_DIR / ".secret_key")))
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters (e.g. python -c 'import secrets; "
                               "print(secrets.token_urlsafe(50))')")
if PRODUCTION and not os.environ.get("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production: the site's host names, comma-separated")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
                 if h.strip()]

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
    "ogc",
]

MIDDLEWARE = [
    # First: it times everything below and gives each request the id its log lines carry (config/requestlog.py).
    "config.requestlog.RequestLogMiddleware",
    "config.routers.ReplicaMiddleware",
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

# Connection pooling (psycopg_pool, Django's `pool` option) in the web server: config/gunicorn.py sets DB_POOL=1.
# Each gunicorn worker process has its own pool; a gthread worker runs GUNICORN_THREADS requests at once and a
# request holds one connection, so a pool of that many never makes a request wait for another's connection.
# At most WEB_CONCURRENCY × DB_POOL_MAX_SIZE connections, kept under PostgreSQL's max_connections with room for
# the qcluster workers, migrations and psql (README, "Deploying": the arithmetic). Commands and tests keep one
# persistent connection per process (CONN_MAX_AGE), which a pool replaces.
DB_POOL = envbool("DB_POOL", False)
DB_POOL_MAX_SIZE = envint("DB_POOL_MAX_SIZE", envint("GUNICORN_THREADS", 4))
DB_POOL_OPTIONS = {
    "min_size": min(envint("DB_POOL_MIN_SIZE", 1), DB_POOL_MAX_SIZE),
    "max_size": DB_POOL_MAX_SIZE,
    # A request that cannot have a connection within this many seconds fails (500) rather than hanging.
    "timeout": envint("DB_POOL_TIMEOUT", 10),
    # Connections are replaced now and then, so a restarted or failed-over server is picked up.
    "max_lifetime": envint("DB_POOL_MAX_LIFETIME", 1800),
}


# PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost (100,000): a 10,000-feature OGC page
# or a vector tile gets there, and compiling takes longer (~150 ms) than a web request's query runs. The web
# server turns it off for its connections (config/gunicorn.py sets DB_JIT=0); engine runs and commands keep it.
DB_JIT = envbool("DB_JIT", True)


def database(url: str) -> dict:
    db = dj_database_url.parse(url, engine="django.contrib.gis.db.backends.postgis",
                               conn_max_age=0 if DB_POOL else 60)
    if DB_POOL:
        db.setdefault("OPTIONS", {})["pool"] = dict(DB_POOL_OPTIONS)
    if not DB_JIT:
        options = db.setdefault("OPTIONS", {})
        options["options"] = (options.get("options", "") + " -c jit=off").strip()
    return db


DATABASES = {"default": database(os.environ.get("DATABASE_URL", "postgresql:///gunmane"))}
# A read replica (PostgreSQL streaming replication) for read-only traffic: GET requests to the paths in
# REPLICA_PATHS read the registry from it; writes, transactions, sessions and access rights stay on default.
REPLICA_ENABLED = bool(os.environ.get("DATABASE_REPLICA_URL"))
if REPLICA_ENABLED:
    DATABASES["replica"] = {**database(os.environ["DATABASE_REPLICA_URL"]), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
REPLICA_PATHS = [p for p in os.environ.get(
    "REPLICA_PATHS", "/api/v1/assets,/api/v1/regions/,/ogc/,/tiles/").split(",") if p]
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

# Background jobs: django-q2 on Redis when REDIS_URL is set (several machines' workers share one queue), on
# PostgreSQL (the ORM broker) otherwise. A worker killed mid-task leaves its job 'running' with no owner: the job's
# advisory lock went with the worker's connection, and the next read marks it failed (core.jobs, core.liveness).
Q_CLUSTER = {
    "name": "gunmane",
    "workers": envint("Q_WORKERS", 2),
    "timeout": 1800,
    "retry": 3600,
    "sync": envbool("Q_SYNC", False),
}
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# Django's cache (the vector tiles' bytes, web/tiles.py), shared by every gunicorn worker: Redis when REDIS_URL (or
# CACHE_REDIS_URL, e.g. another database number of the same server) is set, so web servers on several machines
# share it; else files under CACHE_DIR, shared by the workers of one machine. (Django's default, memory per
# process, would make each of the 5 workers render and keep every tile again.) Entries are keyed by the data
# version, so nothing needs clearing after a change; old ones expire (CACHE_SECONDS in web/tiles.py) or are culled.
CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", REDIS_URL)
CACHE_DIR = Path(os.environ.get("CACHE_DIR", BASE_DIR / "cache"))
if CACHE_REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_REDIS_URL,
                          "KEY_PREFIX": "gunmane"}}
else:
    # The file cache culls a third of its entries when it holds more than CACHE_MAX_ENTRIES (tiles: bytes to MBs).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(CACHE_DIR),
                          "OPTIONS": {"MAX_ENTRIES": envint("CACHE_MAX_ENTRIES", 20_000)}}}
# /healthz fails (503) when a job has waited longer than this in the queue: no worker is taking jobs.
HEALTH_QUEUE_MAX_AGE_S = envint("HEALTH_QUEUE_MAX_AGE_S", 900)

# JSON lines on stdout (LOG_FORMAT=json, the default): one per request from config.requestlog with its id, user,
# path, status and duration, and every other log line with the id of the request it belongs to.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.requestlog.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.requestlog.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                             "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        # Lockouts and failed sign-ins are logged whatever LOG_LEVEL says.
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # One line per request (REQUEST_LOG=0 turns them off).
        "gunmane.request": {"handlers": ["console"], "propagate": False,
                            "level": "INFO" if envbool("REQUEST_LOG", True) else "WARNING"},
    },
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
# Load balancers probe the health endpoint over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
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

# Ledger imports of more records than this run as a background job (django-q2) with progress; smaller ones run
# in the request. Every import is kept with its report (ledger.LedgerImport).
LEDGER_ASYNC_ROWS = envint("LEDGER_ASYNC_ROWS", 10_000)
