"""The whole `agent-os:` stack config, validated once before any resource exists. Pure
(pydantic only): `loader.py` reads it from the Pulumi runtime."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from .model import NAMESPACE, ConfigError, StackConfig, key_path, validate

__all__ = [
    "CREDENTIALS_KEY",
    "NAMESPACE",
    "ConfigError",
    "StackConfig",
    "format_validation_error",
    "parse",
]


def format_validation_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        reason = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            reason = "unknown key"
        elif "input" in e and not isinstance(e["input"], dict | list):
            reason += f" (got {e['input']!r})"
        lines.append(f"{key_path(tuple(e['loc']))}: {reason}")
    return "invalid stack config:\n  " + "\n  ".join(lines)


Check = Callable[[StackConfig], None]  # a further config rule; raises ConfigError


def parse(
    raw: dict[str, Any], stack: str, secret_keys: set[str] | None = None, checks: Sequence[Check] = ()
) -> StackConfig:
    """Validate a `{key: value}` map (keys without namespace). Every problem at once: raises
    one ConfigError listing them all (a ValidationError when field errors are all there is)."""
    return validate(raw, stack, secret_keys or set(), checks, CREDENTIALS_KEY)


CREDENTIALS_KEY = "connectorCredentials"
