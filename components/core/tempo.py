"""Tempo: traces over OTLP (gRPC 4317, HTTP 4318), single replica with local storage."""

from __future__ import annotations

import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import ConfigFile, HealthCheck, Platform, ServiceSpec, VolumeMount
from .lgtm_config import SCRAPED_LAYERS


def tempo_spec(
    platform: Platform, lg: LgtmConfig, config: docker.ServiceConfig, placement: Placement
) -> ServiceSpec:
    return ServiceSpec(
        placement=placement,
        image=platform.image("tempo"),
        args=("-config.file=/etc/tempo/tempo.yml",),
        configs=(ConfigFile(config=config, target="/etc/tempo/tempo.yml"),),
        volumes=(VolumeMount(source=f"{platform.namespace}-tempo-data", target="/var/tempo"),),
        resources=lg.tempo,
        # OTLP senders (gateway, graph-os) sit on the agents/fleet overlays.
        networks=(Layer.CORE, *SCRAPED_LAYERS),
        stateful=True,
        health=HealthCheck(test=("CMD", "/tempo", "-version")),
    )
