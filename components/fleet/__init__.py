"""Fleet layer: the agent-utilities tier (gateway, the one KG host daemon, graph-os, the
ingest and dispatch worker fleets), the MCP connector fleet from the registry, the UIs,
and rung (e) autonomy, all driven by the recipe's config.json switches.

Order inside the layer: everything is planned and checked first (registry, desired state,
image policy, config.json per KG role, every process's effective environment under the
env-alias rule); a problem is one pulumi.RunError before any fleet resource is registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_docker as docker

from shards.deploy import ShardsOutputs

from ..config import CREDENTIALS_KEY, NAMESPACE, StackConfig
from ..config.app import VaultAuthMethod
from ..core.outputs import CoreOutputs
from ..data import DataOutputs
from ..data.postgres import tenant_rls
from ..swarm import ConfigFile, Platform, swarm_service
from ..swarm.entrypoint import SecretEnv, Wrapped, secrets_entrypoint
from ..swarm.names import GATEWAY_PORT, GATEWAY_SERVICE, KG_DAEMON_SERVICE
from ..swarm.observability import AlertRule, Telemetry
from ..swarm.routes import Route
from ..swarm.secretvalues import StackSecrets
from .appconfig import (
    ACTION_POLICY_PATH,
    DESIRED_STATE_PATH,
    REGISTRY_PATH,
    Derived,
    EnvConflictError,
    config_json,
    render,
)
from .autonomy import render_action_policy
from .connectors import connector_spec
from .dispatch_worker import dispatch_worker
from .gateway import METRICS_JOB, gateway, gateway_route
from .graph_os import graph_os, graph_os_route
from .ingest_worker import ingest_worker
from .kg_daemon import kg_daemon
from .process import AppContext, AppProcess, SecretRef, effective
from .registry import Connector, Registry, RegistryError, apply_desired_state, load_registry
from .terminal_ui import terminal_ui
from .webui import ROUTE_HOST as WEBUI_HOST
from .webui import webui, webui_route

PROJECT_DIR = Path(__file__).resolve().parents[2]

__all__ = ["FleetLayer", "FleetOutputs", "fleet_routes", "fleet_telemetry", "plan_connectors"]


def fleet_routes(cfg: StackConfig) -> list[Route]:
    """The tier's HTTPS routes, from config alone (components/routes.py)."""
    routes = [gateway_route(), graph_os_route()]
    if (ui := webui_route(cfg)) is not None:
        routes.append(ui)
    return routes


def fleet_telemetry(cfg: StackConfig) -> Telemetry:
    """Alert rules for the tier (pure). Gateway replicas and the daemon are scraped through
    the metrics service labels (components/swarm/observability.py)."""
    return Telemetry(
        rules=(
            AlertRule(
                group="agent-utilities",
                alert="KgHostDaemonDown",
                expr=f'absent(up{{job="{KG_DAEMON_SERVICE}"}} == 1)',
                for_="5m",
                severity="critical",
                summary="The KG host daemon is not being scraped (queue ticks and reconciler stop)",
            ),
            AlertRule(
                group="agent-utilities",
                alert="GatewayReplicaDown",
                expr=f'up{{job="{METRICS_JOB}"}} == 0',
                for_="5m",
                severity="warning",
                summary="Gateway replica {{ $labels.instance }} is down",
            ),
        )
    )


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (PROJECT_DIR / p).resolve()


def plan_connectors(cfg: StackConfig) -> tuple[Registry, list[Connector], str | None]:
    """Registry -> desired state -> profile. Raises RegistryError naming file and entry."""
    f = cfg.fleet
    registry = load_registry(_resolve(f.registry_path))
    desired_text: str | None = None
    if f.desired_state_path:
        registry, desired_text = apply_desired_state(registry, _resolve(f.desired_state_path))
    return registry, registry.select(f.profile), desired_text


def connector_identities(cfg: StackConfig) -> list[tuple[str, str]]:
    """(service name, registry image) of every connector the fleet deploys (pure)."""
    try:
        _, selected, _ = plan_connectors(cfg)
    except RegistryError as e:
        raise pulumi.RunError(f"fleet registry: {e}") from None
    unknown = sorted(set(cfg.fleet.connector_secrets) - {c.name for c in selected})
    if unknown:
        raise pulumi.RunError(
            f"invalid stack config:\n  agent-os:fleet.connectorSecrets: {', '.join(unknown)} "
            f"not deployed by this stack (profile {cfg.fleet.profile!r})"
        )
    return [(c.name, c.image) for c in selected]


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


