"""node-exporter: host metrics, one task per node."""

from __future__ import annotations

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import BindMount, HealthCheck, Platform, ServiceSpec
from .plan import NODE_EXPORTER_PORT


def node_exporter_spec(platform: Platform, lg: LgtmConfig, placement: Placement) -> ServiceSpec:
    return ServiceSpec(
        placement=placement,
        image=platform.image("node-exporter"),
        args=(
            "--path.rootfs=/host",
            "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+)($|/)",
        ),
        binds=(BindMount(source="/", target="/host"),),
        resources=lg.exporters,
        networks=(Layer.CORE,),
        health=HealthCheck.wget(NODE_EXPORTER_PORT, "/metrics"),
    )
