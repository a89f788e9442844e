"""Core layer settings: OpenBao, Keycloak, Portainer and LGTM (per-component knobs).

The integration toggles themselves live in `integrations`; this section sizes and tunes
what the toggles switch on. Admin URLs default to the Caddy route (https://<host>.<zone>);
set them when the operator's machine reaches the service another way (a tunnel).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import ConfigModel, HttpUrl
from .resources import Resources

PG_NAME = r"^[a-z_][a-z0-9_]{0,62}$"
PATH = r"^[a-z0-9][a-z0-9_/-]{0,62}[a-z0-9]$"


class OpenBaoConfig(ConfigModel):
    # Raft members, one Swarm service each (bao-1..N), pinned by node label openbao==N.
    # Odd, so a quorum survives (N-1)/2 failures.
    members: Annotated[int, Field(ge=1, le=7)] = 1
    resources: Resources = Resources(memory="512m", cpus=0.5)
    node_label: str = "openbao"
    kv_mount: Annotated[str, Field(pattern=PATH)] = "secret"
    # Everything this stack writes to KV lives under <kvMount>/<pathPrefix>/...
    path_prefix: Annotated[str, Field(pattern=PATH)] = "platform"
    approle_mount: Annotated[str, Field(pattern=PATH)] = "approle"
    app_role: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = "agent-utilities"
    token_ttl: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "1h"
    token_max_ttl: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "24h"
    # Recovery shares returned by the one-time init (auto-unseal: recovery keys, not unseal keys).
    recovery_shares: Annotated[int, Field(ge=1, le=10)] = 1
    recovery_threshold: Annotated[int, Field(ge=1, le=10)] = 1
    seal_key_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "agent-os-1"
    admin_url: HttpUrl | None = None  # default https://openbao.<zone>

    @property
    def member_names(self) -> list[str]:
        return [f"bao-{n}" for n in range(1, self.members + 1)]


class KeycloakConfig(ConfigModel):
    resources: Resources = Resources(memory="1g", cpus=1.0)
    replicas: Annotated[int, Field(ge=1, le=5)] = 1
    realm: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")] = "agents"
    database: Annotated[str, Field(pattern=PG_NAME)] = "keycloak"
    db_role: Annotated[str, Field(pattern=PG_NAME)] = "keycloak"
    admin_user: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = "admin"
    # The realm's first person (kg:admin, webui:admin), so a fresh stack can be used at all.
    # Password: agent-os:platformAdminPassword (secret), generated when unset.
    platform_admin: Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,62}$")] = "platform-admin"
    start_period: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "180s"
    admin_url: HttpUrl | None = None  # default https://sso.<zone>
    client_timeout_seconds: Annotated[int, Field(ge=5, le=300)] = 30


class GitOpsConfig(ConfigModel):
    # The repository holding your stack files: nothing in this stack serves one, so there is
    # no default (required when agent-os:integrations.gitops is on). No credentials inside.
    repo_url: Annotated[str | None, Field(pattern=r"^(https|ssh)://[^/@\s]+/\S+$")] = None
    path: str = "stacks/connectors/docker-compose.yml"
    ref: str = "refs/heads/main"
    stack_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = "mcp-fleet"
    # The Portainer environment the stack goes to, by name (the agent the server starts
    # with is "primary"), never "whichever comes first".
    endpoint: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$")] = "primary"
    # Portainer polls the repository at this interval (Portainer duration syntax).
    poll_interval: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "5m"


class PortainerConfig(ConfigModel):
    resources: Resources = Resources(memory="512m", cpus=0.5)
    agent_resources: Resources = Resources(memory="128m", cpus=0.25)
    node_label: str = "portainer"
    admin_user: str = "admin"
    admin_url: HttpUrl | None = None  # default https://portainer.<zone>
    gitops: GitOpsConfig = GitOpsConfig()


class AlertThresholds(ConfigModel):
    # The pinned release's gauge of unclaimed dispatched turns (agent_turns queue), not
    # the kg-ingest one (agent_utilities.observability.gateway_metrics, 0.52.0).
    dispatch_queue_metric: Annotated[str, Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")] = (
        "agent_utilities_dispatch_queue_depth"
    )
    dispatch_queue_depth: Annotated[int, Field(ge=1)] = 500
    ingest_consumer_lag: Annotated[int, Field(ge=1)] = 10_000


class LgtmConfig(ConfigModel):
    # Stateful LGTM members (prometheus, alertmanager, loki, tempo, grafana) are pinned
    # to node.labels.<nodeLabel>==true; Prometheus additionally to a manager (Swarm SD).
    node_label: str = "observability"
    retention: Annotated[str, Field(pattern=r"^[0-9]+[hdw]$")] = "15d"
    scrape_interval: Annotated[str, Field(pattern=r"^[0-9]+[sm]$")] = "15s"
    prometheus: Resources = Resources(memory="2g", cpus=1.0)
    alertmanager: Resources = Resources(memory="256m", cpus=0.25)
    loki: Resources = Resources(memory="1g", cpus=0.5)
    tempo: Resources = Resources(memory="1g", cpus=0.5)
    grafana: Resources = Resources(memory="512m", cpus=0.5)
    exporters: Resources = Resources(memory="128m", cpus=0.25)
    thresholds: AlertThresholds = AlertThresholds()


class CoreConfig(ConfigModel):
    openbao: OpenBaoConfig = OpenBaoConfig()
    keycloak: KeycloakConfig = KeycloakConfig()
    portainer: PortainerConfig = PortainerConfig()
    lgtm: LgtmConfig = LgtmConfig()
