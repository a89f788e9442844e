"""What a layer's builders may read: the context every layer shares (names, networks,
images, rollout settings, how the operator's machine reaches admin APIs), plus that layer's
own config section. No builder sees the whole stack config."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pulumi
import pulumi_docker as docker

from ..config import StackConfig
from ..config.access import AccessConfig, Trust
from ..config.core import CoreConfig
from ..config.data import DataConfig
from ..config.edge import EdgeConfig
from ..config.images import ImagesConfig
from ..config.integrations import Integrations
from ..config.shards import ShardsConfig
from ..config.swarm import Layer, SwarmConfig
from .objects import hashed_config, hashed_secret


@dataclass(frozen=True, kw_only=True)
class Platform:
    stack: str
    swarm: SwarmConfig  # namespace, rollout (endpoint mode, converge timeout), overlays
    images: ImagesConfig
    networks: dict[Layer, docker.Network]
    # How the machine running `pulumi up` reaches the admin APIs (through Caddy by default).
    edge: EdgeConfig
    access: AccessConfig
    trust: Trust
    stack_root_file: str  # where the stack's Caddy root certificate is written

    @staticmethod
    def of(cfg: StackConfig, networks: dict[Layer, docker.Network]) -> Platform:
        return Platform(
            stack=cfg.stack,
            swarm=cfg.swarm,
            images=cfg.images,
            networks=networks,
            edge=cfg.edge,
            access=cfg.access,
            trust=cfg.trust,
            stack_root_file=cfg.stack_root_file,
        )

    def shared(self) -> dict[str, object]:
        """The shared fields, to build a layer's platform from."""
        return {f.name: getattr(self, f.name) for f in fields(Platform)}

    @property
    def namespace(self) -> str:
        return self.swarm.namespace

    def image(self, key: str) -> str:
        return self.images.ref(key)

    def config_file(self, logical: str, content: str, parent: pulumi.Resource) -> docker.ServiceConfig:
        return hashed_config(self.namespace, logical, content, pulumi.ResourceOptions(parent=parent))

    def secret(self, logical: str, value: pulumi.Input[str], parent: pulumi.Resource) -> docker.Secret:
        return hashed_secret(self.namespace, logical, value, pulumi.ResourceOptions(parent=parent))


@dataclass(frozen=True, kw_only=True)
class DataPlatform(Platform):
    data: DataConfig

    @staticmethod
    def on(platform: Platform, data: DataConfig) -> DataPlatform:
        return DataPlatform(**platform.shared(), data=data)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class CorePlatform(Platform):
    core: CoreConfig
    integrations: Integrations

    @staticmethod
    def on(platform: Platform, core: CoreConfig, integrations: Integrations) -> CorePlatform:
        return CorePlatform(**platform.shared(), core=core, integrations=integrations)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class ShardsPlatform(Platform):
    shards: ShardsConfig

    @staticmethod
    def on(platform: Platform, shards: ShardsConfig) -> ShardsPlatform:
        return ShardsPlatform(**platform.shared(), shards=shards)  # type: ignore[arg-type]
