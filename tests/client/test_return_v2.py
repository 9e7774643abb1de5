"""Return format version 2 (issue 13): the return file carries the digest of the payroll file it answers;
文件回盘 says which file made on this PC it answers, or that none did; version 1 is still read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from payroll_exchange import envelope, formats
from payroll_exchange.errors import ExchangeError
from payroll_exchange.records import RETURN_DIGEST_VERSION, ReturnFile
from tests.client.conftest import AGREEMENT_A, Client
from tests.client.sheets_make import csv_bytes, payroll_rows
from tests.client.test_payroll import encrypt
from tests.client.test_returns import PIN, return_file


def sealed_v2(digest: str, bank_identity, enterprise_a) -> bytes:
    plain = return_file()
    returned = ReturnFile(header=replace(plain.header, format_version=RETURN_DIGEST_VERSION, payroll_digest=digest),
                          rows=plain.rows)
    return envelope.envelope_seal(payload=formats.return_dump(returned), kind="return", signer=bank_identity,
                                  recipient_cert=enterprise_a.cert)


def decrypt(client: Client, data: bytes, tmp_path: Path, out_dir: Path):
    incoming = tmp_path / "return.p7m"
    incoming.write_bytes(data)
    result = client.run("return", str(incoming), "--out", str(out_dir / "ret"), env=PIN)
    assert result.returncode == 0, result.stderr
    [listing] = (out_dir / "ret").glob("*_回盘清单.txt")
    return result.stdout, listing.read_text(encoding="utf-8")


def test_a_v2_return_names_the_payroll_file_made_on_this_pc(client: Client, tmp_path: Path, out_dir: Path,
                                                            bank_identity, enterprise_a) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(4)))
    assert encrypt(client, sheet, out_dir).returncode == 0
    [txt] = out_dir.glob("*_核对清单.txt")
    [digest] = [line.split(": ")[1] for line in txt.read_text(encoding="utf-8").splitlines()
                if line.startswith("文件摘要 SHA-256: ")]
    stdout, listing = decrypt(client, sealed_v2(digest, bank_identity, enterprise_a), tmp_path, out_dir)
    name = f"PAY_{AGREEMENT_A}_B202612_20261205.p7m"
    assert "对应本机" in stdout
    assert name in stdout
    assert f"工资文件摘要 Payroll file digest: {digest}" in listing
    assert name in listing


def test_a_v2_return_of_a_file_not_made_here_says_so(client: Client, tmp_path: Path, out_dir: Path,
                                                     bank_identity, enterprise_a) -> None:
    stdout, listing = decrypt(client, sealed_v2("ab" * 32, bank_identity, enterprise_a), tmp_path, out_dir)
    assert "本机没有制作过摘要为 abababababababab… 的工资文件" in stdout
    assert "本机没有制作过" in listing


def test_a_v1_return_is_still_read_and_says_it_names_no_file(client: Client, tmp_path: Path, out_dir: Path,
                                                             bank_identity, enterprise_a) -> None:
    data = envelope.envelope_seal(payload=formats.return_dump(return_file()), kind="return", signer=bank_identity,
                                  recipient_cert=enterprise_a.cert)
    stdout, _ = decrypt(client, data, tmp_path, out_dir)
    assert "成功 paid 2 笔" in stdout
    assert "旧版回盘文件 (版本 1)" in stdout


def test_the_v2_header_round_trips_and_requires_the_digest() -> None:
    plain = return_file()
    v2 = ReturnFile(header=replace(plain.header, format_version=RETURN_DIGEST_VERSION, payroll_digest="cd" * 32),
                    rows=plain.rows)
    data = formats.return_dump(v2)
    assert data.split(b"\n")[0].startswith(b"RETURN|2|")
    assert data.split(b"\n")[0].endswith(b"|" + b"cd" * 32)
    assert formats.return_load(data)[0].header.payroll_digest == "cd" * 32
    assert formats.return_load(formats.return_dump(plain))[0].header.payroll_digest == ""
    with pytest.raises(ExchangeError):
        formats.return_dump(ReturnFile(header=replace(v2.header, payroll_digest=""), rows=plain.rows))
    with pytest.raises(ExchangeError):  # a version 2 header without its last field
        formats.return_load(data.replace(b"|" + b"cd" * 32, b"", 1))
