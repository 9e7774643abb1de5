"""What the online mode's failures are, without importing its TLS and HTTP code: ``cli`` catches
``OnlineFailure`` on every command, and offline commands must not pay for ``ssl`` and ``http.client``."""

from __future__ import annotations

SERVER_ENV = "PAYROLL_CLIENT_SERVER"


class OnlineFailure(Exception):
    """The network, the TLS handshake or the bank's gateway failed: not the user's file (exit 1)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
