"""Property tests: however a valid file is damaged, ``envelope_open`` and ``signed_open`` raise
``ExchangeError`` and nothing else (the pure core's contract; a raw exception would make the
platform's worker retry a hostile file instead of refusing it).

Two kinds of damage:
- bytes: flips, truncation, insertion, deletion, anywhere in the outer envelope or in the inner
  SignedData (re-encrypted correctly, so the damage reaches the signature and certificate code);
- fields: the DER is walked as a tree (OCTET and BIT STRINGs that hold DER are walked into, so
  extension values and public keys are reached), one node is changed (its content, its tag, a
  child dropped or doubled, an INTEGER set to a small or huge value) and the tree is re-encoded
  as valid DER with correct lengths, so the change gets past framing into the parsers of the
  structure it hits.

Derandomized (the same examples every run), no deadline (RSA), sized to run in ~25 s.
``--hypothesis-show-statistics`` lists the refusal codes the damage reached.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from payroll_exchange.envelope import envelope_open, envelope_seal, signed_open, signed_seal
from payroll_exchange.errors import ExchangeError
from payroll_exchange.pki import Identity, TrustStore, cert_fingerprint, cert_load, chain_verify, crl_load
from tests.fixtures.pki import PKI_NOW

PAYLOAD = (
    "H|1|DF2026000001|310100001|B20261201|2026-12-03|CNY|1|1200.00|工资\n"
    "D|1|6222020200112345678|张三|1200.00|0|110101199003070019|\n"
).encode()

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- a DER tree that can be changed and re-encoded -----------------------------------------------


@dataclass
class Node:
    tag: int
    content: bytes = b""
    # Constructed values, and OCTET / BIT STRINGs whose content is itself DER: the parsed parts.
    children: list[Node] | None = None
    # The BIT STRING's unused-bits byte when children hold its DER content.
    prefix: bytes = b""
    nodes: list[Node] = field(default_factory=list, repr=False)


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _split(data: bytes) -> list[Node]:
    """Parse a run of DER TLVs covering ``data`` exactly; ValueError when it is not one."""
    nodes = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 2 or data[pos] & 0x1F == 0x1F:
            raise ValueError("not simple DER")
        tag = data[pos]
        first = data[pos + 1]
        pos += 2
        if first < 0x80:
            size = first
        else:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise ValueError("length")
            size = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        if pos + size > len(data):
            raise ValueError("short")
        nodes.append(_node(tag, data[pos : pos + size]))
        pos += size
    return nodes


def _node(tag: int, content: bytes) -> Node:
    if tag & 0x20:
        return Node(tag=tag, children=_split(content))
    # OCTET STRING (extension values, the signed content) and BIT STRING (public keys) that hold DER.
    if tag == 0x04 and content[:1] in (b"\x30", b"\x31", b"\x03", b"\x04", b"\x02"):
        try:
            return Node(tag=tag, children=_split(content))
        except ValueError:
            pass
    if tag == 0x03 and content[:1] == b"\x00" and content[1:2] == b"\x30":
        try:
            return Node(tag=tag, children=_split(content[1:]), prefix=b"\x00")
        except ValueError:
            pass
    return Node(tag=tag, content=content)


def _encode(node: Node) -> bytes:
    body = node.content if node.children is None else node.prefix + b"".join(_encode(c) for c in node.children)
    return bytes([node.tag]) + _length(len(body)) + body


def _walk(node: Node, out: list[Node]) -> list[Node]:
    out.append(node)
    for child in node.children or []:
        _walk(child, out)
    return out


def _parse_der(data: bytes) -> Node:
    (root,) = _split(data)
    assert _encode(root) == data, "the walker must reproduce the DER it read"
    return root


MUTATIONS = ("content", "tag", "drop_child", "double_child", "integer", "empty", "truncate_content")


def _mutate(data: st.DataObject, der: bytes) -> bytes:
    """One field of ``der`` changed, re-encoded as DER."""
    root = _parse_der(der)
    nodes = _walk(root, [])
    node = nodes[data.draw(st.integers(0, len(nodes) - 1), label="node")]
    op = data.draw(st.sampled_from(MUTATIONS), label="op")
    if op == "content":
        node.children = None
        node.prefix = b""
        node.content = data.draw(st.binary(min_size=0, max_size=40), label="content")
    elif op == "tag":
        node.tag = data.draw(st.integers(0, 0xFE).filter(lambda t: t & 0x1F != 0x1F), label="tag")
        if node.children is not None and not node.tag & 0x20 and node.tag not in (0x03, 0x04):
            node.content = node.prefix + b"".join(_encode(c) for c in node.children)
            node.children = None
            node.prefix = b""
    elif op in ("drop_child", "double_child"):
        assume(node.children)
        index = data.draw(st.integers(0, len(node.children) - 1), label="child")
        if op == "drop_child":
            del node.children[index]
        else:
            node.children.insert(index, node.children[index])
    elif op == "integer":
        value = data.draw(st.sampled_from([0, 1, 2, 3, 4, 127, 128, 255, -1, 2**64, 2**160]), label="integer")
        node.tag = 0x02
        node.children = None
        node.prefix = b""
        node.content = value.to_bytes((value.bit_length() + 8) // 8 or 1, "big", signed=True)
    elif op == "empty":
        node.children = None if node.children is None else []
        node.content = b""
        node.prefix = b""
    else:
        assume(node.children is None and len(node.content) > 1)
        node.content = node.content[: data.draw(st.integers(0, len(node.content) - 1), label="cut")]
    mutated = _encode(root)
    assume(mutated != der)
    return mutated


def _byte_damage(data: st.DataObject, der: bytes) -> bytes:
    op = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "flips"]), label="byte op")
    at = data.draw(st.integers(0, len(der) - 1), label="at")
    if op == "flip":
        mutated = der[:at] + bytes([der[at] ^ data.draw(st.integers(1, 255), label="xor")]) + der[at + 1 :]
    elif op == "truncate":
        mutated = der[:at]
    elif op == "insert":
        mutated = der[:at] + data.draw(st.binary(min_size=1, max_size=8), label="inserted") + der[at:]
    elif op == "delete":
        mutated = der[:at] + der[at + data.draw(st.integers(1, 8), label="deleted") :]
    else:
        changed = bytearray(der)
        for position in data.draw(st.lists(st.integers(0, len(der) - 1), min_size=2, max_size=6), label="positions"):
            changed[position] ^= 0xFF
        mutated = bytes(changed)
    assume(mutated != der)
    return mutated


# -- the files -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sealed(enterprise_a: Identity, bank_identity: Identity) -> bytes:
    return envelope_seal(
        payload=PAYLOAD, kind="payroll", signer=enterprise_a, recipient_cert=bank_identity.cert, file_id="p1"
    )


@pytest.fixture(scope="module")
def inner(sealed: bytes, bank_identity: Identity) -> bytes:
    return pkcs7.pkcs7_decrypt_der(sealed, bank_identity.cert, bank_identity.key, [])


@pytest.fixture(scope="module")
def agreement_package(bank_identity: Identity) -> bytes:
    return signed_seal(payload=b"agreement DF2026000001 fee 1.00\n", kind="agreement", signer=bank_identity)


@pytest.fixture(scope="module")
def bank_open(bank_identity: Identity, bank_trust: TrustStore, enterprise_a: Identity):
    def call(data: bytes):
        return envelope_open(
            data=data,
            recipient=bank_identity,
            trust=bank_trust,
            now=PKI_NOW,
            expected_kind="payroll",
            expected_signer=cert_fingerprint(enterprise_a.cert),
        )

    return call


@pytest.fixture(scope="module")
def reseal(bank_identity: Identity):
    """A (damaged) SignedData encrypted correctly for the bank: the damage survives decryption."""

    def call(signed: bytes) -> bytes:
        return (
            pkcs7.PKCS7EnvelopeBuilder()
            .set_data(signed)
            .add_recipient(bank_identity.cert)
            .set_content_encryption_algorithm(algorithms.AES256)
            .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
        )

    return call


def _refused_or_unchanged(fn, data: bytes, original: bytes) -> None:
    """``fn(data)`` raises ExchangeError (with a code and both messages), or, when the change
    was one the profile allows (an absent instead of a NULL parameter), opens to exactly what
    the undamaged file opens to. Any other exception fails the test."""
    refusal: ExchangeError | None = None
    try:
        opened = fn(data)
    except ExchangeError as error:
        refusal = error
    if refusal is not None:
        event(refusal.code)  # --hypothesis-show-statistics: which checks the damage reached
        assert (bool(refusal.code), bool(refusal.zh), bool(refusal.en)) == (True, True, True)
        return
    expected = fn(original)
    assert (opened.kind, opened.file_id, opened.payload, opened.signer) == (
        expected.kind,
        expected.file_id,
        expected.payload,
        expected.signer,
    )


def test_the_undamaged_files_open_and_the_walker_reproduces_them(
    sealed: bytes, inner: bytes, agreement_package: bytes, bank_open, client_trust: TrustStore
) -> None:
    assert bank_open(sealed).payload == PAYLOAD
    assert signed_open(data=agreement_package, trust=client_trust, now=PKI_NOW, expected_kind="agreement")
    assert len(_walk(_parse_der(sealed), [])) > 20
    for der in (inner, agreement_package):
        nodes = _walk(_parse_der(der), [])
        # The walk reaches into certificates: extension values and the RSA public key.
        assert len(nodes) > 100
        assert any(n.tag == 0x03 and n.children for n in nodes)


# -- the outer envelope --------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_envelope_bytes_damaged(data: st.DataObject, sealed: bytes, bank_open) -> None:
    _refused_or_unchanged(bank_open, _byte_damage(data, sealed), sealed)


@PROPERTY
@given(data=st.data())
def test_envelope_fields_changed(data: st.DataObject, sealed: bytes, bank_open) -> None:
    _refused_or_unchanged(bank_open, _mutate(data, sealed), sealed)


# -- the SignedData inside, re-encrypted correctly -----------------------------------------------


@PROPERTY
@given(data=st.data())
def test_inner_signed_data_bytes_damaged(data: st.DataObject, inner: bytes, reseal, bank_open) -> None:
    _refused_or_unchanged(bank_open, reseal(_byte_damage(data, inner)), reseal(inner))


@settings(PROPERTY, max_examples=1200)
@given(data=st.data())
def test_inner_signed_data_fields_changed(data: st.DataObject, inner: bytes, reseal, bank_open) -> None:
    _refused_or_unchanged(bank_open, reseal(_mutate(data, inner)), reseal(inner))


# -- a signed-only file (the agreement package) --------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_signed_only_file_damaged(data: st.DataObject, agreement_package: bytes, client_trust: TrustStore) -> None:
    damage = data.draw(st.sampled_from([_byte_damage, _mutate]), label="damage")
    _refused_or_unchanged(
        lambda d: signed_open(data=d, trust=client_trust, now=PKI_NOW, expected_kind="agreement"),
        damage(data, agreement_package),
        agreement_package,
    )


# -- the signer's certificate changed and signed again by the bank root --------------------------


def _resign_certificate(tbs: bytes, issuer: Identity) -> Node:
    signature = issuer.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    sha256_rsa = bytes.fromhex("300d06092a864886f70d01010b0500")
    body = tbs + sha256_rsa + bytes([0x03]) + _length(len(signature) + 1) + b"\x00" + signature
    return Node(tag=0x30, content=body)  # kept as bytes: the changed TBS need not parse again


@settings(PROPERTY, max_examples=800)
@given(data=st.data())
def test_signer_certificate_changed_and_signed_by_the_root(
    data: st.DataObject, inner: bytes, reseal, bank_open, bank_root: Identity
) -> None:
    # The change gets past the certificate's signature into path validation: extensions, names,
    # dates, serial, key. The SignedData set holds the changed certificate instead of the real one.
    root = _parse_der(inner)
    certificates = root.children[1].children[0].children[3]
    assert certificates.tag == 0xA0
    tbs = _encode(certificates.children[0].children[0])
    certificates.children[0] = _resign_certificate(_mutate(data, tbs), bank_root)
    _refused_or_unchanged(bank_open, reseal(_encode(root)), reseal(inner))


# -- the large content is kept out of asn1crypto: its path must still be minimal DER -------------


def _encode_loose(node: Node, loose: Node) -> bytes:
    """DER of ``node``, except that ``loose`` gets a long-form length one byte longer than needed."""
    body = node.content if node.children is None else node.prefix + b"".join(
        _encode_loose(c, loose) for c in node.children
    )
    if node is loose:
        size = len(body).to_bytes(4, "big")
        return bytes([node.tag, 0x84]) + size + body
    return bytes([node.tag]) + _length(len(body)) + body


def _path_to_largest(root: Node) -> list[Node]:
    """The nodes from the root down to the largest primitive value (the content)."""
    best: list[Node] = []

    def visit(node: Node, trail: list[Node]) -> None:
        nonlocal best
        trail = [*trail, node]
        if node.children is None:
            if not best or len(node.content) > len(best[-1].content):
                best = trail
            return
        for child in node.children:
            visit(child, trail)

    visit(root, [])
    return best


def test_a_non_minimal_length_anywhere_on_the_content_path_is_refused(
    sealed: bytes, inner: bytes, reseal, bank_open
) -> None:
    outer_path = _path_to_largest(_parse_der(sealed))
    inner_path = _path_to_largest(_parse_der(inner))
    assert len(outer_path) >= 4
    assert len(inner_path) >= 5
    for depth in range(len(outer_path)):
        root = _parse_der(sealed)
        loose = _encode_loose(root, _path_to_largest(root)[depth])
        with pytest.raises(ExchangeError) as caught:
            bank_open(loose)
        assert caught.value.code == "envelope_malformed"
    for depth in range(len(inner_path)):
        root = _parse_der(inner)
        loose = _encode_loose(root, _path_to_largest(root)[depth])
        with pytest.raises(ExchangeError) as caught:
            bank_open(reseal(loose))
        # Garbage after decryption is one code, whatever it is (no padding oracle).
        assert caught.value.code == "envelope_undecryptable"


# -- certificates and CRLs loaded from bytes, then used --------------------------------------------


def _signed_der(tbs: bytes, issuer: Identity) -> bytes:
    """A certificate or CRL (same outer shape: TBS, algorithm, signature) signed by ``issuer``."""
    return _encode(_resign_certificate(tbs, issuer))


@settings(PROPERTY, max_examples=400)
@given(data=st.data())
def test_certificates_and_crls_damaged_then_loaded_and_used(
    data: st.DataObject, enterprise_a: Identity, bank_root: Identity, bank_crl, bank_trust: TrustStore
) -> None:
    """cert_load / crl_load raise only ExchangeError, and what they accept, path validation then
    handles with ExchangeError only: the change is signed again by the root, so it gets past the
    signatures into the extension, date and revocation checks."""
    which = data.draw(st.sampled_from(["certificate", "crl"]), label="which")
    original = (enterprise_a.cert if which == "certificate" else bank_crl).public_bytes(serialization.Encoding.DER)
    tbs = _encode(_parse_der(original).children[0])
    damaged = _signed_der(_mutate(data, tbs), bank_root)
    if data.draw(st.booleans(), label="pem"):
        label = b"CERTIFICATE" if which == "certificate" else b"X509 CRL"
        damaged = b"-----BEGIN " + label + b"-----\n" + base64.encodebytes(damaged) + b"-----END " + label + b"-----\n"
    refusal: ExchangeError | None = None
    try:
        loaded = cert_load(damaged) if which == "certificate" else crl_load(damaged)
        if which == "certificate":
            chain_verify(cert=loaded, intermediates=[], trust=bank_trust, now=PKI_NOW)
        else:
            trust = TrustStore(roots=bank_trust.roots, crls=[loaded], require_crl=True)
            chain_verify(cert=enterprise_a.cert, intermediates=[], trust=trust, now=PKI_NOW)
    except ExchangeError as error:
        refusal = error
    if refusal is not None:
        event(refusal.code)
        assert (bool(refusal.zh), bool(refusal.en)) == (True, True)
