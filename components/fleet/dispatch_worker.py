"""agent-dispatch-worker: executes agent turns from the session-keyed queue (Kafka group
`agent-dispatch`, agent_turns partitions) when agent_dispatch_backend is `queue`.
Replicas from agent-os:fleet.dispatchWorkers.replicas, else the capacity model, else 1."""

from __future__ import annotations

from ..config import StackConfig
from ..model import Placement
from .process import AppProcess, SecretRef, consumer_fleet


def dispatch_worker(cfg: StackConfig, placement: Placement, common: tuple[SecretRef, ...]) -> AppProcess:
    # A running agent turn is allowed to finish.
    return consumer_fleet(cfg, placement, cfg.fleet.dispatch_workers, common, stop_grace_period="120s")
