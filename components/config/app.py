"""agent-utilities switches: the recipe's enterprise config.json mapped to stack config.

One field per key of the recipe's config.json (docs/recipes/enterprise.md, platform.md
§4.1). Keys whose values another layer owns are switches here, never values: the fleet
layer derives the value from that layer's outputs (DSNs from data, JWKS/issuer from
Keycloak, the vault URL from OpenBao, brokers from Kafka, endpoints from shards).

| config.json key            | stack config (agent-os:app.)  | value from                       |
|----------------------------|-------------------------------|----------------------------------|
| graph_backend              | graphBackend (default unset)  | this field                       |
| graph_db_uri               | graphDbMirror                 | data layer, Docker secret (env)  |
| kg_daemon_role             | (per process)                 | fleet layer: one host, rest client |
| state_db_uri               | stateDb                       | data layer, Docker secret (env)  |
| task_queue_backend         | taskQueueBackend              | this field                       |
| kafka_bootstrap_servers    | (integrations.kafka)          | data layer                       |
| agent_dispatch_backend     | agentDispatchBackend          | this field                       |
| secrets_vault_url          | (integrations.openbao)        | core layer (OpenBao)             |
| vault_auth_method          | vaultAuthMethod               | this field                       |
| kg_auth_required           | kgAuthRequired                | this field                       |
| auth_jwt_jwks_uri / _issuer| (integrations.keycloak)       | core layer (Keycloak)            |
| enable_otel                | enableOtel                    | this field (and a target exists) |
| otel_exporter_otlp_endpoint| (integrations.langfuse)       | langfuseHost + /api/public/otel  |
| langfuse_host              | langfuseHost                  | this field (Langfuse is external)|
| graph_service_endpoints    | (shards)                      | shards layer, byte-identical     |

`extra` passes further config.json keys through (newer agent-utilities releases,
platform.md appendix A); `extraEnv` does the same for process environment.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from .base import ConfigModel, HttpUrl


class QueueBackend(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"
    KAFKA = "kafka"


class DispatchBackend(StrEnum):
    INLINE = "inline"
    QUEUE = "queue"


class GraphBackend(StrEnum):
    """HRW-era selector. Retired at HEAD (boot fails), so it is only written when set."""

    TIERED = "tiered"
    FANOUT = "fanout"


class VaultAuthMethod(StrEnum):
    APPROLE = "approle"
    JWT = "jwt"
    TOKEN = "token"
    AUTO = "auto"


# config.json keys the program renders from typed fields or lower layers. `extra` may not
# repeat them (a value is typed once), and `extraEnv` may not shadow them.
TYPED_KEYS: frozenset[str] = frozenset(
    {
        "graph_backend",
        "graph_db_uri",
        "kg_daemon_role",
        "state_db_uri",
        "task_queue_backend",
        "kafka_bootstrap_servers",
        "agent_dispatch_backend",
        "secrets_vault_url",
        "vault_url",
        "vault_auth_method",
        "vault_role_id",
        "vault_secret_id",
        "secrets_backend",
        "secrets_vault_mount",
        "kg_auth_required",
        "auth_jwt_jwks_uri",
        "auth_jwt_issuer",
        "auth_jwt_audience",
        "enable_otel",
        "otel_exporter_otlp_endpoint",
        "otel_exporter_otlp_traces_endpoint",
        "langfuse_host",
        "langfuse_public_key",
        "langfuse_secret_key",
        "langfuse_capture_content",
        "graph_service_endpoints",
        "graph_service_auth_secret",
        "action_policy_path",
        "fleet_registry_path",
        "fleet_desired_state_path",
        "fleet_mcp_url_template",
    }
)

# Environment the program sets per process (listeners, role, autonomy, secret files).
# `extraEnv` may not set them and `extra` may not alias them.
PROGRAM_ENV: frozenset[str] = frozenset(
    {
        "HOST",
        "PORT",
        "TRANSPORT",
        "KG_DAEMON_ROLE",
        "GATEWAY_WORKERS",
        "AGENT_UTILITIES_CONFIG_DIR",
        "AGENT_UTILITIES_DATA_DIR",
        "SECRETS_TO_ENV",
        "FLEET_RECONCILER",
        "FLEET_RECONCILER_INTERVAL",
        "FLEET_RECONCILER_MAX_ACTIONS",
        "FLEET_ACTUATOR",
        "FLEET_AUTOSCALER",
        "FLEET_AUTOSCALER_INTERVAL",
        "SCALING_PROMETHEUS_URL",
        "FLEET_EVENTS_TOKEN",
        "AUTH_TYPE",
        "AGENT_URL",
    }
)

# platform.md appendix A: config.json must never hold secret material.
SECRET_SUFFIXES = (
    "_API_KEY",
    "_ENCRYPTION_KEY",
    "_HMAC_KEY",
    "_PASSWORD",
    "_PRIVATE_KEY",
    "_SECRET",
    "_SECRET_KEY",
    "_SIGNING_KEY",
    "_TOKEN",
    "_SECRET_ID",
)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_secret_key(key: str) -> bool:
    k = key.upper()
    return not k.endswith("_REF") and (k.endswith(SECRET_SUFFIXES) or "PASSWORD" in k)


def alias_value(value: Any) -> str:
    """How the app turns a config.json value into its env alias (platform.md §3.3):
    list/dict -> json.dumps, null -> "", anything else -> str(v) (so true -> "True")."""
    if isinstance(value, list | dict):
        return json.dumps(value)
    if value is None:
        return ""
    return str(value)


class AppConfig(ConfigModel):
    # graph_backend: HEAD aborts boot on it and the docs disagree (recipe "tiered",
    # platform.md "fanout"); graph_service_endpoints decides single vs HRW. Unset = omitted.
    graph_backend: GraphBackend | None = None
    # graph_db_uri / state_db_uri: the DSNs carry the app role's password, so they reach
    # processes as Docker secrets exported to env, never through config.json.
    graph_db_mirror: bool = True
    state_db: bool = True
    task_queue_backend: QueueBackend = QueueBackend.KAFKA
    agent_dispatch_backend: DispatchBackend = DispatchBackend.QUEUE
    vault_auth_method: VaultAuthMethod = VaultAuthMethod.APPROLE
    kg_auth_required: bool = True
    # Audience of the app's JWTs (platform.md §7): the Keycloak client id by default.
    auth_jwt_audience: str | None = None
    enable_otel: bool = True
    # Langfuse is not deployed by this program; where it runs (https in prod).
    langfuse_host: HttpUrl | None = None
    langfuse_capture_content: bool = False
    # Pass-through for newer agent-utilities releases (platform.md appendix A).
    extra: dict[str, Any] = Field(default_factory=dict)
    extra_env: dict[str, str] = Field(default_factory=dict)

    @field_validator("extra")
    @classmethod
    def _extra(cls, v: dict[str, Any]) -> dict[str, Any]:
        seen: dict[str, str] = {}
        for key in v:
            if not _KEY.match(key):
                raise ValueError(f"extra key {key!r} is not an env-alias name ([A-Za-z_][A-Za-z0-9_]*)")
            up = key.upper()
            if up in seen:
                raise ValueError(f"extra keys {seen[up]!r} and {key!r} are the same env alias {up}")
            seen[up] = key
            if key.lower() in TYPED_KEYS:
                raise ValueError(
                    f"extra key {key!r} is rendered by the program (typed field or derived from a layer)"
                )
            if up in PROGRAM_ENV:
                raise ValueError(f"extra key {key!r} would alias {up}, which the program sets per process")
            if is_secret_key(key):
                raise ValueError(
                    f"extra key {key!r} names a secret; config.json is a plain Swarm config "
                    "(use a *_REF key, e.g. vault://...)"
                )
        return v

    @field_validator("extra_env")
    @classmethod
    def _extra_env(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not _KEY.match(key) or key != key.upper():
                raise ValueError(f"extraEnv key {key!r} must be an upper-case env name")
            if key in PROGRAM_ENV or key.lower() in TYPED_KEYS:
                raise ValueError(f"extraEnv key {key!r} is set by the program")
            if is_secret_key(key):
                raise ValueError(f"extraEnv key {key!r} names a secret; env values are plain service specs")
        return v

    @model_validator(mode="after")
    def _no_conflicting_pair(self) -> AppConfig:
        # The env-alias rule (platform.md §3): the same setting in env and config.json
        # with different values is refused here, before any resource exists.
        for key, value in self.extra.items():
            env_key = key.upper()
            if env_key in self.extra_env and self.extra_env[env_key] != alias_value(value):
                raise ValueError(
                    f"conflicting pair: extraEnv {env_key}={self.extra_env[env_key]!r} and extra "
                    f"{key}={alias_value(value)!r} (config.json); set it in one place"
                )
        return self
