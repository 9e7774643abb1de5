"""The bank's keys, the certificates it issues, companies and their agreements."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from stdnum.cn import uscc as uscc_number

from apps.agreements.models import Agreement, Certificate, Company
from apps.core.errors import ServiceError
from apps.core.services import audit_record
from apps.ledger.models import AccountKind, LedgerAccount
from payroll_exchange import pki
from payroll_exchange.agreement_package import agreement_dump
from payroll_exchange.envelope import signed_seal
from payroll_exchange.errors import ExchangeError
from payroll_exchange.records import AgreementPackage

ROOT_NAME = "Payroll Bank Root CA"
BANK_NAME = "Payroll Bank"

_cache_lock = threading.Lock()
_identity_cache: dict[tuple[str, float], pki.Identity] = {}


def _keys_dir() -> Path:
    return Path(settings.PRIVATE_FILES_DIR) / "bank-keys"


def _passphrase() -> bytes:
    configured = getattr(settings, "BANK_KEY_PASSPHRASE", "")
    if configured:
        return configured.encode()
    # The embedded default and tests derive it from SECRET_KEY; production requires its own.
    return hmac.new(settings.SECRET_KEY.encode(), b"bank-key-passphrase", hashlib.sha256).hexdigest().encode()


def _key_write(path: Path, key) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase()),
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    tmp.replace(path)


def _identity_load(name: str) -> pki.Identity:
    key_path = _keys_dir() / f"{name}.key.pem"
    cert_path = _keys_dir() / f"{name}.cert.pem"
    if not key_path.exists():
        raise ExchangeError(
            "bank_keys_missing",
            "银行密钥尚未生成，请运行 manage.py bank_keys_create。",
            "The bank's keys do not exist yet: run manage.py bank_keys_create.",
        )
    # Decrypting a PKCS#8 key costs a key derivation; every file opened would pay it again.
    cache_key = (str(key_path), key_path.stat().st_mtime)
    with _cache_lock:
        cached = _identity_cache.get(cache_key)
        if cached is not None:
            return cached
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=_passphrase())
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    chain = [] if name == "root" else [x509.load_pem_x509_certificate((_keys_dir() / "root.cert.pem").read_bytes())]
    identity = pki.Identity(key=key, cert=cert, chain=chain)
    with _cache_lock:
        _identity_cache[cache_key] = identity
    return identity


def _certificate_record(*, identity: pki.Identity, role: str, company: Company | None) -> Certificate:
    cert = identity.cert
    return Certificate.objects.create(
        role=role,
        company=company,
        serial=format(cert.serial_number, "x"),
        fingerprint=pki.cert_fingerprint(cert),
        subject=cert.subject.rfc4514_string()[:300],
        pem=pki.cert_pem(cert).decode("ascii"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def bank_keys_files_create(*, now: datetime) -> bool:
    """Create the bank root and the bank's identity on disk once (keys encrypted). True if created."""
    directory = _keys_dir()
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    created = False
    if not (directory / "root.key.pem").exists():
        root = pki.root_create(common_name=ROOT_NAME, now=now)
        bank = pki.cert_issue(issuer=root, common_name=BANK_NAME, organization=BANK_NAME, role="bank", now=now,
                              days=3650)
        for name, identity in (("root", root), ("bank", bank)):
            (directory / f"{name}.cert.pem").write_bytes(pki.cert_pem(identity.cert))
            _key_write(directory / f"{name}.key.pem", identity.key)
        created = True
    return created


def bank_keys_create(*, now: datetime) -> bool:
    """The bank's keys on disk and the bank certificate in the certificate table. True if created."""
    created = bank_keys_files_create(now=now)
    bank = bank_identity()
    if not Certificate.objects.filter(fingerprint=pki.cert_fingerprint(bank.cert)).exists():
        _certificate_record(identity=bank, role=Certificate.Role.BANK, company=None)
    return created


def bank_identity() -> pki.Identity:
    return _identity_load("bank")


def bank_root() -> pki.Identity:
    return _identity_load("root")


def bank_root_cert() -> x509.Certificate:
    return bank_root().cert


def trust_store(*, now: datetime) -> pki.TrustStore:
    """The explicitly trusted root and a fresh CRL made from the revoked certificate records."""
    root = bank_root()
    revoked = [
        (int(serial, 16), revoked_at)
        for serial, revoked_at in Certificate.objects.filter(revoked_at__isnull=False).values_list(
            "serial", "revoked_at"
        )
    ]
    crl = pki.crl_make(issuer=root, revoked=revoked, now=now)
    return pki.TrustStore(roots=[root.cert], crls=[crl], require_crl=True)


