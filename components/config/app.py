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
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from .base import ConfigModel, HttpUrl, Loc, credentials_in, is_secret_name, raise_all, value_credentials


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
        "kg_tasks_partitions",
        "agent_turns_partitions",
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

# Environment the program sets on the agent-utilities processes (components/fleet: gateway,
# kg-daemon, graph-os, the workers, agent-webui): listeners, role, autonomy, auth, and the
# secret files exported at start (SECRETS_TO_ENV). `extraEnv` may not set them and `extra`
# may not alias them. Config imports no other project package, so this restates what those
# modules set: tests/config/test_config_declarations.py runs the program and fails when a process
# gets env (or config.json a key) that these declarations do not cover.
PROGRAM_ENV: frozenset[str] = frozenset(
    {
        "HOST",
        "PORT",
        "TRANSPORT",
        "KG_DAEMON_ROLE",
        "GATEWAY_WORKERS",
        "KG_INGESTION_WORKERS",
        "AGENT_UTILITIES_CONFIG_DIR",
        "AGENT_UTILITIES_DATA_DIR",
        "WORKSPACE_PATH",
        "AGENT_WORKSPACE",
        "HOME",
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
        "WEBUI_PUBLIC_URL",
        "GRAPH_SERVICE_AUTH_SECRET",
        "STATE_DB_URI",
        "GRAPH_DB_URI",
        "VAULT_ROLE_ID",
        "VAULT_SECRET_ID",
        "LANGFUSE_PUBLIC_KEY",
        "LANGFUSE_SECRET_KEY",
    }
)
# Whole families the program derives from Keycloak: the web UI's sign-in (OIDC_*,
# WEBUI_OIDC_*) and the MCP servers' JWT check (FASTMCP_SERVER_AUTH_*).
PROGRAM_ENV_PREFIXES: tuple[str, ...] = ("OIDC_", "WEBUI_OIDC_", "FASTMCP_SERVER_AUTH_")
# What the program sets on every MCP connector; a connector credential may not shadow it.
CONNECTOR_ENV: frozenset[str] = frozenset(
    {"HOST", "PORT", "TRANSPORT", "AUTH_TYPE", "EUNOMIA_TYPE", "EUNOMIA_REMOTE_URL", "SECRETS_TO_ENV"}
)
# The images' runtime: which code runs, and how. Never stack config.
RUNTIME_ENV: frozenset[str] = frozenset(
    {"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE"}
)


def program_env_reason(name: str) -> str | None:
    """Why env `name` is the program's to set on the agent-utilities processes, or None."""
    if name in PROGRAM_ENV or name.lower() in TYPED_KEYS:
        return "is set by the program"
    for prefix in PROGRAM_ENV_PREFIXES:
        if name.startswith(prefix):
            return f"is set by the program ({prefix}* are derived from Keycloak)"
    return None


def connector_env_reason(name: str) -> str | None:
    """Why a connector may not receive env `name` as a credential, or None."""
    if name in CONNECTOR_ENV or name.startswith("FASTMCP_SERVER_AUTH_"):
        return "is set on every connector by the program"
    if name in RUNTIME_ENV:
        return "belongs to the image's runtime, not to stack config"
    return None


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_secret_key(key: str) -> bool:
    """A config.json/env key that names a credential (base.is_secret_name): platform.md
    appendix A, config.json never holds secret material, and neither does a service's env."""
    return is_secret_name(key)


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
    auth_jwt_audience: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}$")] | None = None
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
        found: list[tuple[Loc, str]] = []
        seen: dict[str, str] = {}
        for key, value in v.items():
            if not _KEY.match(key):
                found.append(((key,), "is not an env-alias name ([A-Za-z_][A-Za-z0-9_]*)"))
                continue
            up = key.upper()
            if up in seen:
                found.append(((key,), f"extra keys {seen[up]!r} and {key!r} are the same env alias {up}"))
            seen[up] = key
            if key.lower() in TYPED_KEYS:
                found.append(((key,), "is rendered by the program (typed field or derived from a layer)"))
            elif program_env_reason(up) is not None:
                found.append(((key,), f"would alias {up}, which the program sets per process"))
            elif is_secret_key(key):
                found.append(
                    (
                        (key,),
                        "names a secret; config.json is a plain Swarm config (use a *_REF key, e.g. vault://...)",
                    )
                )
            else:
                found += credentials_in(value, (key,))
        raise_all(found, v)
        return v

    @field_validator("extra_env")
    @classmethod
    def _extra_env(cls, v: dict[str, str]) -> dict[str, str]:
        found: list[tuple[Loc, str]] = []
        for key, value in v.items():
            if not _KEY.match(key) or key != key.upper():
                found.append(((key,), "must be an upper-case env name"))
            elif (why := program_env_reason(key)) is not None:
                found.append(((key,), why))
            elif key in RUNTIME_ENV:
                found.append(((key,), "belongs to the image's runtime, not to stack config"))
            elif is_secret_key(key):
                found.append(((key,), "names a secret; env values are plain service specs"))
            elif why := value_credentials(value):
                found.append(((key,), f"{why}; env values are plain service specs"))
        raise_all(found, v)
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
