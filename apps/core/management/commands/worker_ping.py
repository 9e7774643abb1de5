from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from apps.core.services import worker_probe_request


class Command(BaseCommand):
    help = "Send a probe task through the broker and wait for a worker to answer it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, **options):
        started = time.monotonic()
        probe = worker_probe_request()
        while time.monotonic() - started < options["timeout"]:
            probe.refresh_from_db()
            if probe.answered_at is not None:
                elapsed = time.monotonic() - started
                self.stdout.write(f"answered by {probe.answered_by} in {elapsed:.2f} s")
                return
            time.sleep(0.2)
        raise CommandError(f"no worker answered probe {probe.pk} within {options['timeout']} s")
