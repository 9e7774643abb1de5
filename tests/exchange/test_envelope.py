"""CMS envelopes: round trips, every refusal with its own code, the strict profile, and tampering
(no database; keys come from the session fixtures in tests/fixtures/pki.py)."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

import pytest
from asn1crypto import cms, core
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_exchange import envelope as envelope_module
from payroll_exchange.envelope import (
    Opened,
    envelope_open,
    envelope_seal,
    header_make,
    signed_open,
    signed_seal,
)
from payroll_exchange.errors import ExchangeError
from payroll_exchange.pki import Identity, TrustStore, cert_fingerprint
from tests.fixtures.pki import PKI_NOW, envelope_with_certificates, signed_data_add_certificates

PAYLOAD = (
    "H|1|DF2026000001|310100001|B20261201|2026-12-03|CNY|2|2501.50|工资\n"
    "D|1|6222020200112345678|张三|1200.00|0|110101199003070019|\n"
    "D|2|6222020200187654321|李四|1301.50|0|11010119900307003X|\n"
).encode()


def _refused(code: str, fn, /, **kwargs) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        fn(**kwargs)
    assert caught.value.code == code, caught.value
    assert caught.value.zh
    assert caught.value.en
    return caught.value


def _inner(data: bytes, identity: Identity) -> bytes:
    return pkcs7.pkcs7_decrypt_der(data, identity.cert, identity.key, [])


def _envelope(signed: bytes, recipient: Identity, algorithm=algorithms.AES256) -> bytes:
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(signed)
        .add_recipient(recipient.cert)
        .set_content_encryption_algorithm(algorithm)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def _sign_raw(content: bytes, *signers: Identity, hash_algorithm=None, extra_certs=()) -> bytes:
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content)
    for signer in signers:
        builder = builder.add_signer(signer.cert, signer.key, hash_algorithm or hashes.SHA256())
    for cert in extra_certs:
        builder = builder.add_certificate(cert)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


@pytest.fixture(scope="module")
def payroll_file(enterprise_a: Identity, bank_identity: Identity) -> bytes:
    """Enterprise A's payroll file for the bank, made once for the module."""
    return envelope_seal(
        payload=PAYLOAD, kind="payroll", signer=enterprise_a, recipient_cert=bank_identity.cert, file_id="f0001"
    )


@pytest.fixture(scope="module")
def bank_open(bank_identity: Identity, bank_trust: TrustStore, enterprise_a: Identity):
    """envelope_open as the portal calls it for agreement A's payroll; keyword overrides."""

    def call(data: bytes, **overrides) -> Opened:
        kwargs = {
            "data": data,
            "recipient": bank_identity,
            "trust": bank_trust,
            "now": PKI_NOW,
            "expected_kind": "payroll",
            "expected_signer": cert_fingerprint(enterprise_a.cert),
        }
        kwargs.update(overrides)
        return envelope_open(**kwargs)

    return call


def _code(fn, data: bytes, **overrides) -> str:
    with pytest.raises(ExchangeError) as caught:
        fn(data, **overrides)
    assert caught.value.zh
    assert caught.value.en
    return caught.value.code


def _signed_edit(signed: bytes, edit) -> bytes:
    """Parse a SignedData with asn1crypto, let ``edit`` change it, re-encode."""
    info = cms.ContentInfo.load(signed)
    edit(info["content"])
    return info.dump(force=True)


def _no_decrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("decryption must not be attempted")

    monkeypatch.setattr(envelope_module.pkcs7, "pkcs7_decrypt_der", boom)


# -- round trips ---------------------------------------------------------------------------------


def test_payroll_round_trip(payroll_file: bytes, bank_open, enterprise_a: Identity, bank_identity) -> None:
    opened = bank_open(payroll_file)
    assert opened.payload == PAYLOAD
    assert opened.kind == "payroll"
    assert opened.file_id == "f0001"
    assert opened.recipient == cert_fingerprint(bank_identity.cert)
    assert opened.signer == enterprise_a.cert
    # The digest the checklist prints: the plain file, without the transport header.
    assert opened.digest == hashlib.sha256(PAYLOAD).hexdigest()


