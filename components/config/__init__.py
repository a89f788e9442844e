"""Load and validate the whole `agent-os:` stack config once, before any resource exists."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
from pulumi.runtime import config as _runtime_config
from pydantic import ValidationError

from .model import ConfigError, StackConfig
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
    """Validate a `{key: value}` map (keys without namespace). Raises ConfigError/ValidationError."""
    secret_keys = secret_keys or set()
    for key in raw:
        if key in SECRET_KEYS:
            if key not in secret_keys:
                raise ConfigError(
                    f"{NAMESPACE}:{key}",
                    f"is a secret; set it with `pulumi config set --secret {NAMESPACE}:{key}`",
                )
        elif key not in SECTIONS:
            known = sorted(SECTIONS | set(SECRET_KEYS))
            raise ConfigError(f"{NAMESPACE}:{key}", f"unknown key (known keys: {', '.join(known)})")
    sections = {k: v for k, v in raw.items() if k in SECTIONS}
    for key, value in sections.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{NAMESPACE}:{key}", "must be an object (use `pulumi config set --path`)")
    cfg = StackConfig.model_validate({**sections, "stack": stack})
    cfg.check_consistency()
    for check in checks:
        check(cfg)
    declared = cfg.fleet.connector_secrets
    if declared:
        shape = raw.get(CREDENTIALS_KEY)
        if not isinstance(shape, dict):
            raise ConfigError(
                f"{NAMESPACE}:{CREDENTIALS_KEY}",
                "is required by agent-os:fleet.connectorSecrets (a secret object {connector: {VAR: value}})",
            )
        for connector, names in sorted(declared.items()):
            for name in names:
                if name not in shape.get(connector, []):
                    raise ConfigError(
                        f"{NAMESPACE}:{CREDENTIALS_KEY}.{connector}.{name}",
                        "is not set; `pulumi config set --secret --path "
                        f"'{NAMESPACE}:{CREDENTIALS_KEY}.{connector}.{name}'`",
                    )
    for key, why in cfg.external_secrets():
        if key not in raw:
            raise ConfigError(
                f"{NAMESPACE}:{key}",
                f"is required {why}; set it with `pulumi config set --secret {NAMESPACE}:{key}`",
            )
    return cfg


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
