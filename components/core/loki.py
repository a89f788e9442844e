"""Loki: log store (tsdb, schema v13), single replica with a pinned volume."""

from __future__ import annotations

import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import ConfigFile, HealthCheck, Platform, ServiceSpec, VolumeMount
from .lgtm_config import SCRAPED_LAYERS


def loki_spec(
    platform: Platform, lg: LgtmConfig, config: docker.ServiceConfig, placement: Placement
) -> ServiceSpec:
    return ServiceSpec(
        placement=placement,
        image=platform.image("loki"),
        args=("-config.file=/etc/loki/loki.yml",),
        configs=(ConfigFile(config=config, target="/etc/loki/loki.yml"),),
        volumes=(VolumeMount(source=f"{platform.namespace}-loki-data", target="/loki"),),
        resources=lg.loki,
        networks=(Layer.CORE, *SCRAPED_LAYERS),
        stateful=True,
        # Minimal image: a binary self-check; Grafana's datasource shows real health.
        health=HealthCheck(test=("CMD", "/usr/bin/loki", "-version")),
    )
