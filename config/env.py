"""Reading settings from the environment: every malformed value is ImproperlyConfigured."""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def env_typed(name: str, cast: Any, **kwargs: Any) -> Any:
    """``env(name, cast=...)`` but a value that does not parse names the variable instead of
    surfacing a bare ValueError from deep inside settings."""
    if cast is bool:
        return _env_bool(name, **kwargs)
    try:
        return env(name, cast=cast, **kwargs)
    except ImproperlyConfigured:
        raise
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from exc


def env_db(name: str, **kwargs: Any) -> dict[str, Any]:
    try:
        config = env.db_url(name, **kwargs)
    except ImproperlyConfigured:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from exc
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"{name} names no known database engine")
    return config


def env_url(name: str, *, schemes: tuple[str, ...], **kwargs: Any) -> str:
    value = env.str(name, **kwargs)
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must start with one of {', '.join(s + '://' for s in schemes)}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env_bool(name: str, *, default: bool) -> bool:
    # django-environ reads any unknown word as False; a typo must not silently switch a flag.
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} is malformed: {raw!r} is not one of true/false/1/0/yes/no/on/off")
