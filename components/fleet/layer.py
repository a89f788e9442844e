"""Fleet layer: the agent-utilities tier (gateway, the one KG host daemon, graph-os, the
ingest and dispatch worker fleets), the MCP connector fleet from the registry, the UIs,
and rung (e) autonomy, all driven by the recipe's config.json switches.

Order inside the layer: everything is planned and checked first (registry, desired state,
image policy, config.json per KG role, every process's effective environment under the
env-alias rule); a problem is one pulumi.RunError before any fleet resource is registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_docker as docker

from shards.deploy import ShardsOutputs

from ..config import CREDENTIALS_KEY, NAMESPACE, StackConfig
from ..config.model import idle_kg_ingest_consumers
from ..core.outputs import CoreOutputs
from ..data.layer import DataOutputs
from ..data.postgres import tenant_rls
from ..swarm import ConfigFile, Platform, swarm_service
from ..swarm.entrypoint import SecretEnv, Wrapped, secrets_entrypoint
from ..swarm.secretvalues import StackSecrets
from .appconfig import ACTION_POLICY_PATH, DESIRED_STATE_PATH, REGISTRY_PATH, render
from .autonomy import render_action_policy
from .connectors import connector_spec
from .plan import GATEWAY_HOST, GATEWAY_URL, GRAPH_OS_HOST, WEBUI_HOST, FleetPlan
from .process import AppContext
from .tier import TierError, plan_tier

__all__ = ["FleetLayer", "FleetOutputs"]


def connector_credentials(
    platform: Platform, cfg: StackConfig, parent: pulumi.Resource
) -> dict[str, Wrapped]:
    """Per connector: its declared credentials as Docker secrets, exported by with-secrets.
    Readable by any uid in that container (the connector images' user is not ours to know);
    only that connector's tasks mount them."""
    declared = cfg.fleet.connector_secrets
    if not declared:
        return {}
    values = pulumi.Config(NAMESPACE).require_secret_object(CREDENTIALS_KEY)
    entry = secrets_entrypoint(platform, "connectors", parent)
    out: dict[str, Wrapped] = {}
    for connector, names in sorted(declared.items()):
        envs = [
            SecretEnv(
                env=name,
                secret=platform.secret(
                    f"{connector}-{name.lower()}",
                    values.apply(lambda d, c=connector, n=name: str(d[c][n])),
                    parent,
                ),
                file_name=name.lower(),
            )
            for name in names
        ]
        out[connector] = entry.wrap(envs, uid="0", gid="0", mode=0o444)
    return out


@dataclass(frozen=True)
class FleetOutputs:
    gateway_url: str  # in-cluster, for clients on the agents overlay
    urls: dict[str, str]  # public (through Caddy): gateway, graph-os, fleet (webui)
    connectors: tuple[str, ...]  # service names, exactly the registry names
    config_json: dict[str, dict[str, Any]]  # per KG role ("host", "client")
    # Effective environment of every app process after the env-alias rule; a secret
    # export shows as "<secret /run/secrets/...>", never a value.
    environments: dict[str, dict[str, str]]
    geniusbot: dict[str, str | None]  # desktop connection profile
    services: dict[str, docker.Service] = field(default_factory=dict[str, docker.Service])


class FleetLayer(pulumi.ComponentResource):
    def __init__(
        self,
        platform: Platform,
        config: StackConfig,
        secrets: StackSecrets,
        plan: FleetPlan,
        data: DataOutputs,
        core: CoreOutputs,
        shards: ShardsOutputs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        cfg = config  # the tier renders config.json from the app's whole configuration
        kc, bao = core.keycloak, core.openbao

        # ---- checks that need the lower layers' outputs, before any fleet resource ----
        registry, selected = plan.connectors.registry, plan.connectors.selected
        desired_text = plan.connectors.desired_text

        if kc is None:
            pulumi.log.warn(
                "fleet: Keycloak is off: no JWT settings in config.json, MCP servers run AUTH_TYPE=none, "
                "agent-webui is not routed"
            )
        if bao is None:
            pulumi.log.warn(
                "fleet: OpenBao is off: no secrets_vault_url; the app keeps its engine secrets backend"
            )
        if idle := idle_kg_ingest_consumers(cfg):
            pulumi.log.warn(f"fleet: {idle}")
        try:
            tier = plan_tier(cfg, plan, data, core, shards)
        except TierError as e:
            raise pulumi.RunError(str(e)) from None
        documents, processes, refs = tier.documents, tier.processes, tier.refs
        environments, langfuse, derived = tier.environments, tier.langfuse, tier.derived
        mcp_auth = tier.mcp_auth

        # ---- resources ----
        super().__init__("agent-os:fleet:Fleet", "fleet", None, opts)
        self.documents = documents
        self.processes = processes
        self.connectors = selected

        secret_values: dict[str, pulumi.Output[str]] = {}
        if cfg.app.state_db:
            secret_values["STATE_DB_URI"] = _dsn(data, data.state_database)
        if cfg.app.graph_db_mirror:
            secret_values["GRAPH_DB_URI"] = _dsn(data, data.kg_database)
        if "VAULT_ROLE_ID" in refs and bao:
            secret_values["VAULT_ROLE_ID"] = bao.approle_role_id
            secret_values["VAULT_SECRET_ID"] = bao.approle_secret_id
        if langfuse:
            secret_values["LANGFUSE_PUBLIC_KEY"] = secrets.value("langfusePublicKey")
            secret_values["LANGFUSE_SECRET_KEY"] = secrets.value("langfuseSecretKey")
        secret_values["FLEET_EVENTS_TOKEN"] = secrets.value("fleetEventsToken")
        if kc:
            secret_values["OIDC_CLIENT_SECRET"] = kc.webui_svc_client_secret
        # Reuse the Docker secrets lower layers already made (one object per value).
        docker_secrets: dict[str, docker.Secret] = {shards.auth.env: shards.auth_secret}
        for env, key in (("VAULT_ROLE_ID", "openbao-role-id"), ("VAULT_SECRET_ID", "openbao-secret-id")):
            if env in secret_values and key in core.docker_secrets:
                docker_secrets[env] = core.docker_secrets[key]
                del secret_values[env]
        for env, value in secret_values.items():
            logical = "app-" + refs[env].file_name.replace("_", "-")
            docker_secrets[env] = platform.secret(logical, value, self)

        config_files = {
            role: platform.config_file(f"fleet-config-json-{role}", render(doc), self)
            for role, doc in documents.items()
        }
        shared = [
            ConfigFile(
                config=platform.config_file(
                    "fleet-action-policy", render_action_policy(cfg.fleet.autonomy.action_policy), self
                ),
                target=ACTION_POLICY_PATH,
            ),
            ConfigFile(
                config=platform.config_file("fleet-registry", registry.to_yaml(list(selected)), self),
                target=REGISTRY_PATH,
            ),
        ]
        if desired_text is not None:
            shared.append(
                ConfigFile(
                    config=platform.config_file("fleet-desired-state", desired_text, self),
                    target=DESIRED_STATE_PATH,
                )
            )
        ctx = AppContext(
            platform=platform,
            entrypoint=secrets_entrypoint(platform, "fleet", self),
            config_files=config_files,
            shared_files=tuple(shared),
            secrets=docker_secrets,
        )

        # Ordering no data carries: schema/topics/realm/AppRole exist and the engines run
        # (with the shared secret) before any client starts.
        db = data.databases
        after: list[pulumi.Resource] = [db.role, db.kg, db.state, *db.extensions, db.graph]
        if data.kafka_ready is not None:
            after.append(data.kafka_ready)
        if kc is not None:
            after.append(kc.ready)
        if bao is not None:
            after.append(bao.ready)
        after += list(shards.services.values())
        services: dict[str, docker.Service] = {}
        for p in processes:
            services[p.name] = swarm_service(platform, ctx.spec(p, tuple(after)), self)
        # Connectors only verify JWTs: they need the realm's JWKS, not its clients and roles.
        connector_after = (kc.jwks_ready or kc.ready,) if kc is not None else ()
        credentials = connector_credentials(platform, cfg, self)
        for c in selected:
            spec = connector_spec(
                cfg,
                c,
                plan.connectors.placements[c.name],
                plan.connectors.images[c.name],
                mcp_auth,
                connector_after,
                credentials.get(c.name),
            )
            services[c.name] = swarm_service(platform, spec, self)
        self.services = services
        # Tenant isolation on the tables the app just created (as their owner, the app role).
        self.tenant_rls = tenant_rls(
            platform,
            data.app_role,
            data.app_password,
            [services[plan.gateway.service], services[plan.kg_daemon.service]],
            self,
        )

        zone = cfg.edge.zone
        urls = {r.host: f"https://{r.fqdn(zone)}" for r in plan.routes}
        self.outputs = FleetOutputs(
            gateway_url=GATEWAY_URL,
            urls=urls,
            connectors=tuple(c.name for c in selected),
            config_json={k: dict(v) for k, v in documents.items()},
            environments=environments,
            geniusbot={
                "gatewayUrl": urls[GATEWAY_HOST],
                "mcpUrl": f"{urls[GRAPH_OS_HOST]}/mcp",
                "issuer": kc.issuer if kc else None,
                "clientId": kc.desktop_client_id if kc else None,
                "audience": derived.audience,
                "fleetSupervisorUrl": urls.get(WEBUI_HOST),
            },
            services=services,
        )
        self.register_outputs(
            {
                "urls": urls,
                "connectors": list(self.outputs.connectors),
                "geniusbot": self.outputs.geniusbot,
            }
        )


def _dsn(data: DataOutputs, database: str) -> pulumi.Output[str]:
    """postgresql://<role>:<password>@<host>:<port>/<db>: a literal DSN (STATE_DB_URI
    accepts nothing else), secret end to end."""
    return pulumi.Output.secret(
        data.app_password.apply(
            lambda pw: (
                f"postgresql://{quote(data.app_role, safe='')}:{quote(pw, safe='')}"
                f"@{data.postgres_host}:{data.postgres_port}/{database}"
            )
        )
    )
