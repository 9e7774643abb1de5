"""Return format version 2 on the platform (issue 13): written with the answered file's digest; a return
file stored before it (version 1) still reconciles, rebuilt in its own version; a v2 file cannot
reconcile as v1 (the digest is part of the content)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.returns.models import ReturnFile
from apps.returns.services import return_content_build
from payroll_exchange.formats import file_digest
from tests.ledger.test_reconcile import books  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def reconcile() -> str:
    out = StringIO()
    call_command("reconcile", stdout=out)
    return out.getvalue()


def test_a_version_1_return_file_reconciles_in_its_own_version(books) -> None:  # noqa: F811
    first, _second = books
    first.refresh_from_db()
    record = ReturnFile.objects.get(batch=first)
    assert record.format_version == "2"
    v1 = return_content_build(batch=first, version="1")
    assert b"|" + first.digest.encode() not in v1.data.split(b"\n")[0]
    assert file_digest(v1.data) != record.plain_digest
    # as a file the platform wrote before version 2 was stored
    ReturnFile.objects.filter(pk=record.pk).update(format_version="1", plain_digest=file_digest(v1.data))
    assert reconcile() == "reconciled: no difference\n"
