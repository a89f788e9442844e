"""config.json from stack config + lower-layer outputs, and the app's env-alias rule.

Pure: no Pulumi resources. The layer computes every process's effective environment here
before it registers anything, and refuses a conflicting pair.

The env-alias rule (platform.md §3, HRW loader): each top-level config.json key `k` becomes
env `k.upper()` only where that variable is unset; lists/dicts -> json.dumps, null -> "",
anything else -> str(v) (so true -> "True"). Precedence: env > config.json > defaults.

Design (see README "agent-utilities tier"):
- config.json holds what every app process shares. It is a plain Swarm config, so it never
  holds secret material: the DSNs (they embed the app role's password), the engine HMAC,
  the AppRole credentials, Langfuse keys and the events token reach processes as Docker
  secret files that the `with-secrets` entrypoint exports to env.
- Per-process settings (listeners, KG_DAEMON_ROLE, autonomy) are env. KG_DAEMON_ROLE is
  also written into each role's config.json with the same value, because the loader
  ignores a broken config.json silently and the role must never default to `auto`.
- A key set in both places must carry the same value. A secret env var can never equal a
  plain config.json value, so a key delivered as a secret must not appear in config.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import StackConfig
from ..config.app import alias_value

CONFIG_DIR = "/etc/agent-utilities"
CONFIG_PATH = f"{CONFIG_DIR}/config.json"
ACTION_POLICY_PATH = f"{CONFIG_DIR}/action-policy.yml"
REGISTRY_PATH = f"{CONFIG_DIR}/mcp-fleet.registry.yml"
DESIRED_STATE_PATH = f"{CONFIG_DIR}/mcp-fleet.desired.yml"
# Topics whose partition count the app grows to a setting of its own (core/config.py).
PARTITION_KEYS = {"kg_tasks": "kg_tasks_partitions", "agent_turns": "agent_turns_partitions"}

__all__ = [
    "CONFIG_PATH",
    "Derived",
    "EnvConflictError",
    "FromSecret",
    "alias_value",
    "config_json",
    "effective_env",
    "render",
]


@dataclass(frozen=True)
class FromSecret:
    """An env var the entrypoint sets at start from a Docker secret file."""

    path: str

    def __str__(self) -> str:
        return f"<secret {self.path}>"


EnvValue = str | FromSecret


class EnvConflictError(ValueError):
    def __init__(self, process: str, conflicts: list[tuple[str, str, str]]) -> None:
        lines = [f"{k}: env {e} vs config.json {c!r}" for k, e, c in conflicts]
        super().__init__(
            f"{process}: the same setting is given in env and in config.json with different values "
            "(env would silently win): " + "; ".join(lines)
        )
        self.process = process
        self.conflicts = conflicts


@dataclass(frozen=True)
class Derived:
    """Plain values other layers own (never typed twice in stack config)."""

    kafka_bootstrap: str | None = None
    vault_url: str | None = None
    vault_mount: str | None = None
    jwks_uri: str | None = None
    issuer: str | None = None
    audience: str | None = None
    graph_service_endpoints: tuple[str, ...] = ()
    otlp_traces_endpoint: str | None = None  # Tempo (LGTM), full .../v1/traces URL
    desired_state: bool = False
    # Partitions of the topics the data layer creates: the app "ensures" (grows) its topics
    # to KG_TASKS_PARTITIONS / AGENT_TURNS_PARTITIONS at start, so they must agree.
    topic_partitions: tuple[tuple[str, int], ...] = ()


def config_json(cfg: StackConfig, d: Derived, role: str) -> dict[str, Any]:
    """The config.json an app process of KG role `role` reads."""
    app = cfg.app
    i = cfg.integrations
    out: dict[str, Any] = {}
    if app.graph_backend is not None:
        out["graph_backend"] = app.graph_backend.value
    out["kg_daemon_role"] = role
    out["task_queue_backend"] = app.task_queue_backend.value
    if d.kafka_bootstrap:
        out["kafka_bootstrap_servers"] = d.kafka_bootstrap
    for topic, partitions in d.topic_partitions:
        if topic in PARTITION_KEYS:
            out[PARTITION_KEYS[topic]] = partitions
    out["agent_dispatch_backend"] = app.agent_dispatch_backend.value
    if d.vault_url:
        out["secrets_backend"] = "vault"
        out["secrets_vault_url"] = d.vault_url
        if d.vault_mount:
            out["secrets_vault_mount"] = d.vault_mount
        out["vault_auth_method"] = app.vault_auth_method.value
    out["kg_auth_required"] = app.kg_auth_required
    if d.jwks_uri and d.issuer:
        out["auth_jwt_jwks_uri"] = d.jwks_uri
        out["auth_jwt_issuer"] = d.issuer
        if d.audience:
            out["auth_jwt_audience"] = d.audience
    langfuse = i.langfuse and app.langfuse_host
    otel_target = bool(langfuse or d.otlp_traces_endpoint)
    out["enable_otel"] = app.enable_otel and otel_target
    if out["enable_otel"]:
        if langfuse:
            # platform.md §2: an explicit endpoint wins over the Langfuse-derived one.
            out["otel_exporter_otlp_endpoint"] = f"{str(app.langfuse_host).rstrip('/')}/api/public/otel"
        elif d.otlp_traces_endpoint:
            out["otel_exporter_otlp_traces_endpoint"] = d.otlp_traces_endpoint
    if langfuse:
        out["langfuse_host"] = str(app.langfuse_host).rstrip("/")
        out["langfuse_capture_content"] = app.langfuse_capture_content
    if d.graph_service_endpoints:
        out["graph_service_endpoints"] = list(d.graph_service_endpoints)
    out["action_policy_path"] = ACTION_POLICY_PATH
    out["fleet_registry_path"] = REGISTRY_PATH
    if d.desired_state:
        out["fleet_desired_state_path"] = DESIRED_STATE_PATH
    out["fleet_mcp_url_template"] = cfg.fleet.mcp_url_template
    out.update(app.extra)
    return out


def render(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def effective_env(
    process: str, env: Mapping[str, EnvValue], config: Mapping[str, Any]
) -> dict[str, EnvValue]:
    """The environment `process` ends up with after the app's loader ran; raises
    EnvConflictError for a setting given in env and config.json with different values."""
    out: dict[str, EnvValue] = dict(env)
    conflicts: list[tuple[str, str, str]] = []
    seen: dict[str, str] = {}
    for key, value in config.items():
        alias = key.upper()
        if alias in seen:
            raise EnvConflictError(process, [(alias, f"config.json key {seen[alias]!r}", key)])
        seen[alias] = key
        text = alias_value(value)
        if alias in env:
            current = env[alias]
            if isinstance(current, FromSecret) or current != text:
                conflicts.append((alias, repr(current) if isinstance(current, str) else str(current), text))
            continue
        out[alias] = text
    if conflicts:
        raise EnvConflictError(process, conflicts)
    return out
