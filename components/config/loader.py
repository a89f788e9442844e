"""Read the `agent-os:` stack config from the Pulumi runtime and validate it (the one
place config touches Pulumi): a problem is one pulumi.RunError naming every key path."""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as _runtime_config
from pydantic import ValidationError

from . import CREDENTIALS_KEY, NAMESPACE, Check, ConfigError, StackConfig, format_validation_error, parse
from .secrets import SECRET_KEYS


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