def test_file_id_is_a_fresh_uuid_unless_given(enterprise_a: Identity, bank_identity: Identity, bank_open) -> None:
    ids = {
        bank_open(
            envelope_seal(payload=b"x", kind="payroll", signer=enterprise_a, recipient_cert=bank_identity.cert)
        ).file_id
        for _ in range(2)
    }
    assert len(ids) == 2
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_header_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="kind"):
        header_make(kind="salary", file_id="a", recipient="*")
    with pytest.raises(ValueError, match="file id"):
        header_make(kind="payroll", file_id="a b\nkind: return", recipient="*")
    with pytest.raises(ValueError, match="recipient"):
        header_make(kind="payroll", file_id="a", recipient="AB" * 32)


def test_return_file_from_bank_to_enterprise(
    bank_identity: Identity, enterprise_a: Identity, client_trust: TrustStore
) -> None:
    data = envelope_seal(payload=b"R|ok\n", kind="return", signer=bank_identity, recipient_cert=enterprise_a.cert)
    opened = envelope_open(
        data=data,
        recipient=enterprise_a,
        trust=client_trust,
        now=PKI_NOW,
        expected_kind="return",
        expected_signer=cert_fingerprint(bank_identity.cert),
    )
    assert opened.payload == b"R|ok\n"
    assert opened.signer == bank_identity.cert


def test_agreement_package_signed_only(bank_identity: Identity, client_trust: TrustStore) -> None:
    data = signed_seal(payload="协议 DF2026000001\n".encode(), kind="agreement", signer=bank_identity)
    opened = signed_open(data=data, trust=client_trust, now=PKI_NOW, expected_kind="agreement")
    assert opened.payload == "协议 DF2026000001\n".encode()
    assert opened.recipient == "*"
    assert opened.signer == bank_identity.cert


@settings(max_examples=25, deadline=None)
@given(payload=st.binary(max_size=3000), kind=st.sampled_from(["payroll", "employees", "account_opening"]))
def test_round_trip_random_payloads(
    payload: bytes, kind: str, enterprise_a: Identity, bank_identity: Identity, bank_trust: TrustStore
) -> None:
    data = envelope_seal(payload=payload, kind=kind, signer=enterprise_a, recipient_cert=bank_identity.cert)
    opened = envelope_open(data=data, recipient=bank_identity, trust=bank_trust, now=PKI_NOW, expected_kind=kind)
    assert opened.payload == payload
    assert opened.digest == hashlib.sha256(payload).hexdigest()


@settings(max_examples=15, deadline=None)
@given(payload=st.binary(max_size=2000))
def test_signed_round_trip_random_payloads(payload: bytes, bank_identity: Identity, client_trust) -> None:
    data = signed_seal(payload=payload, kind="agreement", signer=bank_identity)
    assert signed_open(data=data, trust=client_trust, now=PKI_NOW, expected_kind="agreement").payload == payload


# -- each refusal its own code -------------------------------------------------------------------


def test_weak_ciphers_are_refused_before_decryption(
    payroll_file: bytes, bank_identity: Identity, bank_open, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = _inner(payroll_file, bank_identity)
    aes128 = _envelope(signed, bank_identity, algorithms.AES128)
    _no_decrypt(monkeypatch)
    assert _code(bank_open, aes128) == "envelope_weak_cipher"


def test_wrong_recipient_is_detected_before_decryption(
    enterprise_a: Identity, enterprise_b: Identity, bank_identity: Identity, bank_open, monkeypatch
) -> None:
    for_b = envelope_seal(payload=PAYLOAD, kind="payroll", signer=enterprise_a, recipient_cert=enterprise_b.cert)
    _no_decrypt(monkeypatch)
    assert _code(bank_open, for_b) == "envelope_wrong_recipient"


def test_signer_from_another_agreement(enterprise_b: Identity, bank_identity: Identity, bank_open) -> None:
    data = envelope_seal(payload=PAYLOAD, kind="payroll", signer=enterprise_b, recipient_cert=bank_identity.cert)
    assert _code(bank_open, data) == "envelope_signer_not_bound"
    # Without a binding the caller checks Opened.signer itself: the file is fine otherwise.
    assert bank_open(data, expected_signer=None).signer == enterprise_b.cert


def test_chain_to_an_untrusted_root_even_when_the_file_brings_it(
    foreign_enterprise: Identity, foreign_root: Identity, bank_identity: Identity, bank_open
) -> None:
    header = header_make(kind="payroll", file_id="x1", recipient=cert_fingerprint(bank_identity.cert))
    signed = _sign_raw(header + PAYLOAD, foreign_enterprise, extra_certs=[foreign_root.cert])
    assert _code(bank_open, _envelope(signed, bank_identity), expected_signer=None) == "cert_untrusted"


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("expired_enterprise", "cert_expired"),
        ("not_yet_valid_enterprise", "cert_not_yet_valid"),
        ("revoked_enterprise", "cert_revoked"),
    ],
)
def test_certificate_dates_and_revocation(
    fixture: str, code: str, request: pytest.FixtureRequest, bank_identity: Identity, bank_open
) -> None:
    signer: Identity = request.getfixturevalue(fixture)
    data = envelope_seal(payload=PAYLOAD, kind="payroll", signer=signer, recipient_cert=bank_identity.cert)
    assert _code(bank_open, data, expected_signer=cert_fingerprint(signer.cert)) == code


