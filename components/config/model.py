"""The root of the stack-config tree: everything under the `agent-os:` namespace."""

from __future__ import annotations

from pydantic import Field

from .access import AccessConfig
from .app import AppConfig, QueueBackend
from .base import ConfigModel
from .data import DataConfig
from .edge import EdgeConfig
from .images import ImagesConfig
from .integrations import Integrations
from .shards import CapacityConfig, ShardsConfig
from .swarm import SwarmConfig


class ConfigError(Exception):
    """A config problem at a key path; turned into a pulumi.RunError by the loader."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StackConfig(ConfigModel):
    swarm: SwarmConfig = SwarmConfig()
    images: ImagesConfig = ImagesConfig()
    integrations: Integrations = Integrations()
    edge: EdgeConfig = EdgeConfig()
    data: DataConfig = DataConfig()
    access: AccessConfig = AccessConfig()
    app: AppConfig = AppConfig()
    shards: ShardsConfig = ShardsConfig()
    capacity: CapacityConfig = CapacityConfig()
    # Set by the loader from the Pulumi stack name; not a config key.
    stack: str = Field(default="dev", exclude=True)

    def check_consistency(self) -> None:
        """Cross-section rules; each names the key that has to change."""
        i = self.integrations
        if self.app.task_queue_backend is QueueBackend.KAFKA and not i.kafka:
            raise ConfigError(
                "agent-os:app.taskQueueBackend",
                "is 'kafka' but agent-os:integrations.kafka is false; turn kafka on or choose 'postgres'",
            )
        if i.gitops and not i.portainer:
            raise ConfigError(
                "agent-os:integrations.gitops",
                "needs agent-os:integrations.portainer (GitOps stacks live in Portainer)",
            )
