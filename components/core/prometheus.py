"""Prometheus: scrape config and rules from lgtm_config.py, Swarm SD through the socket."""

from __future__ import annotations

import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import BindMount, ConfigFile, HealthCheck, Platform, ServiceSpec, VolumeMount
from .lgtm_config import DOCKER_SOCKET, RULES_FILE, SCRAPED_LAYERS
from .plan import PROMETHEUS_PORT

# root (the Docker socket's owner) with nobody's group (the TSDB volume's group, writable).
USER = "0:65534"


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
        # Swarm SD reads a manager's Docker API through the socket (root:docker, 0660): uid 0
        # is its owner, so no capability is needed. The image gives /prometheus to nobody
        # (65534:65534, 0775, like prom/prometheus): primary group 65534 writes there through
        # the group bit, so no DAC_OVERRIDE either (cap_drop ALL, nothing added). A read-only
        # bind does not make the socket read-only: connect(2) ignores the mount flag, so this
        # is the whole Docker API. Running as nobody needs the host's docker gid as a
        # supplementary group, which differs per host (README: what access remains).
        binds=(BindMount(source=DOCKER_SOCKET, target=DOCKER_SOCKET, read_only=True),),
        user=USER,
        resources=lg.prometheus,
        networks=(Layer.CORE, *SCRAPED_LAYERS),
        stateful=True,
        health=HealthCheck.wget(PROMETHEUS_PORT, "/-/ready"),
        stop_grace_period="60s",
    )
