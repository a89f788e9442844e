"""cAdvisor: per-container metrics, one task per node (the autoscaler's CPU signal)."""

from __future__ import annotations

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import BindMount, HealthCheck, Platform, ServiceSpec
from .lgtm_config import DOCKER_SOCKET
from .plan import CADVISOR_PORT

# (host path, container path), the upstream quick start's mounts with /var/run narrowed and
# without /dev/disk: udev makes it, a node without udev has none, and Swarm refuses a task
# whose bind source is missing. cAdvisor then names disks by major:minor instead of label.
BINDS: tuple[tuple[str, str], ...] = (
    ("/", "/rootfs"),
    (DOCKER_SOCKET, DOCKER_SOCKET),
    ("/sys", "/sys"),
    ("/var/lib/docker", "/var/lib/docker"),
)


def cadvisor_spec(platform: Platform, lg: LgtmConfig, placement: Placement) -> ServiceSpec:
    return ServiceSpec(
        placement=placement,
        image=platform.image("cadvisor"),
        # Container labels stay on (the autoscaler keys on
        # container_label_com_docker_swarm_service_name).
        args=("--docker_only=true", "--housekeeping_interval=15s", "--store_container_labels=true"),
        # Every bind read-only. Of /var/run, --docker_only needs just the Docker socket (the
        # default --docker=unix:///var/run/docker.sock; google/cadvisor#1069), not the
        # host's other runtime sockets and state. Still root-equivalent: connect(2) to the
        # socket ignores the read-only flag, and /rootfs is the host's / (recursive, so its
        # /run too) for filesystem and per-container stats (README: what access remains).
        binds=tuple(BindMount(source=src, target=dst, read_only=True) for src, dst in BINDS),
        resources=lg.exporters,
        networks=(Layer.CORE,),
        health=HealthCheck.wget(CADVISOR_PORT, "/healthz"),
    )
