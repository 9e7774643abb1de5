"""Asking the person at the keyboard: secrets through getpass (never echoed), or from the
environment for automation. Without a terminal and without the variable, refuse clearly
instead of hanging on a read that nobody will answer."""

from __future__ import annotations

import getpass
import os
import sys

from payroll_exchange.errors import ExchangeError

PIN_ENV = "PAYROLL_CLIENT_PIN"
USER_ENV = "PAYROLL_CLIENT_USER"
PASSWORD_ENV = "PAYROLL_CLIENT_PASSWORD"
NEW_PASSWORD_ENV = "PAYROLL_CLIENT_NEW_PASSWORD"
REVIEWER_ENV = "PAYROLL_CLIENT_REVIEWER"
REVIEWER_PASSWORD_ENV = "PAYROLL_CLIENT_REVIEWER_PASSWORD"


def interactive() -> bool:
    return sys.stdin.isatty()


def secret_ask(*, prompt: str, env: str | None) -> str:
    if env and os.environ.get(env):
        return os.environ[env]
    if not interactive():
        hint = f"; set {env}" if env else ""
        raise ExchangeError("prompt_unavailable", f"需要输入: {prompt} (无终端{hint})",
                            f"input needed: {prompt} (no terminal{hint})")
    return getpass.getpass(f"{prompt}: ")


def new_password_ask(*, prompt: str) -> str:
    """A new password, typed twice at a terminal, or PAYROLL_CLIENT_NEW_PASSWORD."""
    if os.environ.get(NEW_PASSWORD_ENV):
        return os.environ[NEW_PASSWORD_ENV]
    if not interactive():
        raise ExchangeError("prompt_unavailable", f"需要输入: {prompt} (无终端; set {NEW_PASSWORD_ENV})",
                            f"input needed: {prompt} (no terminal; set {NEW_PASSWORD_ENV})")
    first = secret_ask(prompt=prompt, env=None)
    again = secret_ask(prompt="再输入一次 again", env=None)
    if first != again:
        raise ExchangeError("password_mismatch", "两次输入的密码不一致", "the two passwords differ")
    return first


def text_ask(*, prompt: str, env: str | None = None) -> str:
    if env and os.environ.get(env):
        return os.environ[env]
    if not interactive():
        hint = f"; set {env} or give the option" if env else "; give the option"
        raise ExchangeError("prompt_unavailable", f"需要输入: {prompt} (无终端{hint})",
                            f"input needed: {prompt} (no terminal{hint})")
    return input(f"{prompt}: ").strip()


def confirm_ask(*, prompt: str, given: bool) -> bool:
    """A flag given on the command line, or the word yes typed at the terminal."""
    if given:
        return True
    if not interactive():
        return False
    return input(f"{prompt} [yes/no]: ").strip().lower() in {"yes", "y", "是"}
