"""kg-ingest-worker: the Kafka consumer fleet of group `kg-ingest` (kg_tasks partitions).
Replicas from agent-os:fleet.ingestWorkers.replicas, else the capacity model, else 1."""

from __future__ import annotations

from ..config import StackConfig
from ..model import Placement
from .process import AppProcess, SecretRef, consumer_fleet


def ingest_worker(cfg: StackConfig, placement: Placement, common: tuple[SecretRef, ...]) -> AppProcess:
    # Finish the claimed batch, then commit offsets.
    return consumer_fleet(cfg, placement, cfg.fleet.ingest_workers, common, stop_grace_period="60s")
