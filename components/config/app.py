"""agent-utilities switches (config.json values mapped to stack config)."""

from __future__ import annotations

from enum import StrEnum

from .base import ConfigModel


class QueueBackend(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"
    KAFKA = "kafka"


class DispatchBackend(StrEnum):
    INLINE = "inline"
    QUEUE = "queue"


class AppConfig(ConfigModel):
    task_queue_backend: QueueBackend = QueueBackend.KAFKA
    agent_dispatch_backend: DispatchBackend = DispatchBackend.QUEUE
