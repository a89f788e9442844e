"""cAdvisor: per-container metrics, one task per node (the autoscaler's CPU signal)."""

from __future__ import annotations

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import BindMount, HealthCheck, Platform, ServiceSpec
from .plan import CADVISOR_PORT


def cadvisor_spec(platform: Platform, lg: LgtmConfig, placement: Placement) -> ServiceSpec:
    return ServiceSpec(
        placement=placement,
        image=platform.image("cadvisor"),
        # Container labels stay on (the autoscaler keys on
        # container_label_com_docker_swarm_service_name).
        args=("--docker_only=true", "--housekeeping_interval=15s", "--store_container_labels=true"),
        binds=(
            BindMount(source="/", target="/rootfs"),
            BindMount(source="/var/run", target="/var/run"),
            BindMount(source="/sys", target="/sys"),
            BindMount(source="/var/lib/docker", target="/var/lib/docker"),
            BindMount(source="/dev/disk", target="/dev/disk"),
        ),
        resources=lg.exporters,
        networks=(Layer.CORE,),
        health=HealthCheck.wget(CADVISOR_PORT, "/healthz"),
    )
