"""The test suite: real PostgreSQL and Redis on 127.0.0.1 unless the environment says otherwise."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/payroll")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
# The shared cache (the kiosk login limit) in Redis, as in production; one key prefix per test
# run, inherited by the web servers the tests start, so parallel runs never count each other's.
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("CACHE_KEY_PREFIX", f"payroll-test-{os.getpid()}")
# One queue per test run, so a stray worker from another run never takes our tasks.
os.environ.setdefault("CELERY_QUEUE", f"payroll-test-{os.getpid()}")
# Uploads, reports and bank keys of one test run live in a directory of their own; worker
# processes started by the tests inherit it through the environment.
os.environ.setdefault("PRIVATE_FILES_DIR", tempfile.mkdtemp(prefix="payroll-private-"))

from config.settings.base import *  # noqa: E402, F403

# Hashing a PIN or password at full strength costs ~100 ms; the suite does it hundreds of times.
# The login-security tests start their web servers with PRODUCTION_PIN_HASHER=1: Django's own
# hashers (PBKDF2 first), so a race or a timing is measured against the real work factor.
if os.environ.get("PRODUCTION_PIN_HASHER") != "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
BUSINESS_CLOCK_ALLOWED = True

# One test database per test process: parallel runs on one machine never drop each other's.
DATABASES["default"]["TEST"] = {"NAME": f"test_payroll_{os.getpid()}"}  # noqa: F405
