"""agent-terminal-ui as a headless service: an HTTP client of the gateway (AGENT_URL),
no listener, no config.json, no secrets."""

from __future__ import annotations

from ..config import StackConfig
from ..config.swarm import Layer
from ..swarm.names import GATEWAY_PORT, GATEWAY_SERVICE
from .process import AppProcess, process_health

SERVICE = "agent-terminal-ui"
IMAGE_KEY = "agent-terminal-ui"


def terminal_ui(cfg: StackConfig) -> AppProcess:
    ui = cfg.fleet.terminal_ui
    return AppProcess(
        name=SERVICE,
        role="client",
        image_key=IMAGE_KEY,
        reads_config=False,
        program=(SERVICE,),
        env={"AGENT_URL": f"http://{GATEWAY_SERVICE}:{GATEWAY_PORT}", "TERM": "dumb"},
        secrets=(),
        networks=(Layer.AGENTS,),
        resources=ui.resources,
        replicas=ui.replicas,
        health=process_health(SERVICE, interval="30s", retries=3, start_period="20s"),
        labels={"agent-os.kind": "ui"},
    )