def company_create(*, name: str, uscc: str) -> Company:
    try:
        code = uscc_number.validate(uscc)
    except Exception as exc:  # stdnum raises several ValidationError subclasses
        raise ExchangeError(
            "uscc_invalid",
            f"统一社会信用代码 {uscc} 无效，请核对营业执照。",
            f"Unified social credit code {uscc} is not valid; check the business licence.",
        ) from exc
    return Company.objects.create(name=name, uscc=code)


def enterprise_key_issue(
    *, company: Company, pin: str, now: datetime, common_name: str = "", actor: str = "bank"
) -> tuple[Certificate, bytes]:
    """Issue an enterprise certificate and its USB key (PKCS#12 protected by ``pin``)."""
    identity = pki.cert_issue(
        issuer=bank_root(), common_name=common_name or company.name, organization=company.name,
        role="enterprise", now=now,
    )
    with transaction.atomic():
        certificate = _certificate_record(identity=identity, role=Certificate.Role.ENTERPRISE, company=company)
        # The PIN protects the USB key file; it is never recorded.
        audit_record(actor_kind="staff", actor=actor, action="certificate_issue", obj=certificate,
                     company_id=company.pk, detail={"serial": certificate.serial})
    return certificate, pki.pkcs12_dump(identity=identity, pin=pin)


def certificate_revoke(*, certificate: Certificate, reason: str, now: datetime, actor: str = "system") -> None:
    updated = Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=now, revocation_reason=reason[:200]
    )
    if updated:
        audit_record(actor_kind="staff", actor=actor, action="certificate_revoke", obj=certificate,
                     company_id=certificate.company_id, detail={"reason": reason})


class AgreementRefused(ServiceError):
    """An agreement change the bank cannot make; ``field`` names the form field to correct."""

    def __init__(self, code: str, zh: str, en: str, *, field: str = "") -> None:
        super().__init__(code, zh, en)
        self.field = field


def certificate_reissue(*, certificate: Certificate, pin: str, now: datetime, actor: str) -> tuple[Certificate, bytes]:
    """重新签发: a new USB key for the same company, carrying clientAuth (the host-to-host API); the
    agreements bound to the old certificate move to the new one. The old one is not revoked: files it
    signed are still accepted (apps/intake/opening.py) until staff revoke it."""
    with transaction.atomic():
        old = Certificate.objects.select_for_update(of=("self",)).select_related("company").get(pk=certificate.pk)
        if (old.role != Certificate.Role.ENTERPRISE or old.company is None or old.revoked_at is not None
                or old.replaced_by_id is not None):
            raise AgreementRefused("certificate_not_reissuable",
                                   f"证书 {old.serial} 不能重新签发：只有未吊销、未被接替的企业证书可以重新签发。",
                                   f"Certificate {old.serial} cannot be reissued: only an enterprise certificate "
                                   "that is neither revoked nor already replaced can be.")
        names = pki.cert_load_pem(old.pem.encode()).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        new, p12 = enterprise_key_issue(company=old.company, pin=pin, now=now, actor=actor,
                                        common_name=str(names[0].value) if names else "")
        Certificate.objects.filter(pk=old.pk).update(replaced_by=new)
        moved = Agreement.objects.filter(certificate=old).update(certificate=new)
        audit_record(actor_kind="staff", actor=actor, action="certificate_reissue", obj=new,
                     company_id=old.company_id,
                     detail={"old_serial": old.serial, "new_serial": new.serial, "agreements": moved})
    return new, p12


def agreement_certificate_check(*, company: Company, certificate: Certificate, now: datetime | None) -> None:
    """The certificate an agreement may be bound to: an enterprise certificate of the same company,
    not revoked and (when ``now`` is given) within its validity."""
    if certificate.role != Certificate.Role.ENTERPRISE or certificate.company_id != company.pk:
        raise AgreementRefused("certificate_foreign", "绑定证书必须是该企业的企业证书。",
                               "The bound certificate must be an enterprise certificate of this company.",
                               field="certificate")
    if certificate.revoked_at is not None:
        raise AgreementRefused("certificate_revoked",
                               f"证书 {certificate.serial} 已吊销，不能绑定协议；请选择有效证书或先签发新证书。",
                               f"Certificate {certificate.serial} is revoked and cannot be bound; choose a valid "
                               "certificate or issue a new one first.", field="certificate")
    if now is not None and not certificate.not_before <= now < certificate.not_after:
        raise AgreementRefused("certificate_not_valid",
                               f"证书 {certificate.serial} 不在有效期内，不能绑定协议；请签发新证书。",
                               f"Certificate {certificate.serial} is outside its validity; issue a new one.",
                               field="certificate")


