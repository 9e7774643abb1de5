"""docker-compose.yml, read as compose reads it (no docker engine runs on the CI machine)."""

from __future__ import annotations

import re

import yaml

from config.queues import queue_names
from tests.support.processes import PROJECT_DIR


def _compose() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_stack_has_every_service_the_readme_names():
    services = _compose()["services"]
    assert set(services) == {"postgres", "pgbouncer", "redis", "migrate", "web", "worker", "worker-payday", "beat",
                             "nginx-config", "nginx"}
    assert services["web"]["command"][0] == "gunicorn"
    # 银企直连: nginx reaches gunicorn on the unix socket they share, the one place the certificate header counts.
    assert "unix:/run/payroll/gunicorn.sock" in services["web"]["command"]
    assert "app-socket:/run/payroll" in services["nginx"]["volumes"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("web", "worker", "worker-payday", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_stage_workers_consume_every_queue_between_them():
    services = _compose()["services"]
    consumed = []
    for name in ("worker", "worker-payday"):
        command = services[name]["command"]
        assert command[:4] == ["celery", "-A", "config", "worker"]
        consumed += command[command.index("-Q") + 1].split(",")
    # CELERY_QUEUE is unset in compose: the default queue is "payroll" (config/settings/base.py).
    assert sorted(consumed) == sorted(queue_names(default="payroll"))


def test_the_app_reaches_postgresql_through_pgbouncer_in_transaction_mode():
    services = _compose()["services"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    env = services["web"]["environment"]
    assert "@pgbouncer:6432/" in env["DATABASE_URL"]
    assert env["DATABASE_POOLER"] == "pgbouncer"
    assert "@postgres:5432/" in env["DATABASE_DIRECT_URL"]  # the pay-day lock's direct connection
    # Migrations go straight to PostgreSQL.
    migrate = services["migrate"]["environment"]
    assert "@postgres:5432/" in migrate["DATABASE_URL"]
    assert migrate["DATABASE_POOLER"] == ""


def test_secrets_have_no_default_and_production_settings_are_used():
    env = _compose()["services"]["web"]["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "BANK_KEY_PASSPHRASE", "CARD_HASH_KEY"):
        # ${VAR:?message}: compose refuses to start when the variable is unset.
        assert re.fullmatch(r"\$\{" + name + r":\?[^}]+\}", env[name]), env[name]
    assert ":?" in env["DATABASE_URL"]


def test_the_gateway_runs_debians_nginx_as_the_tests_do():
    nginx = _compose()["services"]["nginx"]
    assert nginx["build"] == "./deploy/nginx"
    dockerfile = (PROJECT_DIR / "deploy" / "nginx" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM debian:", dockerfile, re.MULTILINE)
    assert re.search(r"apt-get install .*\bnginx\b", dockerfile)
