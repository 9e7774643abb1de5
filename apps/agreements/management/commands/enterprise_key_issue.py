from __future__ import annotations

import getpass
import os
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.agreements.models import Company
from apps.agreements.services import enterprise_key_issue
from apps.core import clock

PIN_ENV = "ENTERPRISE_KEY_PIN"


class Command(BaseCommand):
    help = (
        "Issue an enterprise certificate and write its USB key (PKCS#12) file. The PIN is asked twice "
        f"(never an argument, so it stays out of the process list and shell history) or read from {PIN_ENV}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="unified social credit code of the company")
        parser.add_argument("--out", required=True, help="where to write the .p12 file (must not exist)")
        parser.add_argument("--name", default="", help="certificate common name (default: the company name)")

    def handle(self, *args, company, out, name, **options):
        try:
            owner = Company.objects.get(uscc=company)
        except Company.DoesNotExist as exc:
            raise CommandError(f"no company with unified social credit code {company}") from exc
        path = Path(out)
        if path.exists():
            raise CommandError(f"{path} exists; choose a new file name")
        pin = os.environ.get(PIN_ENV) or self._pin_prompt()
        if not re.fullmatch(r"\d{6,12}", pin):
            raise CommandError("the USB key PIN must be 6 to 12 digits")
        certificate, p12 = enterprise_key_issue(company=owner, pin=pin, now=clock.now(), common_name=name,
                                                actor="manage.py")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(p12)
        self.stdout.write(f"certificate {certificate.serial} ({certificate.fingerprint}) written to {path}")

    def _pin_prompt(self) -> str:
        first = getpass.getpass("USB key PIN: ")
        if first != getpass.getpass("USB key PIN again: "):
            raise CommandError("the two PINs differ")
        return first
