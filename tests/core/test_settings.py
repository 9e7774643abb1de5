"""Production settings: no defaults for secrets, malformed values refused, check --deploy clean."""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from tests.support.processes import PROJECT_DIR, PYTHON


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    # Only what a production host would have: nothing inherited from the test run.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="kiosk.bank.example",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/15",
        BANK_KEY_PASSPHRASE=secrets.token_urlsafe(32),
        CARD_HASH_KEY=secrets.token_urlsafe(32),
        PAYROLL_VAR_DIR=str(tmp_path),
    )
    return env


def test_check_deploy_reports_nothing_and_silences_nothing(production_env):
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", env=production_env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "BANK_KEY_PASSPHRASE", "CARD_HASH_KEY"],
)
def test_production_has_no_default_for_secrets_and_addresses(production_env, missing):
    del production_env[missing]
    result = _manage("check", env=production_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set in production" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "nonsense", "DATABASE_URL"),
        ("DATABASE_URL", "sqlite:////tmp/x.sqlite3", "PostgreSQL"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//", "CELERY_BROKER_URL"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("ALLOWED_HOSTS", "*", "ALLOWED_HOSTS"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS"),
        ("DEBUG", "maybe-not", "DEBUG"),
        ("PAYDAY_INTERVAL_MINUTES", "7", "PAYDAY_INTERVAL_MINUTES"),
        ("KIOSK_IDLE_SECONDS", "two minutes", "KIOSK_IDLE_SECONDS"),
    ],
)
def test_malformed_values_raise_improperly_configured(production_env, name, value, message):
    production_env[name] = value
    result = _manage("check", env=production_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_refuses_a_pinned_business_clock(production_env):
    production_env["BUSINESS_CLOCK"] = "2026-12-01T10:00:00+08:00"
    result = _manage("check", "--deploy", env=production_env)
    assert result.returncode != 0
    assert "core.E001" in result.stderr


def test_embedded_default_needs_no_environment(tmp_path):
    env = {"PATH": os.environ["PATH"], "PAYROLL_VAR_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = _manage("diffsettings", "--output", "unified", env=env)
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.sqlite3" in result.stdout
    assert "filesystem://" in result.stdout
