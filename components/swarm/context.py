"""What every layer needs to build services: config, networks, and naming helpers."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..config import StackConfig
from ..config.swarm import Layer
from .objects import hashed_config, hashed_secret


@dataclass(frozen=True)
class Platform:
    cfg: StackConfig
    networks: dict[Layer, docker.Network]

    @property
    def namespace(self) -> str:
        return self.cfg.swarm.namespace

    def image(self, key: str) -> str:
        return self.cfg.images.ref(key)

    def config_file(self, logical: str, content: str, parent: pulumi.Resource) -> docker.ServiceConfig:
        return hashed_config(self.namespace, logical, content, pulumi.ResourceOptions(parent=parent))

    def secret(self, logical: str, value: pulumi.Input[str], parent: pulumi.Resource) -> docker.Secret:
        return hashed_secret(self.namespace, logical, value, pulumi.ResourceOptions(parent=parent))
