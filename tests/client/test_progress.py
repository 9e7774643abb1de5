"""The progress bar: drawn on stderr only for work that takes more than a second."""

from __future__ import annotations

import io
import time

import pytest

from payroll_client import progress
from payroll_client.checklist import amount_in_words


def test_quick_work_draws_nothing() -> None:
    stream = io.StringIO()
    with progress.Progress(steps=["a", "b"], stream=stream, force=True) as bar:
        bar.step(name="b")
    assert stream.getvalue() == ""


def test_slow_work_draws_steps_and_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.1)
    stream = io.StringIO()
    with progress.Progress(steps=["读取 reading", "校验 checking"], stream=stream, force=True) as bar:
        time.sleep(0.35)
        bar.step(name="校验 checking")
        time.sleep(0.3)
    out = stream.getvalue()
    assert "读取 reading" in out
    assert "1/2 校验 checking" in out
    assert "2/2 完成 done" in out
    assert out.endswith("\n")


@pytest.mark.parametrize(("amount", "words"), [
    ("12084.00", "壹万贰仟零捌拾肆元整"),
    ("100010", "壹拾万零壹拾元整"),
    ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    ("0.05", "伍分"),
])
def test_amount_in_words(amount: str, words: str) -> None:
    from decimal import Decimal

    assert amount_in_words(Decimal(amount)) == words
