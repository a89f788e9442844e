"""The fleet layer, declared (pure): the agent-utilities tier's service names, ports,
placements and routes, the connector fleet from the registry (parsed here, once), and what
the tier hands Prometheus and Alertmanager."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import StackConfig
from ..config.model import ConfigError
from ..config.swarm import Layer
from ..core.plan import WEBUI_CLIENT
from ..model import MANAGER, Placement, Route, on_label
from ..observability import METRICS_PATH, AlertRule, Telemetry
from .autonomy import uses_docker_socket
from .registry import Connector, Registry, load_registry
from .registry import apply_desired_state as _apply_desired_state

PROJECT_DIR = Path(__file__).resolve().parents[2]

GATEWAY_SERVICE = "agent-gateway"
GATEWAY_PORT = 9000
GRAPH_OS_SERVICE = "graph-os"
GRAPH_OS_PORT = 8004
KG_DAEMON_SERVICE = "kg-daemon"
INGEST_SERVICE = "kg-ingest-worker"
DISPATCH_SERVICE = "agent-dispatch-worker"
WEBUI_SERVICE = "agent-webui"
TERMINAL_UI_SERVICE = "agent-terminal-ui"
FLEET_EVENTS_PATH = "/api/fleet/events"
GATEWAY_URL = f"http://{GATEWAY_SERVICE}:{GATEWAY_PORT}"  # in-cluster, on the agents overlay
METRICS_JOB = GATEWAY_SERVICE  # Prometheus job of every gateway replica

GATEWAY_HOST = "gateway"
GRAPH_OS_HOST = "graph-os"
WEBUI_HOST = "fleet"
# The one health route every agent-utilities HTTP process serves (0.50.0 to 1.26.4): 200
# while the process serves. There is no /health/ready. tests/fleet/test_fleet_app_routes.py
# reads the pinned package's route tables.
APP_HEALTH_PATH = "/health"


class PlanError(ConfigError):
    """The fleet cannot be planned from this config (registry, images, names)."""


@dataclass(frozen=True)
class ConnectorPlan:
    """The connector fleet: the registry as read, the selected entries with their resolved
    images, and the desired-state file's text (mounted for the app) when there is one."""

    registry: Registry
    selected: tuple[Connector, ...]
    images: dict[str, str]  # service name -> image reference (mirror applied)
    desired_text: str | None
    placements: dict[str, Placement]

    @property
    def identities(self) -> list[tuple[str, str]]:
        """(service name, registry image) of every connector (GitOps must not rerun them)."""
        return [(c.name, c.image) for c in self.selected]


@dataclass(frozen=True)
class FleetPlan:
    gateway: Placement
    kg_daemon: Placement
    graph_os: Placement
    ingest: Placement | None
    dispatch: Placement | None
    webui: Placement | None
    terminal_ui: Placement | None
    connectors: ConnectorPlan
    routes: tuple[Route, ...]
    telemetry: Telemetry

    @property
    def processes(self) -> tuple[Placement, ...]:
        optional = (self.ingest, self.dispatch, self.webui, self.terminal_ui)
        return (self.gateway, self.kg_daemon, self.graph_os, *(p for p in optional if p))

    @property
    def placements(self) -> tuple[Placement, ...]:
        return (*self.processes, *self.connectors.placements.values())


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (PROJECT_DIR / p).resolve()


def plan_connectors(cfg: StackConfig) -> tuple[Registry, list[Connector], str | None]:
    """Registry -> desired state -> profile. Raises RegistryError naming file and entry."""
    f = cfg.fleet
    registry = load_registry(_resolve(f.registry_path))
    desired_text: str | None = None
    if f.desired_state_path:
        registry, desired_text = _apply_desired_state(registry, _resolve(f.desired_state_path))
    return registry, registry.select(f.profile), desired_text


def _is_latest(ref: str) -> bool:
    last = ref.rsplit("/", 1)[-1]
    return "@" not in ref and (last.endswith(":latest") or ":" not in last)


