"""Prometheus: scrape config and rules from lgtm_config.py, Swarm SD through the socket."""

from __future__ import annotations

import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import BindMount, ConfigFile, HealthCheck, Platform, ServiceSpec, VolumeMount
from .lgtm_config import DOCKER_SOCKET, RULES_FILE, SCRAPED_LAYERS
from .plan import PROMETHEUS_PORT


def prometheus_spec(
    platform: Platform,
    lg: LgtmConfig,
    config: docker.ServiceConfig,
    rules: docker.ServiceConfig,
    placement: Placement,
) -> ServiceSpec:
    return ServiceSpec(
        placement=placement,
        image=platform.image("prometheus"),
        args=(
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={lg.retention}",
            f"--web.listen-address=:{PROMETHEUS_PORT}",
        ),
        configs=(
            ConfigFile(config=config, target="/etc/prometheus/prometheus.yml"),
            ConfigFile(config=rules, target=RULES_FILE),
        ),
        volumes=(VolumeMount(source=f"{platform.namespace}-prometheus-data", target="/prometheus"),),
        # Swarm SD reads a manager's Docker API; reading the socket needs root. The image
        # owns /prometheus as nobody (65534, 0775, like prom/prometheus): root writes there
        # only with DAC_OVERRIDE (without it Prometheus panics on queries.active; found by
        # running the real binary as the program runs it, verify/images).
        binds=(BindMount(source=DOCKER_SOCKET, target=DOCKER_SOCKET),),
        user="0:0",
        cap_add=("DAC_OVERRIDE",),
        resources=lg.prometheus,
        networks=(Layer.CORE, *SCRAPED_LAYERS),
        stateful=True,
        health=HealthCheck.wget(PROMETHEUS_PORT, "/-/ready"),
        stop_grace_period="60s",
    )
