"""Settings of Wellsite Edge, all driven by the environment (see docs/configuration.md).

Defaults give a working embedded box: SQLite in WAL mode under var/, in-memory channel layer and cache, Celery
tasks run eagerly. Production (DEBUG off) refuses to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from erp import __version__
from erp.env import env_bool, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VERSION = __version__

# --- Core -------------------------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
_INSECURE_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_KEY if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TESTING = "pytest" in sys.modules or env_bool("TESTING", False)

if not DEBUG and not TESTING:
    if not SECRET_KEY or SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 32 characters when DEBUG is off "
            "(or give SECRET_KEY_FILE)."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this box answers to when DEBUG is off.")
if TESTING and not SECRET_KEY:
    SECRET_KEY = "test-secret-key-" + "x" * 40

EDGE_ROLE = env_str("EDGE_ROLE", "edge", choices=("edge", "hub"))
EDGE_ID = env_str("EDGE_ID", "edge-01")
SITE_NAME = env_str("SITE_NAME", "Wellsite Edge")

# --- Applications -----------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "apps.core",
    "apps.accounts",
    "apps.wells",
    "apps.drilling",
    "apps.production",
    "apps.intervention",
    "apps.inventory",
    "apps.finance",
    "apps.hr",
    "apps.maintenance",
    "apps.sync",
    "apps.ops",
    "scada",
    "scada.alarms",
    "scada.hmi",
    "scada.ingest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.ActingContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "erp.urls"
WSGI_APPLICATION = "erp.wsgi.application"
ASGI_APPLICATION = "erp.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "apps.core.context_processors.shell",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------------------
_default_sqlite = f"sqlite:///{VAR_DIR / 'wellsite.sqlite3'}"
DATABASE_URL = env_url(
    "DATABASE_URL", _default_sqlite, schemes=("sqlite", "postgres", "postgresql", "timescale", "pgsql")
)
try:
    # Persistent connections (60 s) for the long-running sync processes (gateway, forwarder, Celery). The ASGI server
    # sets DB_CONN_MAX_AGE=0 (erp/asgi.py): it serves each request in a thread of its own, so a kept connection
    # would never be reused, only left open until its thread's storage is collected (Django's ASGI advice).
    _db = dj_database_url.parse(DATABASE_URL.replace("timescale://", "postgres://", 1),
                                conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
except ValueError as exc:  # pragma: no cover - dj_database_url raises ValueError on garbage
    raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # WAL lets the gateway write while the web server reads; IMMEDIATE avoids "database is locked" upgrades.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    _db.setdefault("OPTIONS", {})
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Long-running processes raise the collector's first threshold after start-up (erp/gctune.py); 0 keeps Python's 700.
# The test process (it imports erp.asgi) keeps the defaults: it is short-lived and its many threads are collected.
GC_GEN0_THRESHOLD = env_int("GC_GEN0_THRESHOLD", 0 if TESTING else 50_000, minimum=0)

# --- Redis, channels, cache, MQTT, Celery -----------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss", "unix"))
MQTT_URL = env_url("MQTT_URL", None, schemes=("mqtt", "mqtts", "tcp", "ssl"))
# Before an MQTT (re)connect the driver waits for the historian to commit what it already received (manual acks);
# with the database down it gives up after this long, marks the tags Bad and retries with the gateway's backoff.
MQTT_COMMIT_WAIT_S = env_float("MQTT_COMMIT_WAIT_S", 30.0, minimum=0.1)

if REDIS_URL:
    # redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's blocking BZPOPMIN: every
    # consumer quiet for 5 s died with "Timeout reading from" and its browser had to reconnect (channels_redis#422).
    # Reads must outlast the blocking pop; a dead Redis is still noticed.
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "wellsite"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

# --- Time -------------------------------------------------------------------------------------------------------
USE_TZ = True  # everything is stored in UTC
TIME_ZONE = env_str("TIME_ZONE", "UTC")  # shown in site time
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except Exception as exc:  # noqa: BLE001 - any failure means the zone name is wrong
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known IANA time zone.") from exc
LANGUAGE_CODE = "en-us"
USE_I18N = True

# --- Static and media -------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
WHITENOISE_USE_FINDERS = DEBUG or TESTING  # production serves the collected, hashed files
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ---------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)

# Login lockout: N failures within the window lock the username (and, separately, the client IP).
LOGIN_LOCKOUT_FAILURES = env_int("LOGIN_LOCKOUT_FAILURES", 10, minimum=1)
LOGIN_LOCKOUT_IP_FAILURES = env_int("LOGIN_LOCKOUT_IP_FAILURES", 50, minimum=1)
LOGIN_LOCKOUT_WINDOW_SECONDS = env_int("LOGIN_LOCKOUT_WINDOW_SECONDS", 15 * 60, minimum=10)

# --- REST API ---------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env_int("JWT_REFRESH_HOURS", 24, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "LEEWAY": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wellsite Edge API",
    "DESCRIPTION": "ERP and SCADA of an oil & gas field site. Every endpoint needs a JWT or a session.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- E-mail (notifications) -------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "wellsite-edge@localhost")

# --- Logging ----------------------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # JSON lines on stdout with the request id; secrets are redacted by the formatter (apps/ops/logs.py).
    # LOG_FORMAT=plain gives human-readable lines for development.
    "filters": {"request_id": {"()": "apps.ops.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "apps.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": env_str("LOG_FORMAT", "json", choices=("json", "plain")),
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}, "daphne": {"level": "WARNING"}},
}


# --- ERP business: inventory, finance, HR, maintenance (issue 4) -------------------------------------------------
from erp.env import env_float  # noqa: E402

FINANCE_AFE_WARNING_PERCENT = env_int("FINANCE_AFE_WARNING_PERCENT", 90, minimum=1, maximum=200)
FINANCE_APPROVAL_LIMITS = {  # role -> largest AFE/supplement amount it may approve (admin: unlimited)
    "supervisor": env_int("FINANCE_SUPERVISOR_APPROVAL_LIMIT", 500_000, minimum=0),
}
FINANCE_INVOICE_TOLERANCE_PERCENT = env_int("FINANCE_INVOICE_TOLERANCE_PERCENT", 0, minimum=0, maximum=50)
HR_CERT_EXPIRY_NOTICE_DAYS = env_int("HR_CERT_EXPIRY_NOTICE_DAYS", 30, minimum=1, maximum=365)
HR_DAILY_REGULAR_HOURS = env_int("HR_DAILY_REGULAR_HOURS", 12, minimum=1, maximum=24)
HR_OVERTIME_MULTIPLIER = env_float("HR_OVERTIME_MULTIPLIER", 1.5, minimum=1.0)
HR_ROTATION_DAILY_ALLOWANCE = env_int("HR_ROTATION_DAILY_ALLOWANCE", 50, minimum=0)
MAINTENANCE_PM_LEAD_DAYS = env_int("MAINTENANCE_PM_LEAD_DAYS", 7, minimum=0, maximum=365)
CELERY_BEAT_SCHEDULE.update({
    "maintenance-generate-pm": {"task": "apps.maintenance.tasks.generate_preventive_work_orders",
                                "schedule": env_int("MAINTENANCE_PM_INTERVAL_SECONDS", 3600, minimum=60)},
    "hr-certificate-expiry": {"task": "apps.hr.tasks.notify_expiring_certificates",
                              "schedule": env_int("HR_CERT_CHECK_INTERVAL_SECONDS", 86400, minimum=60)},
})
# --- END issue 4 ---


# --- Sync (edge -> hub store-and-forward) ---------------------------------------------------------------------------
from erp.env import env_float as _sync_env_float  # noqa: E402

HUB_URL = env_url("HUB_URL", None, schemes=("https", "http"))  # http only to a loopback hub (tests, bench)
SYNC_TOKEN = env_str("SYNC_TOKEN", "")  # "<edge_id>:<secret>" issued by the hub (manage.py sync_credential)
SYNC_CA_FILE = env_str("SYNC_CA_FILE", "")  # CA bundle the hub certificate is verified against ("" = system CAs)
SYNC_TLS_MIN_VERSION = env_str("SYNC_TLS_MIN_VERSION", "1.2", choices=("1.2", "1.3"))
SYNC_BATCH_SIZE = env_int("SYNC_BATCH_SIZE", 5000, minimum=1, maximum=50000)  # events claimed per transaction
SYNC_BATCH_MAX_BYTES = env_int("SYNC_BATCH_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)  # event JSON per request
SYNC_GZIP_LEVEL = env_int("SYNC_GZIP_LEVEL", 1, minimum=0, maximum=9)  # 1: ~15x smaller, a few us per event
SYNC_PIPELINE = env_bool("SYNC_PIPELINE", True)  # claim and encode the next batch while one is in flight
# Batches in the air at once when pipelined (one thread and database connection each). 2 drained fastest on 2 cores
# (bench/sync_drain.py: 3 and 4 cost more CPU per event in claims skipping locked rows and concurrent validation).
SYNC_PIPELINE_DEPTH = env_int("SYNC_PIPELINE_DEPTH", 2, minimum=2, maximum=8)
# Hub: how long a pipelined batch waits for the same edge's previous batch before it is applied anyway.
SYNC_PIPELINE_WAIT_SECONDS = _sync_env_float("SYNC_PIPELINE_WAIT_SECONDS", 10.0, minimum=0)
SYNC_INTERVAL_SECONDS = _sync_env_float("SYNC_INTERVAL_SECONDS", 10.0, minimum=0.05)
SYNC_TIMEOUT_SECONDS = _sync_env_float("SYNC_TIMEOUT_SECONDS", 30.0, minimum=0.5)
SYNC_BACKOFF_BASE_SECONDS = _sync_env_float("SYNC_BACKOFF_BASE_SECONDS", 2.0, minimum=0.01)
SYNC_BACKOFF_MAX_SECONDS = _sync_env_float("SYNC_BACKOFF_MAX_SECONDS", 300.0, minimum=0.05)
SYNC_MAX_REJECTIONS = env_int("SYNC_MAX_REJECTIONS", 3, minimum=1)
SYNC_RETENTION_DAYS = env_int("SYNC_RETENTION_DAYS", 7, minimum=0)
SYNC_PULL_SETTLE_SECONDS = _sync_env_float("SYNC_PULL_SETTLE_SECONDS", 5.0, minimum=0)
SYNC_PULL_ENABLED = env_bool("SYNC_PULL_ENABLED", True)
SYNC_TOKEN_ROTATION_GRACE_HOURS = env_int("SYNC_TOKEN_ROTATION_GRACE_HOURS", 24, minimum=0)
SYNC_MAX_BODY_BYTES = env_int("SYNC_MAX_BODY_BYTES", 64 * 1024 * 1024, minimum=1024)
SYNC_BACKLOG_WARNING = env_int("SYNC_BACKLOG_WARNING", 1000, minimum=0)
SYNC_BACKLOG_CRITICAL = env_int("SYNC_BACKLOG_CRITICAL", 10000, minimum=0)
SYNC_AGE_WARNING_SECONDS = env_int("SYNC_AGE_WARNING_SECONDS", 3600, minimum=0)
SYNC_AGE_CRITICAL_SECONDS = env_int("SYNC_AGE_CRITICAL_SECONDS", 86400, minimum=0)
SYNC_LAST_SUCCESS_WARNING_SECONDS = env_int("SYNC_LAST_SUCCESS_WARNING_SECONDS", 300, minimum=0)
SYNC_LAST_SUCCESS_CRITICAL_SECONDS = env_int("SYNC_LAST_SUCCESS_CRITICAL_SECONDS", 3600, minimum=0)
SYNC_FAILURES_CRITICAL = env_int("SYNC_FAILURES_CRITICAL", 10, minimum=1)
SYNC_DISK_PATH = env_str("SYNC_DISK_PATH", str(VAR_DIR))
SYNC_DISK_WARNING_PERCENT = _sync_env_float("SYNC_DISK_WARNING_PERCENT", 80.0, minimum=1)
SYNC_DISK_CRITICAL_PERCENT = _sync_env_float("SYNC_DISK_CRITICAL_PERCENT", 95.0, minimum=1)
if EDGE_ROLE == "edge" and HUB_URL:
    CELERY_BEAT_SCHEDULE["sync-forward"] = {
        "task": "apps.sync.tasks.forward", "schedule": env_int("SYNC_BEAT_SECONDS", 30, minimum=5),
    }
CELERY_BEAT_SCHEDULE["sync-alerts"] = {"task": "apps.sync.tasks.check_alerts", "schedule": 60}
CELERY_BEAT_SCHEDULE["sync-prune"] = {"task": "apps.sync.tasks.prune", "schedule": 3600}

# --- SCADA (issue 5) -------------------------------------------------------------------------------------------
from erp.env import env_float as _scada_env_float  # noqa: E402

SCADA_TIMESCALE = env_str("SCADA_TIMESCALE", "auto", choices=("auto", "off"))
SCADA_RETENTION_DAYS = env_int("SCADA_RETENTION_DAYS", 365, minimum=1)
SCADA_COMPRESS_AFTER_DAYS = env_int("SCADA_COMPRESS_AFTER_DAYS", 7, minimum=1)
SCADA_PARTITIONS_AHEAD_DAYS = env_int("SCADA_PARTITIONS_AHEAD_DAYS", 7, minimum=1, maximum=90)
SCADA_QUEUE_MAX_SAMPLES = env_int("SCADA_QUEUE_MAX_SAMPLES", 200_000, minimum=1000)
SCADA_FLUSH_SAMPLES = env_int("SCADA_FLUSH_SAMPLES", 5000, minimum=1)
SCADA_FLUSH_MS = env_int("SCADA_FLUSH_MS", 250, minimum=10, maximum=250)
SCADA_CONFIG_RELOAD_S = _scada_env_float("SCADA_CONFIG_RELOAD_S", 2.0, minimum=0.1)
SCADA_RECONNECT_MAX_S = _scada_env_float("SCADA_RECONNECT_MAX_S", 30.0, minimum=0.1)
SCADA_HISTORY_MAX_POINTS = env_int("SCADA_HISTORY_MAX_POINTS", 5000, minimum=10)
# Samples stamped by their source (CSV rows, HTTP ingest points, MQTT JSON values) further than this from now are
# history: historian only, no live value, alarm or HMI (docs/scada.md). SCADA_CSV_LIVE_MAX_AGE_S: its former name.
SCADA_LIVE_MAX_AGE_S = _scada_env_float(
    "SCADA_LIVE_MAX_AGE_S", _scada_env_float("SCADA_CSV_LIVE_MAX_AGE_S", 300.0, minimum=0), minimum=0)
# --- END SCADA ---

# --- Operations: backup, updates, metrics, hardening (apps/ops, docs/operations.md) ---
OPS_BACKUP_DIR = Path(env_str("OPS_BACKUP_DIR", str(VAR_DIR / "backups")))
OPS_BACKUP_KEEP = env_int("OPS_BACKUP_KEEP", 30, minimum=1)
OPS_BACKUP_PASSPHRASE = env_str("OPS_BACKUP_PASSPHRASE", "")
OPS_BACKUP_HOUR = env_int("OPS_BACKUP_HOUR", 2, minimum=0, maximum=23)
OPS_BACKUP_MINUTE = env_int("OPS_BACKUP_MINUTE", 15, minimum=0, maximum=59)
OPS_PG_BIN_DIR = env_str("OPS_PG_BIN_DIR", "")
if env_bool("OPS_BACKUP_SCHEDULE", True):
    from celery.schedules import crontab

    CELERY_BEAT_SCHEDULE["ops-daily-backup"] = {
        "task": "apps.ops.tasks.daily_backup",
        "schedule": crontab(hour=OPS_BACKUP_HOUR, minute=OPS_BACKUP_MINUTE),
    }
# Signed updates: the release's Ed25519 public key (PEM or raw base64), where releases are unpacked.
OPS_UPDATE_PUBLIC_KEY = env_str("OPS_UPDATE_PUBLIC_KEY", "")
OPS_RELEASES_DIR = Path(env_str("OPS_RELEASES_DIR", str(VAR_DIR / "releases")))
OPS_CURRENT_LINK = Path(env_str("OPS_CURRENT_LINK", str(VAR_DIR / "current")))  # the services run this release
OPS_UPDATE_RESTART_COMMAND = env_str("OPS_UPDATE_RESTART_COMMAND", "")  # e.g. "systemctl restart wellsite.target"
OPS_UPDATE_HEALTH_URL = env_str("OPS_UPDATE_HEALTH_URL", "")  # e.g. http://127.0.0.1:8000/api/ready
OPS_UPDATE_HEALTH_TIMEOUT = env_int("OPS_UPDATE_HEALTH_TIMEOUT", 120, minimum=5)
# /metrics: admin/scada credentials, or any client in these networks (CIDRs).
OPS_METRICS_NETWORKS = env_list("OPS_METRICS_NETWORKS", [])

# Hardening. HTTPS_ONLY=1 (behind TLS) turns on the redirect, HSTS and secure cookies; `make check-deploy` shows it.
HTTPS_ONLY = env_bool("HTTPS_ONLY", False)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^api/ready$", r"^metrics$"]  # probes and scrapes inside the cluster
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS_ONLY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS_ONLY)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS_ONLY)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
OPS_CSP = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
OPS_CSP_RELAXED = OPS_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
OPS_CSP_RELAXED_PATHS = ["/api/docs/"]
MIDDLEWARE = [
    "apps.ops.middleware.RequestMetricsMiddleware",
    *MIDDLEWARE,
    "apps.ops.middleware.SecurityHeadersMiddleware",
]
# --- end of operations ---

# --- operations ERP (wells, drilling, production, intervention) ---
from erp.env import env_float as _ops_env_float  # noqa: E402

DDR_DAY_START = env_str("DDR_DAY_START", "06:00")  # the IADC report day starts (and ends) at this site time
TOOLSTRING_OD_CLEARANCE_MM = _ops_env_float("TOOLSTRING_OD_CLEARANCE_MM", 2.0, minimum=0.0)
TOOLSTRING_WEIGHT_SAFETY_FACTOR = _ops_env_float("TOOLSTRING_WEIGHT_SAFETY_FACTOR", 1.2, minimum=1.0)
CT_REEL_FATIGUE_LIMIT_PCT = _ops_env_float("CT_REEL_FATIGUE_LIMIT_PCT", 40.0, minimum=0.0)
PRODUCTION_DEFAULT_UNITS = env_str("PRODUCTION_DEFAULT_UNITS", "field", choices=("field", "metric"))
PRODUCTION_STD_TEMPERATURE_C = _ops_env_float("PRODUCTION_STD_TEMPERATURE_C", 15.0)
PRODUCTION_STD_PRESSURE_KPA = _ops_env_float("PRODUCTION_STD_PRESSURE_KPA", 101.325, minimum=0.0)


# --- SCADA ingest (HTTP) and dead letters -------------------------------------------------------------------------
INGEST_TENANT_ID = env_str("INGEST_TENANT_ID", EDGE_ID)  # the tenant_id third-party pushes must carry
DEAD_LETTER_MAX_BYTES = env_int("DEAD_LETTER_MAX_BYTES", 4096, minimum=256)
# POST /api/v1/ingest/realtime: a body above INGEST_MAX_BODY_BYTES answers 413 payload_too_large (this endpoint reads
# its body itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE of 2.5 MB does not apply to it); more than
# INGEST_RATE_PER_MINUTE requests in a sliding minute from one client (user, else address) answer 429
# rate_limit_exceeded. The counts live in the default cache: Redis when REDIS_URL is set (shared by every web
# process), else per process.
INGEST_MAX_BODY_BYTES = env_int("INGEST_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024)
INGEST_RATE_PER_MINUTE = env_int("INGEST_RATE_PER_MINUTE", 100, minimum=1)
