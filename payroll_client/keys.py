"""证书导入: the bank root the client trusts and the enterprise's USB key.

Nothing is trusted that was not imported here: every signature the client checks is checked
against the one root stored by ``root_trust``, never against a chain a file brings along.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from payroll_client.store import log_write, setting_get, setting_put, store_transaction
from payroll_exchange import pki
from payroll_exchange.errors import ExchangeError

ROOT_KEY = "bank_root_pem"
USBKEY_KEY = "usbkey_p12"
USBKEY_FP_KEY = "usbkey_fingerprint"


def root_read(*, data: bytes) -> x509.Certificate:
    """Parse a root certificate file (PEM or DER) and make sure it is a self-signed CA."""
    try:
        cert = pki.cert_load(data)
    except ExchangeError as exc:
        raise ExchangeError("root_unreadable", "无法读取银行根证书文件 (需 PEM 或 DER 格式)",
                            "cannot read the bank root certificate (PEM or DER expected)") from exc
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        cert.verify_directly_issued_by(cert)
        is_root = constraints.ca
    except (x509.ExtensionNotFound, ValueError, TypeError, InvalidSignature):
        is_root = False
    if not is_root:
        raise ExchangeError("root_not_ca", "该证书不是自签名的根证书, 请向银行索取根证书",
                            "this is not a self-signed root certificate; ask the bank for its root")
    return cert


def root_fingerprint(*, cert: x509.Certificate) -> str:
    """AB:CD:… as the bank prints it, for the user to compare by eye."""
    return pki.fingerprint_display(pki.cert_fingerprint(cert))


def root_trust(*, conn: sqlite3.Connection, cert: x509.Certificate, by: str) -> None:
    with store_transaction(conn=conn):
        setting_put(conn=conn, key=ROOT_KEY, value=pki.cert_pem(cert))
        log_write(conn=conn, user_name=by, action="root_trust", outcome="ok",
                  detail=f"sha256 {pki.cert_fingerprint(cert)}")


def root_get(*, conn: sqlite3.Connection) -> x509.Certificate:
    pem = setting_get(conn=conn, key=ROOT_KEY)
    if pem is None:
        raise ExchangeError("root_missing", "尚未导入银行根证书, 请管理员先执行 证书导入 (payroll-client install)",
                            "no bank root is trusted yet; the administrator runs payroll-client install first")
    return pki.cert_load_pem(pem)


def trust_store(*, conn: sqlite3.Connection) -> pki.TrustStore:
    return pki.TrustStore(roots=[root_get(conn=conn)], crls=[])


def usbkey_register(*, conn: sqlite3.Connection, data: bytes, pin: str, now: datetime, by: str) -> pki.Identity:
    """Register the PKCS#12 USB key: it must open with the PIN, be an enterprise certificate and
    chain to the trusted root. The file is stored as it is, still under its PIN."""
    trust = trust_store(conn=conn)
    identity = pki.pkcs12_load(data=data, pin=pin)
    pki.chain_verify(cert=identity.cert, intermediates=identity.chain, trust=trust, now=now)
    if pki.cert_role(identity.cert) not in (None, "enterprise"):
        raise ExchangeError("usbkey_role", "该 USBKEY 不是企业证书", "this USB key is not an enterprise certificate")
    with store_transaction(conn=conn):
        setting_put(conn=conn, key=USBKEY_KEY, value=data)
        setting_put(conn=conn, key=USBKEY_FP_KEY, value=identity.fingerprint.encode("ascii"))
        log_write(conn=conn, user_name=by, action="usbkey_register", outcome="ok",
                  detail=f"sha256 {identity.fingerprint}")
    return identity


def usbkey_fingerprint(*, conn: sqlite3.Connection) -> str | None:
    value = setting_get(conn=conn, key=USBKEY_FP_KEY)
    return None if value is None else value.decode("ascii")


def usbkey_open(*, conn: sqlite3.Connection, pin: str, user: str, action: str) -> pki.Identity:
    """Open the registered USB key with the PIN; a wrong PIN is logged (never the PIN)."""
    data = setting_get(conn=conn, key=USBKEY_KEY)
    if data is None:
        raise ExchangeError("usbkey_missing",
                            "尚未登记 USBKEY, 请管理员执行 证书导入 (payroll-client install --usbkey)",
                            "no USB key is registered; the administrator runs payroll-client install --usbkey")
    try:
        return pki.pkcs12_load(data=data, pin=pin)
    except ExchangeError as exc:
        log_write(conn=conn, user_name=user, action=action, outcome="refused", detail=exc.code)
        raise