def test_crl_past_next_update(payroll_file: bytes, bank_open) -> None:
    assert _code(bank_open, payroll_file, now=PKI_NOW + timedelta(days=8)) == "crl_expired"


def test_wrong_kind(payroll_file: bytes, bank_open) -> None:
    error = _refused("envelope_wrong_kind", bank_open, data=payroll_file, expected_kind="employees")
    assert "payroll" in error.en


def test_a_signed_file_re_sent_to_someone_else_is_refused(
    enterprise_a: Identity, enterprise_b: Identity, bank_identity: Identity, bank_open
) -> None:
    # B receives a file signed by A for B, unwraps it and re-encrypts A's signature for the bank.
    for_b = envelope_seal(payload=PAYLOAD, kind="payroll", signer=enterprise_a, recipient_cert=enterprise_b.cert)
    resent = _envelope(_inner(for_b, enterprise_b), bank_identity)
    assert _code(bank_open, resent) == "envelope_not_for_you"


def test_the_signed_inside_of_an_envelope_is_not_a_public_file(
    payroll_file: bytes, bank_identity: Identity, client_trust: TrustStore
) -> None:
    inner = _inner(payroll_file, bank_identity)
    _refused("envelope_not_for_you", signed_open, data=inner, trust=client_trust, now=PKI_NOW, expected_kind="payroll")


def test_only_the_bank_signs_agreements_and_return_files(
    enterprise_a: Identity, bank_identity: Identity, client_trust: TrustStore
) -> None:
    forged = signed_seal(payload=b"fee 0.00", kind="agreement", signer=enterprise_a)
    _refused(
        "envelope_signer_role", signed_open, data=forged, trust=client_trust, now=PKI_NOW, expected_kind="agreement"
    )
    # And the bank does not sign payroll instructions.
    bank_payroll = envelope_seal(
        payload=PAYLOAD, kind="payroll", signer=bank_identity, recipient_cert=bank_identity.cert
    )
    _refused(
        "envelope_signer_role",
        envelope_open,
        data=bank_payroll,
        recipient=bank_identity,
        trust=client_trust,
        now=PKI_NOW,
        expected_kind="payroll",
    )


def test_changed_content_breaks_the_signature(payroll_file: bytes, bank_identity: Identity, bank_open) -> None:
    signed = _inner(payroll_file, bank_identity)
    changed = signed.replace(b"1200.00", b"9200.00")
    assert changed != signed
    assert _code(bank_open, _envelope(changed, bank_identity)) == "envelope_bad_signature"
    # The signature is the last field of the last structure: flip its final byte.
    flipped = signed[:-1] + bytes([signed[-1] ^ 0x01])
    assert _code(bank_open, _envelope(flipped, bank_identity)) == "envelope_bad_signature"


def test_a_header_outside_the_fixed_form_is_refused(enterprise_a: Identity, bank_identity: Identity, bank_open) -> None:
    fp = cert_fingerprint(bank_identity.cert).encode()
    sloppy = b"PAYROLL-EXCHANGE/1\r\nkind: payroll\r\nfile-id: a\r\nrecipient: " + fp + b"\r\n\r\n"
    signed = _sign_raw(sloppy + PAYLOAD, enterprise_a)
    assert _code(bank_open, _envelope(signed, bank_identity)) == "envelope_header"


