"""Benchmark: seal and open a realistic 100,000-row payroll file (~10 MB), beside a baseline.

    .venv/bin/python benchmarks/bench_envelope.py [--rows 100000] [--repeat 5]

envelope_seal = sign (SHA-256 + RSA-2048) and encrypt (AES-256-CBC) the file;
envelope_open = decrypt, strict DER profile checks, signature, chain and CRL checks.
Baseline, same bytes, same run: AES-256-CBC encrypt + decrypt with cryptography's Cipher, plus one
SHA-256 — the unavoidable work; the ratio shows what CMS, parsing and verification add.
Best of ``--repeat`` runs (the minimum is the least disturbed by other work on the machine).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import padding  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

from payroll_exchange.envelope import envelope_open, envelope_seal  # noqa: E402
from payroll_exchange.pki import TrustStore, cert_fingerprint, cert_issue, crl_make, root_create  # noqa: E402

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华文华玉兰红梅志强海燕晓东春梅丹宇浩然子涵欣怡梓萱一诺"


def payroll_bytes(rows: int, seed: int = 20261201) -> bytes:
    """A payroll file shaped like the real one: a header and pipe-delimited UTF-8 rows with
    Chinese names, UnionPay-length accounts, 18-character IDs, amounts and remarks."""
    rnd = random.Random(seed)
    lines = []
    total = Decimal(0)
    for seq in range(1, rows + 1):
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))
        account = "6222" + "".join(rnd.choice("0123456789") for _ in range(15))
        birth = f"{rnd.randint(1960, 2004)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
        id_number = f"{rnd.randint(110000, 659000)}{birth}{rnd.randint(0, 999):03d}{rnd.choice('0123456789X')}"
        amount = Decimal(rnd.randint(300000, 3500000)) / 100
        total += amount
        remark = rnd.choice(["十二月工资", "年终奖金", "绩效工资 2026-12", "加班补贴", ""])
        lines.append(f"D|{seq}|{account}|{name}|{amount}|0|{id_number}|{remark}")
    header = f"H|1|DF2026000001|310100001|B20261201|2026-12-03|CNY|{rows}|{total}|工资"
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def baseline(data: bytes) -> None:
    key, iv = os.urandom(32), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES256(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    decryptor = Cipher(algorithms.AES256(key), modes.CBC(iv)).decryptor()
    decrypted = decryptor.update(encrypted) + decryptor.finalize()
    hashlib.sha256(decrypted).digest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    root = root_create(common_name="Bench Bank Root", now=now - timedelta(days=1))
    bank = cert_issue(issuer=root, common_name="Bank", organization="Bench Bank", role="bank", now=now)
    enterprise = cert_issue(issuer=root, common_name="DF2026000001", organization="上海示例科技有限公司",
                            role="enterprise", now=now)  # fmt: skip
    # The bank side: root, a CRL with some revoked serials, CRL required.
    crl = crl_make(issuer=root, revoked=[(n, now) for n in range(1000, 1100)], now=now)
    trust = TrustStore(roots=[root.cert], crls=[crl], require_crl=True)

    data = payroll_bytes(args.rows)
    print(f"payload: {args.rows:,} rows, {len(data) / 1e6:.2f} MB UTF-8")

    sealed = envelope_seal(payload=data, kind="payroll", signer=enterprise, recipient_cert=bank.cert)
    print(f"envelope: {len(sealed) / 1e6:.2f} MB DER")

    def do_open() -> None:
        opened = envelope_open(data=sealed, recipient=bank, trust=trust, now=now, expected_kind="payroll",
                               expected_signer=cert_fingerprint(enterprise.cert))  # fmt: skip
        assert opened.payload == data  # noqa: S101 — a benchmark that silently measured a failure is worse

    seal_s = best_of(args.repeat, lambda: envelope_seal(payload=data, kind="payroll", signer=enterprise,
                                                         recipient_cert=bank.cert))  # fmt: skip
    open_s = best_of(args.repeat, do_open)
    base_s = best_of(args.repeat, lambda: baseline(data))

    print(f"baseline  AES-256-CBC encrypt+decrypt + SHA-256: {base_s:.3f} s")
    print(f"envelope_seal  (sign + encrypt):                 {seal_s:.3f} s  ({seal_s / base_s:.1f}x baseline)")
    print(f"envelope_open  (decrypt + verify):               {open_s:.3f} s  ({open_s / base_s:.1f}x baseline)")
    aim = 0.2
    verdict = "within" if max(seal_s, open_s) <= aim else "OVER"
    print(f"aim: each envelope operation <= {aim} s: {verdict}")


if __name__ == "__main__":
    main()
