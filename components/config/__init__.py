"""Load and validate the whole `agent-os:` stack config once, before any resource exists."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
from pulumi.runtime import config as _runtime_config
from pydantic import ValidationError

from .model import ConfigError, StackConfig, validate
from .secrets import SECRET_KEYS

NAMESPACE = "agent-os"

__all__ = [
    "CREDENTIALS_KEY",
    "NAMESPACE",
    "ConfigError",
    "StackConfig",
    "format_validation_error",
    "load",
    "parse",
]

SECTIONS = frozenset(f.alias or name for name, f in StackConfig.model_fields.items() if not f.exclude)


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = f"{NAMESPACE}:"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if i else "") + part
    return out


def format_validation_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        reason = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            reason = "unknown key"
        elif "input" in e and not isinstance(e["input"], dict | list):
            reason += f" (got {e['input']!r})"
        lines.append(f"{_loc_path(tuple(e['loc']))}: {reason}")
    return "invalid stack config:\n  " + "\n  ".join(lines)


Check = Callable[[StackConfig], None]  # a further config rule; raises ConfigError


def parse(
    raw: dict[str, Any], stack: str, secret_keys: set[str] | None = None, checks: Sequence[Check] = ()
) -> StackConfig:
    """Validate a `{key: value}` map (keys without namespace). Every problem at once: raises
    one ConfigError listing them all (a ValidationError when field errors are all there is)."""
    return validate(raw, stack, secret_keys or set(), checks, CREDENTIALS_KEY)


CREDENTIALS_KEY = "connectorCredentials"


def _shape(value: Any) -> dict[str, list[str]] | None:
    """{connector: [VAR, ...]} of the credentials object; None when it is not one."""
    try:
        doc = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    return {str(k): sorted(map(str, v)) if isinstance(v, dict) else [] for k, v in doc.items()}


def _raw_from_pulumi() -> tuple[dict[str, Any], set[str]]:
    raw: dict[str, Any] = {}
    secret: set[str] = set()
    prefix = f"{NAMESPACE}:"
    for full, value in _runtime_config.CONFIG.get().items():
        if not full.startswith(prefix):
            continue
        key = full[len(prefix) :]
        if _runtime_config.is_config_secret(full):
            secret.add(key)
        if key == CREDENTIALS_KEY:
            raw[key] = _shape(value)  # names only, for the config check; values stay secret
            continue
        if key in SECRET_KEYS:
            raw[key] = None  # never materialised here; read later as a secret Output
            continue
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value
    return raw, secret


def load(*checks: Check) -> StackConfig:
    """Read `agent-os:*`, validate (plus `checks`, rules of the layers above config), and
    raise one pulumi.RunError naming key paths on failure."""
    raw, secret = _raw_from_pulumi()
    try:
        return parse(raw, pulumi.get_stack(), secret, checks)
    except ConfigError as e:
        raise pulumi.RunError(f"invalid stack config:\n  {e}") from None
    except ValidationError as e:
        raise pulumi.RunError(format_validation_error(e)) from None
