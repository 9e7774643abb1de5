"""Fixtures for the bank side: the session PKI, private files in a temporary directory."""

from __future__ import annotations

import pytest

import tests.conftest as _root

if "tests.fixtures.pki" not in getattr(_root, "pytest_plugins", ()):
    from tests.fixtures.pki import *  # noqa: F403


@pytest.fixture
def private_files(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    return settings.PRIVATE_FILES_DIR


@pytest.fixture
def bank_signer(monkeypatch, bank_identity):
    """The production path asks apps.agreements.services.bank_identity(), which reads the bank's
    key files; the tests hand it the session identity instead of generating keys on disk."""
    from apps.agreements import services as agreement_services

    monkeypatch.setattr(agreement_services, "bank_identity", lambda: bank_identity)
    return bank_identity
