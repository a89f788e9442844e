"""agent-webui, the Fleet Supervisor (/api/fleet/*): SPA + FastAPI whose API runs as a KG
client. Browser login uses the public `agent-webui` client (auth code + PKCE); the API
calls the gateway as the `agent-webui-svc` service account. Both clients come from the
core layer; the service-account secret is a Docker secret exported to env. Routed
through Caddy only when Keycloak is on (never an unauthenticated control plane)."""

from __future__ import annotations

from ..config import StackConfig
from ..config.swarm import Layer
from ..core.outputs import KeycloakOutputs
from ..model import Placement
from .plan import GATEWAY_URL, WEBUI_HOST
from .process import CLIENT_DATA_DIR, AppProcess, SecretRef, data_env, http_health

IMAGE_KEY = "agent-webui"


def webui(
    cfg: StackConfig,
    placement: Placement,
    common: tuple[SecretRef, ...],
    keycloak: KeycloakOutputs | None,
    svc_secret: SecretRef | None,
) -> AppProcess:
    ui = cfg.fleet.webui
    oidc: dict[str, str] = {}
    if keycloak is not None:
        oidc = {
            "OIDC_ISSUER": keycloak.issuer,
            "WEBUI_OIDC_CLIENT_ID": keycloak.webui_client_id,
            "OIDC_CLIENT_ID": keycloak.webui_svc_client_id,
            "WEBUI_PUBLIC_URL": f"https://{cfg.edge.host(WEBUI_HOST)}",
        }
    return AppProcess(
        placement=placement,
        role="client",
        image_key=IMAGE_KEY,
        program=(placement.service,),
        env={
            "HOST": "0.0.0.0",
            "PORT": str(ui.port),
            "KG_DAEMON_ROLE": "client",
            "AGENT_URL": GATEWAY_URL,
            **data_env(CLIENT_DATA_DIR),
            **oidc,
            **cfg.app.extra_env,
        },
        secrets=(*common, *((svc_secret,) if svc_secret else ())),
        networks=(Layer.EDGE, Layer.AGENTS, Layer.DATA, Layer.CORE),
        resources=ui.resources,
        health=http_health(ui.port, "/health", interval="15s", retries=5, start_period="60s"),
        labels={"agent-os.kind": "ui"},
    )
