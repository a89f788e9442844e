"""kg-ingest-worker: the Kafka consumer fleet of group `kg-ingest` (kg_tasks partitions).
Replicas from agent-os:fleet.ingestWorkers.replicas, else the capacity model, else 1."""

from __future__ import annotations

from ..config import StackConfig
from .process import AppProcess, SecretRef, consumer_fleet

SERVICE = "kg-ingest-worker"


def ingest_worker(cfg: StackConfig, common: tuple[SecretRef, ...]) -> AppProcess:
    # Finish the claimed batch, then commit offsets.
    return consumer_fleet(cfg, SERVICE, cfg.fleet.ingest_workers, common, stop_grace_period="60s")
