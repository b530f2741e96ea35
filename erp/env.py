"""Typed environment helpers (Healthchecks' envbool/envint style).

Every setting of the product is read through these helpers so that a bad value fails loudly at start-up with
``ImproperlyConfigured`` naming the variable, instead of surfacing later as a strange runtime error.

Any variable may also be given as ``NAME_FILE`` pointing at a file that holds the value (Docker and Kubernetes
secrets); the file wins over an empty variable, and giving both a non-empty ``NAME`` and ``NAME_FILE`` is an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_raw(name: str, environ: dict | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    file_name = environ.get(f"{name}_FILE")
    if file_name:
        if value:
            raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
        path = Path(file_name)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}.") from exc
    return value


def env_str(name: str, default: str | None = None, *, choices: Iterable[str] | None = None) -> str | None:
    value = env_raw(name)
    if value is None or value == "":
        value = default
    if choices is not None and value is not None:
        allowed = list(choices)
        if value not in allowed:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(allowed)}.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = env_raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = env_raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}.")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = env_raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env_raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str | None = None, *, schemes: Iterable[str]) -> str | None:
    from urllib.parse import urlsplit

    value = env_str(name, default)
    if value is None:
        return None
    allowed = tuple(schemes)
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid URL: {exc}.") from exc
    if parts.scheme not in allowed:
        raise ImproperlyConfigured(f"{name} must start with one of {', '.join(s + '://' for s in allowed)}.")
    return value