def _is_latest(ref: str) -> bool:
    last = ref.rsplit("/", 1)[-1]
    return "@" not in ref and (last.endswith(":latest") or ":" not in last)


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
        secrets: StackSecrets,
        data: DataOutputs,
        core: CoreOutputs,
        shards: ShardsOutputs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        cfg = platform.cfg
        i = cfg.integrations
        kc, bao, lgtm = core.keycloak, core.openbao, core.lgtm

        # ---- plan (pure): every check happens before any fleet resource exists ----
        try:
            registry, selected, desired_text = plan_connectors(cfg)
        except RegistryError as e:
            raise pulumi.RunError(f"fleet registry: {e}") from None
        images = {
            c.name: cfg.images.resolve(c.image_ref(str(registry.defaults.get("image_registry", ""))))
            for c in selected
        }
        latest = sorted(n for n, ref in images.items() if _is_latest(ref))
        if latest and not cfg.images.allow_latest_connectors:
            raise pulumi.RunError(
                f"fleet registry {registry.path}: {len(latest)} connector image(s) are ':latest' "
                f"({', '.join(latest[:5])}{', ...' if len(latest) > 5 else ''}); set "
                "agent-os:images.allowLatestConnectors true, or pin each `version` in the "
                "desired-state file (agent-os:fleet.desiredStatePath)"
            )

        if kc is None:
            pulumi.log.warn(
                "fleet: Keycloak is off: no JWT settings in config.json, MCP servers run AUTH_TYPE=none, "
                "agent-webui is not routed"
            )
        if bao is None:
            pulumi.log.warn(
                "fleet: OpenBao is off: no secrets_vault_url; the app keeps its engine secrets backend"
            )
        derived = Derived(
            kafka_bootstrap=data.kafka_bootstrap,
            topic_partitions=tuple(data.topic_partitions.items()),
            vault_url=bao.internal_url if bao else None,
            vault_mount=bao.kv_mount if bao else None,
            jwks_uri=kc.internal_jwks_uri if kc else None,
            issuer=kc.issuer if kc else None,
            audience=(cfg.app.auth_jwt_audience or kc.api_client_id) if kc else None,
            graph_service_endpoints=tuple(shards.endpoints),
            otlp_traces_endpoint=lgtm.otlp_traces_endpoint if lgtm else None,
            desired_state=desired_text is not None,
        )
        documents = {role: config_json(cfg, derived, role) for role in ("host", "client")}
        mcp_auth = (
            {
                "AUTH_TYPE": "jwt",
                "FASTMCP_SERVER_AUTH_JWT_JWKS_URI": kc.internal_jwks_uri,
                "FASTMCP_SERVER_AUTH_JWT_ISSUER": kc.issuer,
                "FASTMCP_SERVER_AUTH_JWT_AUDIENCE": derived.audience or kc.api_client_id,
            }
            if kc
            else {"AUTH_TYPE": "none"}
        )

        refs: dict[str, SecretRef] = {}

        def ref(env: str, file_name: str) -> SecretRef:
            refs[env] = SecretRef(env, file_name)
            return refs[env]

        common: list[SecretRef] = [ref(shards.auth.env, shards.auth.file_name)]
        if cfg.app.state_db:
            common.append(ref("STATE_DB_URI", "state_db_uri"))
        if cfg.app.graph_db_mirror:
            common.append(ref("GRAPH_DB_URI", "graph_db_uri"))
        if bao and cfg.app.vault_auth_method in (VaultAuthMethod.APPROLE, VaultAuthMethod.AUTO):
            common += [ref("VAULT_ROLE_ID", "vault_role_id"), ref("VAULT_SECRET_ID", "vault_secret_id")]
        langfuse = bool(i.langfuse and cfg.app.langfuse_host)
        if langfuse:
            common += [
                ref("LANGFUSE_PUBLIC_KEY", "langfuse_public_key"),
                ref("LANGFUSE_SECRET_KEY", "langfuse_secret_key"),
            ]
        base = tuple(common)
        events = ref("FLEET_EVENTS_TOKEN", "fleet_events_token")
        svc_secret = ref("OIDC_CLIENT_SECRET", "oidc_client_secret") if kc else None

        processes: list[AppProcess] = [
            gateway(cfg, base, events),
            kg_daemon(cfg, base, events, lgtm.prometheus_url if lgtm else None),
            graph_os(cfg, base, mcp_auth),
        ]
        if cfg.app.task_queue_backend.value == "kafka":
            processes.append(ingest_worker(cfg, base))
        if cfg.app.agent_dispatch_backend.value == "queue":
            processes.append(dispatch_worker(cfg, base))
        if cfg.fleet.webui.enabled:
            processes.append(webui(cfg, base, kc, svc_secret))
        if cfg.fleet.terminal_ui.enabled:
            processes.append(terminal_ui(cfg))

        names = [p.name for p in processes] + [c.name for c in selected]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise pulumi.RunError(
                f"fleet registry {registry.path}: service name(s) {clash} are taken by the tier"
            )
        hosts = [p.name for p in processes if p.role == "host" and p.replicas]
        if hosts != [KG_DAEMON_SERVICE]:
            raise pulumi.RunError(f"fleet: exactly one KG host daemon must run, planned {hosts}")
        environments: dict[str, dict[str, str]] = {}
        try:
            for p in processes:
                environments[p.name] = {k: str(v) for k, v in effective(p, documents).items()}
        except EnvConflictError as e:
            raise pulumi.RunError(f"fleet: refusing a conflicting env/config.json pair: {e}") from None
        for name, env in environments.items():
            if env.get("KG_DAEMON_ROLE", "client") == "host" and name != KG_DAEMON_SERVICE:
                raise pulumi.RunError(f"fleet: {name} would be a second KG host")

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
                config=platform.config_file("fleet-registry", registry.to_yaml(selected), self),
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
            spec = connector_spec(cfg, c, images[c.name], mcp_auth, connector_after, credentials.get(c.name))
            services[c.name] = swarm_service(platform, spec, self)
        self.services = services
        # Tenant isolation on the tables the app just created (as their owner, the app role).
        self.tenant_rls = tenant_rls(
            platform, data.app_password, [services[GATEWAY_SERVICE], services[KG_DAEMON_SERVICE]], self
        )

        zone = cfg.edge.zone
        urls = {r.host: f"https://{r.fqdn(zone)}" for r in fleet_routes(cfg)}
        self.outputs = FleetOutputs(
            gateway_url=f"http://{GATEWAY_SERVICE}:{GATEWAY_PORT}",
            urls=urls,
            connectors=tuple(c.name for c in selected),
            config_json={k: dict(v) for k, v in documents.items()},
            environments=environments,
            geniusbot={
                "gatewayUrl": urls["gateway"],
                "mcpUrl": f"{urls['graph-os']}/mcp",
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
