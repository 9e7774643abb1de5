"""An upload above UPLOAD_MAX_BYTES is refused before it is read whole, and nothing is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from apps.payroll.models import PayrollBatch
from tests.factories import CARD_PIN

pytestmark = pytest.mark.django_db


def _logged_in(party) -> Client:
    client = Client()
    response = client.post("/", {"card": f";{party.card_number}=28121010000000000000?", "pin": CARD_PIN})
    assert response.status_code == 302
    return client


def _files(settings) -> set[str]:
    uploads = Path(settings.PRIVATE_FILES_DIR) / "uploads"
    return {p.name for p in uploads.glob("*")} if uploads.exists() else set()


def test_declared_length_over_the_limit_is_refused_without_reading(business_clock, our_agent, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    client = _logged_in(our_agent)
    before = _files(settings)
    response = client.post("/payroll/upload/", {"agreement": our_agent.agreement.pk,
                                                "upload": ("big.p7m", b"x" * (200 * 1024))})
    assert response.status_code == 413
    assert "文件超过" in response.content.decode()
    assert PayrollBatch.objects.count() == 0
    assert _files(settings) == before


def test_body_larger_than_the_limit_is_cut_off_while_streaming(business_clock, our_agent, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.UPLOAD_MAX_BYTES = 100 * 1024
    client = _logged_in(our_agent)
    before = _files(settings)
    # Under the declared-length guard (limit + slack) but over the limit itself.
    big = SimpleUploadedFile("big.p7m", b"x" * (120 * 1024))
    response = client.post("/payroll/upload/", {"agreement": our_agent.agreement.pk, "upload": big})
    assert response.status_code == 413
    assert PayrollBatch.objects.count() == 0
    assert _files(settings) == before