def agreement_settlement_check(*, company: Company, settlement_account: str) -> None:
    """The settlement account pay day debits must already be open in the ledger, as a settlement
    account of this very company: an agreement must never point pay day at someone else's money."""
    account = LedgerAccount.objects.filter(number=settlement_account).first()
    if account is None:
        raise AgreementRefused("settlement_unknown",
                               f"结算账号 {settlement_account} 在账务系统中不存在；"
                               "请先在“账户”中为该企业开立结算账户。",
                               f"Settlement account {settlement_account} does not exist in the ledger; open it "
                               "for this company under Accounts first.", field="settlement_account")
    if account.kind != AccountKind.SETTLEMENT or account.company_id != company.pk:
        raise AgreementRefused("settlement_foreign",
                               f"账号 {settlement_account} 不是{company.name}的企业结算账户；请核对账号。",
                               f"Account {settlement_account} is not a settlement account of {company.name}; "
                               "check the number.", field="settlement_account")


def agreement_create(
    *,
    company: Company,
    number: str,
    payer_unit_no: str,
    start_date: date,
    end_date: date,
    fee_per_payment: Decimal,
    single_limit: Decimal,
    settlement_account: str,
    certificate: Certificate,
    now: datetime | None = None,
) -> Agreement:
    """A new agreement. Refuses (AgreementRefused, nothing written) a certificate that is not this
    company's valid enterprise certificate and a settlement account the ledger does not hold as this
    company's settlement account."""
    agreement_certificate_check(company=company, certificate=certificate, now=now)
    agreement_settlement_check(company=company, settlement_account=settlement_account)
    return Agreement.objects.create(
        company=company, number=number, payer_unit_no=payer_unit_no, start_date=start_date, end_date=end_date,
        fee_per_payment=fee_per_payment, single_limit=single_limit, settlement_account=settlement_account,
        certificate=certificate,
    )


def agreement_certificate_rebind(*, agreement: Agreement, certificate: Certificate, now: datetime,
                                 actor: str) -> Agreement:
    """换绑证书: once the bound certificate is revoked (USB key lost, staff left), bind a new valid
    certificate of the same company. The old certificate stays revoked; files it signed stay refused.
    The agreement row is locked, so two staff rebinding at once cannot both pass the check."""
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().select_related("company").get(pk=agreement.pk)
        old = Certificate.objects.get(pk=locked.certificate_id)
        if old.revoked_at is None:
            raise AgreementRefused("certificate_still_valid",
                                   f"协议 {locked.number} 绑定的证书 {old.serial} 仍有效；"
                                   "请先吊销旧证书，再绑定新证书。",
                                   f"Certificate {old.serial} of agreement {locked.number} is still valid; revoke it "
                                   "before binding a new one.", field="certificate")
        agreement_certificate_check(company=locked.company, certificate=certificate, now=now)
        Agreement.objects.filter(pk=locked.pk, certificate_id=old.pk).update(certificate=certificate)
        audit_record(actor_kind="staff", actor=actor, action="agreement_certificate_rebind", obj=locked,
                     company_id=locked.company_id,
                     detail={"old_serial": old.serial, "new_serial": certificate.serial,
                             "new_fingerprint": certificate.fingerprint})
    locked.certificate = certificate
    return locked


def agreement_h2h_set(*, agreement: Agreement, enabled: bool, actor: str) -> bool:
    """开通/关闭银企直连 for one agreement (audited); False when it already was so (nothing written)."""
    with transaction.atomic():
        updated = Agreement.objects.filter(pk=agreement.pk).exclude(h2h_enabled=enabled).update(h2h_enabled=enabled)
        if updated:
            audit_record(actor_kind="staff", actor=actor, action="agreement_h2h_enable" if enabled
                         else "agreement_h2h_disable", obj=agreement, company_id=agreement.company_id)
    return bool(updated)


def agreement_package_export(*, agreement: Agreement) -> bytes:
    """The bank-signed agreement package (协议数据包) the client imports."""
    bank = bank_identity()
    package = AgreementPackage(
        company_name=agreement.company.name,
        agreement_no=agreement.number,
        payer_unit_no=agreement.payer_unit_no,
        start_date=agreement.start_date,
        end_date=agreement.end_date,
        fee_per_payment=agreement.fee_per_payment,
        single_limit=agreement.single_limit,
        settlement_account=agreement.settlement_account,
        enterprise_cert_fingerprint=agreement.certificate.fingerprint,
        bank_cert_pem=pki.cert_pem(bank.cert),
    )
    return signed_seal(payload=agreement_dump(package), kind="agreement", signer=bank)


def agreement_in_term(*, agreement: Agreement, day: date) -> bool:
    return agreement.start_date <= day <= agreement.end_date


__all__ = [
    "AgreementRefused",
    "agreement_certificate_check",
    "agreement_certificate_rebind",
    "agreement_create",
    "agreement_in_term",
    "agreement_package_export",
    "agreement_settlement_check",
    "bank_identity",
    "bank_keys_create",
    "bank_root_cert",
    "certificate_revoke",
    "company_create",
    "enterprise_key_issue",
    "trust_store",
]
