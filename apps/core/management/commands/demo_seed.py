"""Seed the demo bank. Idempotent: running it again changes nothing that exists."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo bank: staff login, and (as the platform grows) keys, company, card, files."

    def handle(self, *args, **options):
        demo_dir = settings.VAR_DIR / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True)
        credentials = demo_dir / "staff-login.txt"
        user_model = get_user_model()
        if not user_model.objects.filter(username="demo-admin").exists():
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser("demo-admin", password=password)
            credentials.write_text(f"demo-admin\n{password}\n", encoding="utf-8")
            credentials.chmod(0o600)
        self.stdout.write(f"Staff login 员工登录: see {credentials}")
