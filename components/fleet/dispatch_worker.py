"""agent-dispatch-worker: executes agent turns from the session-keyed queue (Kafka group
`agent-dispatch`, agent_turns partitions) when agent_dispatch_backend is `queue`.
Replicas from agent-os:fleet.dispatchWorkers.replicas, else the capacity model, else 1."""

from __future__ import annotations

from ..config import StackConfig
from ..config.swarm import Layer
from .process import CLIENT_DATA_DIR, AppProcess, SecretRef, process_health

SERVICE = "agent-dispatch-worker"


def dispatch_worker(cfg: StackConfig, common: tuple[SecretRef, ...]) -> AppProcess:
    w = cfg.fleet.dispatch_workers
    flags = ("--workers", str(w.processes)) if w.processes else ()
    return AppProcess(
        name=SERVICE,
        role="client",
        program=(SERVICE, *flags),
        env={"KG_DAEMON_ROLE": "client", "AGENT_UTILITIES_DATA_DIR": CLIENT_DATA_DIR, **cfg.app.extra_env},
        secrets=common,
        networks=(Layer.AGENTS, Layer.DATA, Layer.CORE),
        resources=w.resources,
        replicas=cfg.sizing().workers_for(w.replicas),
        health=process_health(SERVICE, interval="30s", retries=3, start_period="30s"),
        stop_grace_period="120s",  # a running agent turn is allowed to finish
    )
