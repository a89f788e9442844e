"""The REST gateway (`python -m agent_utilities`): replicated, GATEWAY_WORKERS per replica,
a KG client, load-balanced by Caddy with active health checks, every replica scraped."""

from __future__ import annotations

from ..config import StackConfig
from ..config.swarm import Layer
from ..model import Placement
from ..observability import metrics_labels
from .plan import APP_HEALTH_PATH, GATEWAY_PORT, METRICS_JOB
from .process import CLIENT_DATA_DIR, AppProcess, SecretRef, data_env, http_health

PROGRAM = ("python", "-m", "agent_utilities")


def gateway(
    cfg: StackConfig, placement: Placement, common: tuple[SecretRef, ...], events_token: SecretRef
) -> AppProcess:
    f = cfg.fleet
    return AppProcess(
        placement=placement,
        role="client",
        program=PROGRAM,
        env={
            "HOST": "0.0.0.0",
            "PORT": str(GATEWAY_PORT),
            "KG_DAEMON_ROLE": "client",
            "GATEWAY_WORKERS": str(f.gateway_workers),
            **data_env(CLIENT_DATA_DIR),
            **cfg.app.extra_env,
        },
        # FLEET_EVENTS_TOKEN: POST /api/fleet/events (Alertmanager, Portainer) lands here.
        secrets=(*common, events_token),
        networks=(Layer.EDGE, Layer.AGENTS, Layer.DATA, Layer.CORE),
        resources=f.gateway_resources,
        health=http_health(GATEWAY_PORT, APP_HEALTH_PATH, interval="15s", retries=5, start_period="60s"),
        labels=metrics_labels(METRICS_JOB, GATEWAY_PORT),
    )
