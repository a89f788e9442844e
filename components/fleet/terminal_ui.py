"""agent-terminal-ui as a headless service: an HTTP client of the gateway (AGENT_URL),
no listener, no config.json, no secrets."""

from __future__ import annotations

from ..config import StackConfig
from ..config.swarm import Layer
from ..model import Placement
from .plan import GATEWAY_URL
from .process import AppProcess, process_health

IMAGE_KEY = "agent-terminal-ui"


def terminal_ui(cfg: StackConfig, placement: Placement) -> AppProcess:
    ui = cfg.fleet.terminal_ui
    return AppProcess(
        placement=placement,
        role="client",
        image_key=IMAGE_KEY,
        reads_config=False,
        program=(placement.service,),
        env={"AGENT_URL": GATEWAY_URL, "TERM": "dumb"},
        secrets=(),
        networks=(Layer.AGENTS,),
        resources=ui.resources,
        health=process_health(placement.service, interval="30s", retries=3, start_period="20s"),
        labels={"agent-os.kind": "ui"},
    )
