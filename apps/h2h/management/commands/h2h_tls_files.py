"""Write the host-to-host gateway's TLS files (server.pem, server.key, bank-root.pem) into a folder."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from apps.agreements.services import bank_root
from apps.h2h.tls import server_certificate_issue
from payroll_exchange import pki


class Command(BaseCommand):
    help = "Issue the h2h gateway's server certificate from the bank root and write the nginx TLS files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder")
        parser.add_argument("--name", action="append", required=True, help="DNS name or IP (repeatable)")

    def handle(self, *args, folder: str, name: list[str], **options) -> None:
        from django.utils import timezone

        root = bank_root()
        cert, key = server_certificate_issue(root=root, names=name, now=timezone.now())
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "server.pem").write_bytes(cert)
        key_path = out / "server.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(key)
        (out / "bank-root.pem").write_bytes(pki.cert_pem(root.cert))
        self.stdout.write(f"wrote {out}/server.pem, server.key, bank-root.pem")