# -- the strict profile --------------------------------------------------------------------------


def test_trailing_data_and_garbage_are_malformed(payroll_file: bytes, bank_open) -> None:
    assert _code(bank_open, payroll_file + b"\x00") == "envelope_malformed"
    assert _code(bank_open, b"") == "envelope_malformed"
    assert _code(bank_open, "工资表.xlsx".encode()) == "envelope_malformed"


def test_ber_indefinite_length_is_refused(payroll_file: bytes, bank_open) -> None:
    # The outer SEQUENCE with an indefinite length: valid BER, same content, not DER.
    assert payroll_file[0] == 0x30
    assert payroll_file[1] & 0x80  # long-form length: 0x80 | number of length bytes
    body = payroll_file[2 + (payroll_file[1] & 0x7F) :]
    assert _code(bank_open, b"\x30\x80" + body + b"\x00\x00") == "envelope_malformed"


def test_signed_only_file_is_not_an_envelope(bank_identity: Identity, bank_open) -> None:
    assert _code(bank_open, signed_seal(payload=b"x", kind="payroll", signer=bank_identity)) == "envelope_malformed"


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda sd: sd.__setitem__("version", "v3"), id="signeddata-version"),
        pytest.param(
            lambda sd: sd["signer_infos"][0].__setitem__(
                "unsigned_attrs",
                cms.CMSAttributes([{"type": "signing_time", "values": [cms.Time({"utc_time": PKI_NOW})]}]),
            ),
            id="unsigned-attribute",
        ),
        pytest.param(
            lambda sd: sd["signer_infos"][0].__setitem__(
                "signed_attrs",
                cms.CMSAttributes(
                    [*sd["signer_infos"][0]["signed_attrs"], {"type": "1.2.3.4", "values": [core.UTF8String("x")]}]
                ),
            ),
            id="extra-signed-attribute",
        ),
        pytest.param(
            lambda sd: sd["signer_infos"][0]["digest_algorithm"].__setitem__("algorithm", "sha1"),
            id="sha1-digest",
        ),
    ],
)
def test_well_formed_cms_outside_the_profile(edit, payroll_file: bytes, bank_identity: Identity, bank_open) -> None:
    signed = _signed_edit(_inner(payroll_file, bank_identity), edit)
    assert _code(bank_open, _envelope(signed, bank_identity)) == "envelope_profile"


def test_two_signers_and_sha512_are_outside_the_profile(
    enterprise_a: Identity, enterprise_b: Identity, bank_identity: Identity, bank_open
) -> None:
    content = header_make(kind="payroll", file_id="x2", recipient=cert_fingerprint(bank_identity.cert)) + PAYLOAD
    two = _sign_raw(content, enterprise_a, enterprise_b)
    assert _code(bank_open, _envelope(two, bank_identity)) == "envelope_profile"
    sha512 = _sign_raw(content, enterprise_a, hash_algorithm=hashes.SHA512())
    assert _code(bank_open, _envelope(sha512, bank_identity)) == "envelope_profile"


# -- undecryptable: one code whatever failed -----------------------------------------------------


def _outer_edit(data: bytes, edit) -> bytes:
    info = cms.ContentInfo.load(data)
    edit(info["content"])
    return info.dump(force=True)


def test_undecryptable_files_share_one_code(payroll_file: bytes, bank_identity: Identity, bank_open) -> None:
    rnd = random.Random(7)
    encrypted_len = len(
        cms.ContentInfo.load(payroll_file)["content"]["encrypted_content_info"]["encrypted_content"].native
    )
    garbage_content = _outer_edit(
        payroll_file,
        lambda env: env["encrypted_content_info"].__setitem__("encrypted_content", rnd.randbytes(encrypted_len)),
    )
    garbage_key = _outer_edit(
        payroll_file,
        lambda env: env["recipient_infos"][0].chosen.__setitem__("encrypted_key", rnd.randbytes(256)),
    )
    not_cms_inside = _envelope(b"just some text, correctly encrypted", bank_identity)
    errors = []
    for data in (garbage_content, garbage_key, not_cms_inside):
        with pytest.raises(ExchangeError) as caught:
            bank_open(data)
        errors.append((caught.value.code, caught.value.zh, caught.value.en))
    assert {e[0] for e in errors} == {"envelope_undecryptable"}
    assert len(set(errors)) == 1


