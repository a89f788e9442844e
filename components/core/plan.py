"""The core layer, declared (pure): OpenBao, Keycloak, Portainer and LGTM — service names,
ports, placements and HTTPS routes. Prometheus and Alertmanager have no authentication of
their own, so they are not routed: Grafana (SSO) fronts both."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.core import CoreConfig
from ..config.integrations import Integrations
from ..config.swarm import Layer
from ..model import MANAGER, Placement, Route, on_label

KEYCLOAK_SERVICE = "keycloak"
KEYCLOAK_HTTP_PORT = 8080
KEYCLOAK_MANAGEMENT_PORT = 9000
OPENBAO_PORT = 8200
OPENBAO_ALIAS = "openbao"  # every member answers to it on the overlays
PORTAINER_SERVICE = "portainer"
PORTAINER_HTTP_PORT = 9000
PORTAINER_AGENT_SERVICE = "portainer-agent"
PORTAINER_AGENT_PORT = 9001
PROMETHEUS_SERVICE = "prometheus"
PROMETHEUS_PORT = 9090
ALERTMANAGER_SERVICE = "alertmanager"
ALERTMANAGER_PORT = 9093
LOKI_SERVICE = "loki"
LOKI_PORT = 3100
TEMPO_SERVICE = "tempo"
TEMPO_HTTP_PORT = 3200
TEMPO_OTLP_GRPC_PORT = 4317
TEMPO_OTLP_HTTP_PORT = 4318
GRAFANA_SERVICE = "grafana"
GRAFANA_PORT = 3000
CADVISOR_SERVICE = "cadvisor"
CADVISOR_PORT = 8080
NODE_EXPORTER_SERVICE = "node-exporter"
NODE_EXPORTER_PORT = 9100

# Keycloak clients (the realm's; other layers name them, e.g. the route that serves a UI).
API_CLIENT = "agent-utilities"
WEBUI_CLIENT = "agent-webui"
WEBUI_SVC_CLIENT = "agent-webui-svc"
DESKTOP_CLIENT = "geniusbot"  # native app: PKCE, loopback redirect on any port (RFC 8252)
GRAFANA_CLIENT = "grafana"
PORTAINER_CLIENT = "portainer"
ALERTMANAGER_CLIENT = "alertmanager"  # client credentials: its token for the fleet events webhook

SSO_HOST = "sso"
OPENBAO_HOST = "openbao"
PORTAINER_HOST = "portainer"
GRAFANA_HOST = "grafana"
KEYCLOAK_PUBLIC_PATHS = ("/realms/", "/resources/", "/js/", "/.well-known/")
KEYCLOAK_ADMIN_PATHS = ("/admin", "/realms/master")
OPENBAO_ADMIN_PATHS = ("/ui", "/v1/sys")
# Healthy for Caddy = answering and not sealed (uninitialised counts, so init can go through).
OPENBAO_HEALTH_URI = "/v1/sys/health?standbyok=true&perfstandbyok=true&uninitcode=200"


@dataclass(frozen=True)
class LgtmPlan:
    node_exporter: Placement
    cadvisor: Placement
    prometheus: Placement
    alertmanager: Placement
    loki: Placement
    tempo: Placement
    grafana: Placement

    @property
    def placements(self) -> tuple[Placement, ...]:
        return (
            self.node_exporter,
            self.cadvisor,
            self.prometheus,
            self.alertmanager,
            self.loki,
            self.tempo,
            self.grafana,
        )


@dataclass(frozen=True)
class CorePlan:
    keycloak: Placement | None
    openbao: tuple[Placement, ...]  # the Raft members, each pinned by its number
    portainer_agent: Placement | None
    portainer: Placement | None
    lgtm: LgtmPlan | None
    routes: tuple[Route, ...]

    @property
    def placements(self) -> tuple[Placement, ...]:
        out: list[Placement] = []
        if self.keycloak:
            out.append(self.keycloak)
        out += self.openbao
        if self.portainer_agent and self.portainer:
            out += [self.portainer_agent, self.portainer]
        if self.lgtm:
            out += self.lgtm.placements
        return tuple(out)


def _lgtm(node_label: str) -> LgtmPlan:
    pin = on_label(node_label)
    return LgtmPlan(
        node_exporter=Placement(NODE_EXPORTER_SERVICE, Layer.CORE, replicas=None),
        cadvisor=Placement(CADVISOR_SERVICE, Layer.CORE, replicas=None),
        # Swarm service discovery needs a manager's Docker API.
        prometheus=Placement(PROMETHEUS_SERVICE, Layer.CORE, (MANAGER, pin), pinned=True),
        alertmanager=Placement(ALERTMANAGER_SERVICE, Layer.CORE, (pin,), pinned=True),
        loki=Placement(LOKI_SERVICE, Layer.CORE, (pin,), pinned=True),
        tempo=Placement(TEMPO_SERVICE, Layer.CORE, (pin,), pinned=True),
        grafana=Placement(GRAFANA_SERVICE, Layer.CORE, (pin,), pinned=True),
    )


def core_plan(core: CoreConfig, on: Integrations) -> CorePlan:
    # Keycloak is stateless (JDBC_PING cluster), spread over nodes by its spread preference.
    keycloak = (
        Placement(KEYCLOAK_SERVICE, Layer.CORE, replicas=core.keycloak.replicas) if on.keycloak else None
    )
    b = core.openbao
    openbao = tuple(
        Placement(name, Layer.CORE, (on_label(b.node_label, str(n)),), pinned=True)
        for n, name in enumerate(b.member_names, start=1)
    )
    portainer = Placement(
        PORTAINER_SERVICE, Layer.CORE, (MANAGER, on_label(core.portainer.node_label)), pinned=True
    )
    agent = Placement(PORTAINER_AGENT_SERVICE, Layer.CORE, ("node.platform.os==linux",), replicas=None)
    lgtm = _lgtm(core.lgtm.node_label) if on.lgtm else None
    routes: list[Route] = []
    if keycloak:
        routes.append(
            Route(
                host=SSO_HOST,
                upstreams=(keycloak.at(KEYCLOAK_HTTP_PORT),),
                layer=Layer.CORE,
                health_uri="/health/ready",
                health_port=KEYCLOAK_MANAGEMENT_PORT,
                # The world reaches the realms' login, token and discovery endpoints and
                # their static files; the admin console, the admin API and the master realm
                # (where the bootstrap admin signs in) only from the allow-list.
                public_paths=KEYCLOAK_PUBLIC_PATHS,
                admin_paths=KEYCLOAK_ADMIN_PATHS,
            )
        )
    if on.openbao:
        routes.append(
            Route(
                host=OPENBAO_HOST,
                upstreams=tuple(m.at(OPENBAO_PORT) for m in openbao),
                layer=Layer.CORE,
                health_uri=OPENBAO_HEALTH_URI,
                admin_paths=OPENBAO_ADMIN_PATHS,  # the UI and the system backend
            )
        )
    if on.portainer:
        routes.append(
            Route(
                host=PORTAINER_HOST,
                upstreams=(portainer.at(PORTAINER_HTTP_PORT),),
                layer=Layer.CORE,
                health_uri="/api/system/status",
                public_paths=(),  # all of Portainer drives the Docker engines: admin only
            )
        )
    if lgtm:
        routes.append(
            Route(
                host=GRAFANA_HOST,
                upstreams=(lgtm.grafana.at(GRAFANA_PORT),),
                layer=Layer.CORE,
                health_uri="/api/health",
            )
        )
    return CorePlan(
        keycloak=keycloak,
        openbao=openbao if on.openbao else (),
        portainer_agent=agent if on.portainer else None,
        portainer=portainer if on.portainer else None,
        lgtm=lgtm,
        routes=tuple(routes),
    )
