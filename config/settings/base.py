"""Settings shared by every environment, and the embedded default.

With no environment at all this runs the demo on one machine: SQLite in WAL mode and a
Celery broker on the filesystem, both under ``var/``. ``DATABASE_URL`` and
``CELERY_BROKER_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from config.env import env, env_db, env_typed, env_url
from config.queues import queue_names
from config.schedule import beat_schedule

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env.str("PAYROLL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _embedded_secret_key() -> str:
    # The embedded default keeps a random key beside its database instead of a key in the
    # source: nothing secret is ever committed, and sessions survive a demo restart.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
DEBUG = env_typed("DEBUG", bool, default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "apps.core",
    "apps.workdays",
    "apps.agreements",
    "apps.cards",
    "apps.intake",
    "apps.employees",
    "apps.payroll",
    "apps.ledger",
    "apps.returns",
    "apps.account_opening",
    "apps.kiosk",
    "apps.h2h",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files keep their cache headers), before everything that may answer
    # by itself (413, CSRF failure): every kiosk response carries the security headers.
    "apps.core.middleware.KioskHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "apps.core.middleware.UploadLimitMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# --- database -------------------------------------------------------------------------------
DATABASES = {"default": env_db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'payroll.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock up front (no deadlock on lock upgrade), and the
    # timeout waits for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_typed("DATABASE_CONN_MAX_AGE", int, default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# DATABASE_POOLER=pgbouncer: DATABASE_URL names PgBouncer in transaction mode (docs/scaling.md). A
# server session is this client's for one transaction only, so nothing may outlive a transaction:
# no server-side cursors (.iterator() outside atomic keeps a named cursor open across statements;
# Django already sends no prepared statements), and the pay-day run's session advisory lock, held
# across the run's many transactions, goes over DATABASE_DIRECT_URL, a connection straight to
# PostgreSQL that stays this worker's (apps/ledger/payday_recovery.py uses SESSION_LOCK_DATABASE).
DATABASE_POOLER = env.str("DATABASE_POOLER", default="").strip().lower()
SESSION_LOCK_DATABASE = "default"
if DATABASE_POOLER:
    if DATABASE_POOLER != "pgbouncer":
        raise ImproperlyConfigured(f"DATABASE_POOLER must be empty or pgbouncer, not {DATABASE_POOLER!r}")
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_POOLER=pgbouncer needs a PostgreSQL DATABASE_URL")
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["direct"] = env_db("DATABASE_DIRECT_URL")
    if DATABASES["direct"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_DIRECT_URL must be a PostgreSQL URL (the server behind PgBouncer)")
    DATABASES["direct"]["CONN_HEALTH_CHECKS"] = True
    SESSION_LOCK_DATABASE = "direct"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- cache --------------------------------------------------------------------------------
# Shared by every web worker: the kiosk login limit counts in it. CACHE_URL names a Redis
# (production, tests); the embedded default keeps it in files under var/ (shared across the
# demo's gunicorn workers on one machine). Never a per-process cache: check --deploy refuses one.
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    env_url("CACHE_URL", schemes=("redis", "rediss"))
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="payroll")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# --- language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# Kiosk service hours on bank working days (Asia/Shanghai), and the idle logout.
KIOSK_OPEN_TIME = env.str("KIOSK_OPEN_TIME", default="09:00")
KIOSK_CLOSE_TIME = env.str("KIOSK_CLOSE_TIME", default="16:30")
KIOSK_IDLE_SECONDS = env_typed("KIOSK_IDLE_SECONDS", int, default=120)
# Login limit per kiosk (client address): after KIOSK_LOGIN_FAILURES failed logins within
# KIOSK_LOGIN_WINDOW_SECONDS the kiosk waits KIOSK_LOGIN_WAIT_SECONDS. The address is REMOTE_ADDR,
# or the X-Forwarded-For entry a proxy listed in KIOSK_TRUSTED_PROXIES (addresses or networks) added.
KIOSK_LOGIN_FAILURES = env_typed("KIOSK_LOGIN_FAILURES", int, default=5)
KIOSK_LOGIN_WINDOW_SECONDS = env_typed("KIOSK_LOGIN_WINDOW_SECONDS", int, default=600)
KIOSK_LOGIN_WAIT_SECONDS = env_typed("KIOSK_LOGIN_WAIT_SECONDS", int, default=900)
KIOSK_TRUSTED_PROXIES = env.list("KIOSK_TRUSTED_PROXIES", default=[])
for _proxy in KIOSK_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"KIOSK_TRUSTED_PROXIES is malformed: {exc}") from exc
# Card numbers are looked up by an HMAC keyed with CARD_HASH_KEY (else a key derived from
# SECRET_KEY): a dedicated key means rotating SECRET_KEY does not orphan the issued cards.
CARD_HASH_KEY = env.str("CARD_HASH_KEY", default="")

# The business clock (payroll_exchange.clock): pinned only where this is True.
BUSINESS_CLOCK_ALLOWED = env_typed("BUSINESS_CLOCK_ALLOWED", bool, default=True)

# --- static files and uploads ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise looks for it at start-up even when it serves from finders
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve from the finders when nothing was collected, so the demo needs no collectstatic.
WHITENOISE_USE_FINDERS = True
# Uploaded files live outside the web root under generated names and are never served directly.
PRIVATE_FILES_DIR = Path(env.str("PRIVATE_FILES_DIR", default=str(VAR_DIR / "private")))
UPLOAD_MAX_BYTES = env_typed("UPLOAD_MAX_BYTES", int, default=50 * 1024 * 1024)
# A counter deposit or withdrawal above this many yuan waits for a second staff member's approval.
STAFF_POSTING_APPROVAL_THRESHOLD = env.str("STAFF_POSTING_APPROVAL_THRESHOLD", default="100000.00")
# 变动提示: a person's amount changed by more than this many percent since the last paid batch is listed.
PAYROLL_CHANGE_THRESHOLD_PERCENT = env.str("PAYROLL_CHANGE_THRESHOLD_PERCENT", default="30")
# The bank's private keys are stored encrypted under PRIVATE_FILES_DIR with this passphrase;
# the embedded default derives one from SECRET_KEY, production requires its own.
BANK_KEY_PASSPHRASE = env.str("BANK_KEY_PASSPHRASE", default="")
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = None

# --- security ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", schemes=("filesystem", "redis", "rediss"), default="filesystem://"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Broadcasts (worker control, beat) would otherwise land in ./control of the cwd.
        "control_folder": str(_broker_dir / "control"),
    }
else:
    # A task is redelivered if not acknowledged within the visibility timeout; it must exceed
    # the longest task's hard time limit or a slow task would run twice at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="payroll")
# One queue per stage (config/queues.py) beside the default one, routed by task name (and the
# intake task by its record's state): `celery worker -Q payroll.store` runs one stage on a machine
# of its own; a worker started without -Q consumes every queue listed here (docs/scaling.md).
CELERY_TASK_QUEUES = [Queue(_name, routing_key=_name) for _name in queue_names(default=CELERY_TASK_DEFAULT_QUEUE)]
CELERY_TASK_ROUTES = ("config.celery_routing.task_route",)
CELERY_TASK_IGNORE_RESULT = True  # the database is the record of truth, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 660
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish while the broker is down fails within this (the kiosk answers 已收到，系统稍后处理 and
# the sweeper publishes later) instead of hanging the request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The schedule lives in code; django-celery-beat copies it into its tables, where staff may edit it.
# The intake pipeline (docs/platform-contract.md, "Intake pipeline"). Production values; the tests
# run with the same ones.
INTAKE_SWEEP_SECONDS = env_typed("INTAKE_SWEEP_SECONDS", int, default=15)
INTAKE_STALE_SECONDS = env_typed("INTAKE_STALE_SECONDS", int, default=30)
INTAKE_MAX_ATTEMPTS = env_typed("INTAKE_MAX_ATTEMPTS", int, default=3)
INTAKE_ERRORS_KEPT = 1000  # per file, in file order; the total and the count per code are exact
REFUSED_FILE_DAYS = env_typed("REFUSED_FILE_DAYS", int, default=30)
# Pay day every PAYDAY_INTERVAL_MINUTES (a divisor of 60) and the return files early each morning.
PAYDAY_INTERVAL_MINUTES = env_typed("PAYDAY_INTERVAL_MINUTES", int, default=30)
try:
    CELERY_BEAT_SCHEDULE = beat_schedule(payday_interval_minutes=PAYDAY_INTERVAL_MINUTES,
                                         sweep_seconds=INTAKE_SWEEP_SECONDS)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {"TITLE": "Payroll self-service platform", "VERSION": "0.1.0",
                        # Swagger UI from the installed sidecar package, never a CDN.
                        "SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}

# 银企直连 (apps/h2h): the addresses whose X-SSL-Client-Cert header is believed — nginx reaches
# gunicorn on a unix socket, where REMOTE_ADDR is empty. Per-certificate rate (DRF throttle syntax).
H2H_TRUSTED_PROXY = env.list("H2H_TRUSTED_PROXY", default=[""])
H2H_RATE = env.str("H2H_RATE", default="600/min")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
