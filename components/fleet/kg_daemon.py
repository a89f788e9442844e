"""The one KG host daemon: a gateway process with KG_DAEMON_ROLE=host and the in-process
host daemon (platform.md §1), not routed. Exactly one, ever: the host lock is a flock per
data volume, so the service is stateful (replicas 1, stop-first: the old task releases
the lock before the new one starts), pinned to one labelled node with its data volume.
There is no config key for its replica count, and the shared model refuses a stateful
service with more than one replica.

It is also the process that reconciles (rung e): the autonomy env goes here only, and with
`actuator: docker` the Docker socket is mounted here (and nowhere else).
"""

from __future__ import annotations

import pulumi

from ..config import StackConfig
from ..config.swarm import Layer
from ..model import Placement
from ..observability import metrics_labels
from ..swarm import BindMount, VolumeMount
from .autonomy import autonomy_env, uses_docker_socket
from .plan import APP_HEALTH_PATH, GATEWAY_PORT
from .process import HOST_DATA_DIR, AppProcess, SecretRef, data_env, http_health

ROLE = "host"
DOCKER_SOCKET_TARGET = "/var/run/docker.sock"


def kg_daemon(
    cfg: StackConfig,
    placement: Placement,
    common: tuple[SecretRef, ...],
    events_token: SecretRef,
    prometheus_url: str | None,
) -> AppProcess:
    f = cfg.fleet
    a = f.autonomy
    binds: tuple[BindMount, ...] = ()
    user = "10001:10001"
    if uses_docker_socket(a):
        assert a.docker_socket is not None
        binds = (BindMount(source=a.docker_socket, target=DOCKER_SOCKET_TARGET, read_only=False),)
        # `docker service scale|update` needs a manager's API (the plan pins it to one).
        if a.docker_socket_gid is not None:
            user = f"10001:{a.docker_socket_gid}"
        pulumi.log.warn(
            f"fleet.autonomy.actuator=docker: mounting {a.docker_socket} into {placement.service} "
            "(pinned to a manager). The fleet reconciler can now scale/update/roll back every "
            "connector service; the ActionPolicy decides what runs without approval. The image "
            "must carry the docker CLI (set agent-os:images.overrides.agent-utilities)."
        )
    return AppProcess(
        placement=placement,
        role=ROLE,
        program=("python", "-m", "agent_utilities"),
        env={
            "HOST": "0.0.0.0",
            "PORT": str(GATEWAY_PORT),
            "KG_DAEMON_ROLE": ROLE,
            # One worker: a second in-process host would hit the lock (KGHostAlreadyRunning).
            "GATEWAY_WORKERS": "1",
            # Its kg-ingest consumer pool, sized by config (else by the node's cores/memory).
            "KG_INGESTION_WORKERS": str(f.kg_daemon_ingest_workers),
            **data_env(HOST_DATA_DIR),
            **cfg.app.extra_env,
            **autonomy_env(a, prometheus_url),
        },
        # The host serves POST /api/fleet/events too: without the token it would accept any.
        secrets=(*common, events_token),
        networks=(Layer.AGENTS, Layer.DATA, Layer.CORE),
        resources=f.kg_daemon_resources,
        stateful=True,
        volumes=(VolumeMount(source=f"{cfg.swarm.namespace}-kg-daemon-data", target=HOST_DATA_DIR),),
        binds=binds,
        spread=(),
        user=user,
        stop_grace_period="60s",
        health=http_health(GATEWAY_PORT, APP_HEALTH_PATH, interval="15s", retries=5, start_period="90s"),
        labels=metrics_labels(placement.service, GATEWAY_PORT),
    )
