"""The REST gateway (`python -m agent_utilities`): replicated, GATEWAY_WORKERS per replica,
a KG client, load-balanced by Caddy with active health checks, every replica scraped."""

from __future__ import annotations

from ..config import StackConfig
from ..config.swarm import Layer
from ..swarm.names import GATEWAY_PORT, GATEWAY_SERVICE
from ..swarm.observability import METRICS_PATH, metrics_labels
from ..swarm.routes import Route
from .process import APP_HEALTH_PATH, CLIENT_DATA_DIR, AppProcess, SecretRef, http_health

ROUTE_HOST = "gateway"
METRICS_JOB = GATEWAY_SERVICE  # Prometheus job of every gateway replica
PROGRAM = ("python", "-m", "agent_utilities")


def gateway_route() -> Route:
    # Caddy's active check and each replica's Swarm healthcheck use the app's one health
    # route (the recipe's `health_uri /health`).
    return Route(
        host=ROUTE_HOST,
        upstreams=(f"{GATEWAY_SERVICE}:{GATEWAY_PORT}",),
        layer=Layer.AGENTS,
        health_uri=APP_HEALTH_PATH,
        private_paths=(METRICS_PATH,),
    )


def gateway(cfg: StackConfig, common: tuple[SecretRef, ...], events_token: SecretRef) -> AppProcess:
    f = cfg.fleet
    return AppProcess(
        name=GATEWAY_SERVICE,
        role="client",
        program=PROGRAM,
        env={
            "HOST": "0.0.0.0",
            "PORT": str(GATEWAY_PORT),
            "KG_DAEMON_ROLE": "client",
            "GATEWAY_WORKERS": str(f.gateway_workers),
            "AGENT_UTILITIES_DATA_DIR": CLIENT_DATA_DIR,
            **cfg.app.extra_env,
        },
        # FLEET_EVENTS_TOKEN: POST /api/fleet/events (Alertmanager, Portainer) lands here.
        secrets=(*common, events_token),
        networks=(Layer.EDGE, Layer.AGENTS, Layer.DATA, Layer.CORE),
        resources=f.gateway_resources,
        replicas=f.gateway_replicas,
        health=http_health(GATEWAY_PORT, APP_HEALTH_PATH, interval="15s", retries=5, start_period="60s"),
        labels=metrics_labels(METRICS_JOB, GATEWAY_PORT),
    )
