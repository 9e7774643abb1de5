"""Production: every secret and address from the environment, no defaults, no clock override."""

import os

from django.core.exceptions import ImproperlyConfigured

for _name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "BANK_KEY_PASSPHRASE",
              "CARD_HASH_KEY"):
    if not os.environ.get(_name, "").strip():
        raise ImproperlyConfigured(f"{_name} must be set in production")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import env, env_typed  # noqa: E402

if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters of random text")
if any(not host or host == "*" for host in ALLOWED_HOSTS):  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the real host names, not '*' or an empty name")
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # noqa: F405
    raise ImproperlyConfigured("CELERY_BROKER_URL must be a Redis URL in production")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":  # noqa: F405
    raise ImproperlyConfigured("DATABASE_URL must be a PostgreSQL URL in production")

if not CACHE_URL:  # noqa: F405
    # The login limit must count across every web worker and host: the broker's Redis by default.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL,  # noqa: F405
                          "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="payroll")}}
DEBUG = False
BUSINESS_CLOCK_ALLOWED = False
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SECURE_SSL_REDIRECT = env_typed("SECURE_SSL_REDIRECT", bool, default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_typed("SECURE_HSTS_SECONDS", int, default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"https://{h}" for h in ALLOWED_HOSTS])  # noqa: F405
