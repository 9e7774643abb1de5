from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.agreements.services import bank_keys_create, bank_root_cert
from apps.core import clock
from payroll_exchange import pki


class Command(BaseCommand):
    help = "Create the bank root CA and the bank's signing/encryption certificate (once; idempotent)."

    def handle(self, *args, **options):
        created = bank_keys_create(now=clock.now())
        root = bank_root_cert()
        fingerprint = pki.fingerprint_display(pki.cert_fingerprint(root))
        self.stdout.write(("created" if created else "already present") + f": bank root SHA-256 {fingerprint}")
        self.stdout.write("Print this fingerprint for enterprises to compare when they import the root (证书导入).")