def test_unknown_expected_kind_is_a_programming_error(payroll_file: bytes, bank_open) -> None:
    with pytest.raises(ValueError, match="kind"):
        bank_open(payroll_file, expected_kind="salary")


# -- tampering: every byte ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_file(enterprise_a: Identity, bank_identity: Identity) -> bytes:
    return envelope_seal(payload=b"1|x", kind="payroll", signer=enterprise_a, recipient_cert=bank_identity.cert)


def test_every_byte_changed_once_is_refused(small_file: bytes, bank_open) -> None:
    assert bank_open(small_file).payload == b"1|x"
    accepted = []
    for position in range(len(small_file)):
        # A deterministic random per position: the run is the same every time.
        value = random.Random(position).randrange(255)
        value = value if value < small_file[position] else value + 1
        changed = small_file[:position] + bytes([value]) + small_file[position + 1 :]
        try:
            bank_open(changed)
        except ExchangeError:
            continue
        accepted.append(position)
    assert accepted == []


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_byte_changes_are_refused(data: st.DataObject, small_file: bytes, bank_open) -> None:
    position = data.draw(st.integers(0, len(small_file) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != small_file[position]))
    changed = small_file[:position] + bytes([value]) + small_file[position + 1 :]
    with pytest.raises(ExchangeError):
        bank_open(changed)


# -- poison: certificates that X.509 parsing refuses ------------------------------------------


@pytest.mark.parametrize("poison", ["duplicate_extension", "unknown_version", "negative_serial"])
def test_a_certificate_cryptography_refuses_gives_one_clear_error(
    poison: str, poison_certs: dict[str, bytes], enterprise_a: Identity, bank_identity: Identity, bank_open
) -> None:
    # Beside a valid signer: the file would verify if the set's extra certificate were ignored.
    data = envelope_with_certificates(
        payload=PAYLOAD,
        kind="payroll",
        signer=enterprise_a,
        recipient_cert=bank_identity.cert,
        certificates=[poison_certs[poison]],
    )
    error = _refused("envelope_certificate", bank_open, data=data)
    assert "X.509" in error.zh
    assert "X.509" in error.en


def test_both_poisons_in_one_set_and_in_a_signed_only_file(
    poison_certs: dict[str, bytes], bank_identity: Identity, client_trust: TrustStore
) -> None:
    signed = signed_data_add_certificates(
        signed_seal(payload=b"fee 1.00", kind="agreement", signer=bank_identity),
        [poison_certs["duplicate_extension"], poison_certs["unknown_version"]],
    )
    _refused(
        "envelope_certificate", signed_open, data=signed, trust=client_trust, now=PKI_NOW, expected_kind="agreement"
    )


def test_a_large_payload_round_trips(enterprise_a: Identity, bank_identity: Identity, bank_open) -> None:
    # The content is kept out of asn1crypto (a view of the decrypted bytes): same result.
    payload = random.Random(11).randbytes(3 * 1024 * 1024)
    data = envelope_seal(payload=payload, kind="payroll", signer=enterprise_a, recipient_cert=bank_identity.cert)
    opened = bank_open(data, expected_signer=None)
    assert opened.payload == payload
    assert type(opened.payload) is bytes
    assert opened.digest == hashlib.sha256(payload).hexdigest()


def test_oversized_structures_beside_the_content_are_refused_before_parsing(
    payroll_file: bytes, bank_identity: Identity, bank_open
) -> None:
    # Only the content may be large: megabytes in an attribute or a certificate would cost many
    # copies in the parser, so they are refused on their size.
    big = core.OctetString(b"\x00" * (300 * 1024))
    outer = _outer_edit(
        payroll_file,
        lambda env: env.__setitem__("unprotected_attrs", cms.CMSAttributes([{"type": "1.2.3.4", "values": [big]}])),
    )
    assert "size" in _refused("envelope_profile", bank_open, data=outer).en
    inner = _signed_edit(
        _inner(payroll_file, bank_identity),
        lambda sd: sd["signer_infos"][0].__setitem__(
            "unsigned_attrs", cms.CMSAttributes([{"type": "1.2.3.4", "values": [big]}])
        ),
    )
    assert "size" in _refused("envelope_profile", bank_open, data=_envelope(inner, bank_identity)).en
