"""The tier, rendered before any fleet resource exists (no resources here): config.json per
KG role from the lower layers' typed outputs, the secret files every process reads, each
process, and its effective environment under the env-alias rule. A problem is a TierError,
which the layer raises as one pulumi.RunError before registering anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shards.deploy import ShardsOutputs

from ..config import StackConfig
from ..config.app import VaultAuthMethod
from ..core.outputs import CoreOutputs
from ..data.layer import DataOutputs
from .appconfig import Derived, EnvConflictError, config_json
from .dispatch_worker import dispatch_worker
from .gateway import gateway
from .graph_os import graph_os
from .ingest_worker import ingest_worker
from .kg_daemon import kg_daemon
from .plan import FleetPlan
from .process import AppProcess, SecretRef, effective
from .terminal_ui import terminal_ui
from .webui import webui


class TierError(ValueError):
    """The tier cannot run as planned (a second KG host, a conflicting env pair)."""


@dataclass(frozen=True)
class Tier:
    derived: Derived
    documents: dict[str, dict[str, Any]]  # config.json per KG role ("host", "client")
    processes: list[AppProcess]
    refs: dict[str, SecretRef]  # env name -> the secret file every process may read
    environments: dict[str, dict[str, str]]  # effective env per process (secrets as paths)
    langfuse: bool
    mcp_auth: dict[str, str]  # the MCP servers' auth env (graph-os and every connector)


def plan_tier(
    cfg: StackConfig, plan: FleetPlan, data: DataOutputs, core: CoreOutputs, shards: ShardsOutputs
) -> Tier:
    i = cfg.integrations
    kc, bao, lgtm = core.keycloak, core.openbao, core.lgtm
    desired_text = plan.connectors.desired_text
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
        gateway(cfg, plan.gateway, base, events),
        kg_daemon(cfg, plan.kg_daemon, base, events, lgtm.prometheus_url if lgtm else None),
        graph_os(cfg, plan.graph_os, base, mcp_auth),
    ]
    if plan.ingest is not None:
        processes.append(ingest_worker(cfg, plan.ingest, base))
    if plan.dispatch is not None:
        processes.append(dispatch_worker(cfg, plan.dispatch, base))
    if plan.webui is not None:
        processes.append(webui(cfg, plan.webui, base, kc, svc_secret))
    if plan.terminal_ui is not None:
        processes.append(terminal_ui(cfg, plan.terminal_ui))

    hosts = [p.name for p in processes if p.role == "host" and p.replicas]
    if hosts != [plan.kg_daemon.service]:
        raise TierError(f"fleet: exactly one KG host daemon must run, planned {hosts}")
    environments: dict[str, dict[str, str]] = {}
    try:
        for p in processes:
            environments[p.name] = {k: str(v) for k, v in effective(p, documents).items()}
    except EnvConflictError as e:
        raise TierError(f"fleet: refusing a conflicting env/config.json pair: {e}") from None
    for name, env in environments.items():
        if env.get("KG_DAEMON_ROLE", "client") == "host" and name != plan.kg_daemon.service:
            raise TierError(f"fleet: {name} would be a second KG host")

    return Tier(
        derived=derived,
        documents=documents,
        processes=processes,
        refs=refs,
        environments=environments,
        langfuse=langfuse,
        mcp_auth=mcp_auth,
    )
