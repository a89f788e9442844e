"""graph-os (MCP server + fleet multiplexer) over streamable-http on /mcp. It reaches each
connector through FLEET_MCP_URL_TEMPLATE (config.json), so it joins the fleet overlay."""

from __future__ import annotations

from collections.abc import Mapping

from ..config import StackConfig
from ..config.swarm import Layer
from ..model import Placement
from .plan import APP_HEALTH_PATH, GRAPH_OS_PORT
from .process import CLIENT_DATA_DIR, AppProcess, SecretRef, data_env, http_health

TRANSPORT = "streamable-http"


def graph_os(
    cfg: StackConfig, placement: Placement, common: tuple[SecretRef, ...], mcp_auth: Mapping[str, str]
) -> AppProcess:
    f = cfg.fleet
    return AppProcess(
        placement=placement,
        role="client",
        program=("graph-os", "--transport", TRANSPORT, "--host", "0.0.0.0", "--port", str(GRAPH_OS_PORT)),
        env={
            "HOST": "0.0.0.0",
            "PORT": str(GRAPH_OS_PORT),
            "TRANSPORT": TRANSPORT,
            "KG_DAEMON_ROLE": "client",
            **data_env(CLIENT_DATA_DIR),
            **mcp_auth,
            **cfg.app.extra_env,
        },
        secrets=common,
        networks=(Layer.EDGE, Layer.AGENTS, Layer.DATA, Layer.CORE, Layer.FLEET),
        resources=f.graph_os_resources,
        health=http_health(GRAPH_OS_PORT, APP_HEALTH_PATH, interval="15s", retries=5, start_period="60s"),
    )
