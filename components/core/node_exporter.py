"""node-exporter: host metrics, one task per node."""

from __future__ import annotations

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..swarm import BindMount, HealthCheck, Platform, ServiceSpec
from .lgtm_config import NODE_EXPORTER_PORT, NODE_EXPORTER_SERVICE


def node_exporter_spec(platform: Platform, lg: LgtmConfig) -> ServiceSpec:
    return ServiceSpec(
        name=NODE_EXPORTER_SERVICE,
        layer=Layer.CORE,
        image=platform.image("node-exporter"),
        args=(
            "--path.rootfs=/host",
            "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+)($|/)",
        ),
        binds=(BindMount(source="/", target="/host"),),
        resources=lg.exporters,
        networks=(Layer.CORE,),
        replicas=None,
        health=HealthCheck.wget(NODE_EXPORTER_PORT, "/metrics"),
    )
