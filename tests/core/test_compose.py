"""docker-compose.yml, read as compose reads it (no docker engine runs on the CI machine)."""

from __future__ import annotations

import re

import yaml

from tests.support.processes import PROJECT_DIR


def _compose() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_stack_has_every_service_the_readme_names():
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat", "nginx-config", "nginx"}
    assert services["web"]["command"][0] == "gunicorn"
    # 银企直连: nginx reaches gunicorn on the unix socket they share, the one place the certificate header counts.
    assert "unix:/run/payroll/gunicorn.sock" in services["web"]["command"]
    assert "app-socket:/run/payroll" in services["nginx"]["volumes"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_secrets_have_no_default_and_production_settings_are_used():
    env = _compose()["services"]["web"]["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "BANK_KEY_PASSPHRASE", "CARD_HASH_KEY"):
        # ${VAR:?message}: compose refuses to start when the variable is unset.
        assert re.fullmatch(r"\$\{" + name + r":\?[^}]+\}", env[name]), env[name]
    assert ":?" in env["DATABASE_URL"]