def _connectors(cfg: StackConfig) -> ConnectorPlan:
    f = cfg.fleet
    registry, selected, desired_text = plan_connectors(cfg)
    unknown = sorted(set(f.connector_secrets) - {c.name for c in selected})
    if unknown:
        raise PlanError(
            "agent-os:fleet.connectorSecrets",
            f"{', '.join(unknown)} not deployed by this stack (profile {f.profile!r})",
        )
    images = {
        c.name: cfg.images.resolve(c.image_ref(str(registry.defaults.get("image_registry", ""))))
        for c in selected
    }
    latest = sorted(n for n, ref in images.items() if _is_latest(ref))
    if latest and not cfg.images.allow_latest_connectors:
        raise PlanError(
            "agent-os:images.allowLatestConnectors",
            f"fleet registry {registry.path}: {len(latest)} connector image(s) are ':latest' "
            f"({', '.join(latest[:5])}{', ...' if len(latest) > 5 else ''}); set it true, or pin "
            "each `version` in the desired-state file (agent-os:fleet.desiredStatePath)",
        )
    label = (on_label(f.connector_node_label),) if f.connector_node_label else ()
    return ConnectorPlan(
        registry=registry,
        selected=tuple(selected),
        images=images,
        desired_text=desired_text,
        placements={
            c.name: Placement(c.name, Layer.FLEET, label, replicas=c.deployed_replicas) for c in selected
        },
    )


def _routes(
    cfg: StackConfig, gateway: Placement, graph_os: Placement, webui: Placement | None
) -> tuple[Route, ...]:
    def app_route(host: str, process: Placement, port: int) -> Route:
        # Caddy's active check and each replica's Swarm healthcheck use the app's one health
        # route (the recipe's `health_uri /health`); /metrics stays in-cluster.
        return Route(
            host=host,
            upstreams=(process.at(port),),
            layer=Layer.AGENTS,
            health_uri=APP_HEALTH_PATH,
            private_paths=(METRICS_PATH,),
        )

    # graph-os is routed so MCP clients outside the swarm (IDEs, geniusbot) reach /mcp with a JWT.
    routes = [
        app_route(GATEWAY_HOST, gateway, GATEWAY_PORT),
        app_route(GRAPH_OS_HOST, graph_os, GRAPH_OS_PORT),
    ]
    # The webui is routed only when Keycloak is on (never an unauthenticated control plane).
    if webui is not None and cfg.integrations.keycloak:
        routes.append(
            Route(
                host=WEBUI_HOST,
                upstreams=(webui.at(cfg.fleet.webui.port),),
                layer=Layer.AGENTS,
                health_uri="/health",
                login_client=WEBUI_CLIENT,
            )
        )
    return tuple(routes)


def _telemetry() -> Telemetry:
    """Alert rules for the tier; gateway replicas and the daemon are scraped through the
    metrics service labels (components/observability.py). Alertmanager posts every
    alert to the gateway's fleet events webhook."""
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
        ),
        webhook=f"{GATEWAY_URL}{FLEET_EVENTS_PATH}?source=alertmanager",
    )


def fleet_plan(cfg: StackConfig) -> FleetPlan:
    f, sizing = cfg.fleet, cfg.sizing()
    daemon = [on_label(f.kg_daemon_node_label)]
    if uses_docker_socket(f.autonomy):
        daemon.append(MANAGER)  # `docker service` needs a manager's API
    # Stateless processes spread over nodes (spread=node.id); the KG host daemon is the
    # singleton holding the host lock on its volume: pinned, at most one per node.
    gateway = Placement(GATEWAY_SERVICE, Layer.AGENTS, replicas=f.gateway_replicas)
    graph_os = Placement(GRAPH_OS_SERVICE, Layer.AGENTS, replicas=f.graph_os_replicas)
    webui = Placement(WEBUI_SERVICE, Layer.AGENTS, replicas=f.webui.replicas) if f.webui.enabled else None
    plan = FleetPlan(
        gateway=gateway,
        kg_daemon=Placement(
            KG_DAEMON_SERVICE, Layer.AGENTS, tuple(daemon), max_replicas_per_node=1, pinned=True
        ),
        graph_os=graph_os,
        ingest=(
            Placement(INGEST_SERVICE, Layer.AGENTS, replicas=sizing.workers_for(f.ingest_workers.replicas))
            if cfg.app.task_queue_backend.value == "kafka"
            else None
        ),
        dispatch=(
            Placement(
                DISPATCH_SERVICE, Layer.AGENTS, replicas=sizing.workers_for(f.dispatch_workers.replicas)
            )
            if cfg.app.agent_dispatch_backend.value == "queue"
            else None
        ),
        webui=webui,
        terminal_ui=(
            Placement(TERMINAL_UI_SERVICE, Layer.AGENTS, replicas=f.terminal_ui.replicas)
            if f.terminal_ui.enabled
            else None
        ),
        connectors=_connectors(cfg),
        routes=_routes(cfg, gateway, graph_os, webui),
        telemetry=_telemetry(),
    )
    names = [p.service for p in plan.processes] + [c.name for c in plan.connectors.selected]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise PlanError(
            "agent-os:fleet.registryPath",
            f"fleet registry {plan.connectors.registry.path}: service name(s) {clash} are taken by the tier",
        )
    return plan
