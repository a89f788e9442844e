"""The core layer's HTTPS routes (pure; from config alone). Prometheus and Alertmanager have
no authentication of their own, so they are not routed: Grafana (SSO) fronts both."""

from __future__ import annotations

from ..config import StackConfig
from ..config.swarm import Layer
from ..swarm.names import KEYCLOAK_HTTP_PORT, KEYCLOAK_MANAGEMENT_PORT, KEYCLOAK_SERVICE, OPENBAO_PORT
from ..swarm.routes import Route

SSO_HOST = "sso"
OPENBAO_HOST = "openbao"
PORTAINER_HOST = "portainer"
GRAFANA_HOST = "grafana"
PORTAINER_SERVICE = "portainer"
PORTAINER_HTTP_PORT = 9000
GRAFANA_SERVICE = "grafana"
GRAFANA_PORT = 3000
# Healthy for Caddy = answering and not sealed (uninitialised counts, so init can go through).
OPENBAO_HEALTH_URI = "/v1/sys/health?standbyok=true&perfstandbyok=true&uninitcode=200"


def core_routes(cfg: StackConfig) -> list[Route]:
    i = cfg.integrations
    routes: list[Route] = []
    if i.keycloak:
        routes.append(
            Route(
                host=SSO_HOST,
                upstreams=(f"{KEYCLOAK_SERVICE}:{KEYCLOAK_HTTP_PORT}",),
                layer=Layer.CORE,
                health_uri="/health/ready",
                health_port=KEYCLOAK_MANAGEMENT_PORT,
            )
        )
    if i.openbao:
        routes.append(
            Route(
                host=OPENBAO_HOST,
                upstreams=tuple(f"{m}:{OPENBAO_PORT}" for m in cfg.core.openbao.member_names),
                layer=Layer.CORE,
                health_uri=OPENBAO_HEALTH_URI,
            )
        )
    if i.portainer:
        routes.append(
            Route(
                host=PORTAINER_HOST,
                upstreams=(f"{PORTAINER_SERVICE}:{PORTAINER_HTTP_PORT}",),
                layer=Layer.CORE,
                health_uri="/api/system/status",
            )
        )
    if i.lgtm:
        routes.append(
            Route(
                host=GRAFANA_HOST,
                upstreams=(f"{GRAFANA_SERVICE}:{GRAFANA_PORT}",),
                layer=Layer.CORE,
                health_uri="/api/health",
            )
        )
    return routes
